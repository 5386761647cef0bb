"""`clause test`: run regression cases against the policy; optionally JUnit XML and coverage.

Exit codes: 0 every case passed (and coverage is not under --fail-under);
1 a case failed or coverage is under --fail-under; 2 invalid input (the policy, or
some case files: those are reported as errors, in the JUnit file too, after the
other cases have run).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from cli.app import EXIT_INVALID, EXIT_NO, fail_on_domain_errors, load_policy, main, policy_option, redact_option, write_output

DEFAULT_CASES = Path("tests") / "cases"


def default_paths(paths: tuple[str, ...]) -> tuple[str, ...]:
    """The paths given, else tests/cases when it exists; a usage error (exit 2) otherwise."""
    if paths:
        return paths
    if DEFAULT_CASES.is_dir():
        return (str(DEFAULT_CASES),)
    raise click.UsageError(f"give case files or folders (there is no {DEFAULT_CASES} folder here)")


def no_case_files(paths: tuple[str, ...]) -> None:
    """ClauseError when a path does not exist (F011: a mistake on the command line, not in a case
    file) or the paths hold no case file at all (F012)."""
    from compiler.core.diagnostics import ClauseError, Span, error
    from facts.yamlcase import case_files
    missing = [p for p in paths if not Path(p).exists()]
    if missing:
        raise ClauseError([error("F011", Span(p), f"no such file or folder: {p}") for p in missing])
    if not case_files(paths):
        raise ClauseError([error("F012", Span(p), f"{p} holds no case files (*.yaml, *.yml)",
                                 "give a case file or a folder of case files") for p in paths])


def load_regression_cases(paths: tuple[str, ...]) -> list:
    """Case files and folders -> Cases; ClauseError (F011/F012, case problems) when any is invalid."""
    from facts.yamlcase import load_cases
    no_case_files(paths)
    return load_cases(paths)


@main.command("test")
@click.argument("paths", nargs=-1, metavar="[CASES_OR_FOLDERS]...", type=click.Path())
@policy_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--junit", "junit", type=click.Path(dir_okay=False), metavar="FILE", help="Also write JUnit XML to FILE.")
@click.option("--coverage", "show_coverage", is_flag=True, help="Report which clauses and conditions the cases exercise.")
@click.option("--fail-under", "fail_under", type=click.FloatRange(0, 100), metavar="N",
              help="Fail (exit 1) when clause coverage is under N percent.")
@click.option("--fail-under-checked", "fail_under_checked", type=click.FloatRange(0, 100), metavar="N",
              help="Fail (exit 1) when fewer than N percent of clauses are checked by some expectation.")
@click.option("-k", "patterns", multiple=True, metavar="PATTERN",
              help="Only cases whose name or file contains PATTERN (case-insensitive; repeat for any of several).")
@click.option("--strict", is_flag=True, help="A case that expects nothing (it can never fail) is an error.")
@click.option("-v", "--verbose", is_flag=True, help="List passing cases too (text format).")
@click.option("--engine", type=click.Choice(["auto", "pydatalog", "duckdb"]), default="auto", show_default=True,
              help="duckdb: every case in one DuckDB pass, pyDatalog only to explain failures; pydatalog: case by "
                   "case; auto: by the cases' episodes. With coverage: case by case, by the reference interpreter (pydatalog: by pyDatalog).")
@redact_option
@fail_on_domain_errors
def run_tests(paths: tuple[str, ...], policy_path: str | None, fmt: str, junit: str | None,
              show_coverage: bool, fail_under: float | None, fail_under_checked: float | None,
              patterns: tuple[str, ...], strict: bool, verbose: bool, engine: str, redact: bool) -> None:
    """Check regression cases (default: tests/cases). Exit 1 if any case fails, 2 if any case file is invalid."""
    from engine.regression.coverage import Coverage, render_text
    from compiler.core.files import write_atomic
    from engine.regression.suite import Suite, junit_xml, suite_text
    from engine.regression.suite import load_suite_cases
    paths = default_paths(paths)
    policy = load_policy(policy_path)
    no_case_files(paths)
    cases = load_suite_cases(policy, paths, patterns, strict)
    if not cases:  # before anything is printed: "0 passed, 0 failed" would read as a pass
        click.echo(f"no case matches -k {' '.join(patterns)}", err=True)
        sys.exit(EXIT_INVALID)
    if redact:
        from engine.output.redact import KEY_WARNING, key_is_default, redact_case
        if key_is_default():
            click.echo(KEY_WARNING, err=True)
        cases = [redact_case(c) for c in cases]
    wants_coverage = show_coverage or fail_under is not None or fail_under_checked is not None
    coverage = Coverage(policy) if wants_coverage else None
    suite = Suite.run(policy, cases, coverage.observe if coverage else None, births=not redact, engine=engine)
    for name in suite.disagreed:
        click.echo(f"warning: case '{name}' failed on {'the reference interpreter' if coverage else 'DuckDB'} "
                   "but pyDatalog passes it; pyDatalog's result is shown (the engines should agree: please report this)",
                   err=True)
    report = coverage.report() if coverage else None
    if junit:
        write_atomic(Path(junit), junit_xml(suite))
    if fmt == "json":
        data = suite.to_json()
        if report is not None and show_coverage:
            data["coverage"] = report.to_json()
        write_output(json.dumps(data, indent=2, ensure_ascii=False) + "\n", None)
    else:
        text = suite_text(suite, verbose)
        if report is not None and show_coverage:
            text += "\n" + render_text(report)
        write_output(text, None)
    under = False
    if report is not None and report.fails_under(fail_under):
        click.echo(f"clause coverage {report.clause_percent:.1f}% is under the required {fail_under:g}%", err=True)
        under = True
    if report is not None and report.fails_under(fail_under_checked, checked=True):
        click.echo(f"checked clauses {report.checked_percent:.1f}% is under the required {fail_under_checked:g}%", err=True)
        under = True
    sys.exit(EXIT_INVALID if suite.errors else EXIT_NO if not suite.ok or under else 0)
