"""`clause test`: run regression cases against the policy; optionally JUnit XML and coverage.

Exit codes: 0 every case passed (and coverage is not under --fail-under);
1 a case failed or coverage is under --fail-under; 2 invalid input (policy or
case files: diagnostics on stderr).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from cli.app import EXIT_NO, fail_on_domain_errors, load_policy, main, policy_option, redact_option, write_output

DEFAULT_CASES = Path("tests") / "cases"


def default_paths(paths: tuple[str, ...]) -> tuple[str, ...]:
    """The paths given, else tests/cases when it exists; a usage error (exit 2) otherwise."""
    if paths:
        return paths
    if DEFAULT_CASES.is_dir():
        return (str(DEFAULT_CASES),)
    raise click.UsageError(f"give case files or folders (there is no {DEFAULT_CASES} folder here)")


def load_regression_cases(paths: tuple[str, ...]) -> list:
    """Case files and folders -> Cases; ClauseError (F011/F012, case problems) when there is nothing valid."""
    from compiler.core.diagnostics import ClauseError, Span, error
    from facts.yamlcase import case_files, load_cases
    if not case_files(paths):
        raise ClauseError([error("F012", Span(p), f"{p} holds no case files (*.yaml, *.yml)",
                                 "give a case file or a folder of case files") for p in paths])
    return load_cases(paths)


@main.command("test")
@click.argument("paths", nargs=-1, metavar="[CASES_OR_FOLDERS]...", type=click.Path())
@policy_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--junit", "junit", type=click.Path(dir_okay=False), metavar="FILE", help="Also write JUnit XML to FILE.")
@click.option("--coverage", "show_coverage", is_flag=True, help="Report which clauses and conditions the cases exercise.")
@click.option("--fail-under", "fail_under", type=click.FloatRange(0, 100), metavar="N",
              help="Fail (exit 1) when clause coverage is under N percent.")
@click.option("-v", "--verbose", is_flag=True, help="List passing cases too (text format).")
@redact_option
@fail_on_domain_errors
def run_tests(paths: tuple[str, ...], policy_path: str | None, fmt: str, junit: str | None,
              show_coverage: bool, fail_under: float | None, verbose: bool, redact: bool) -> None:
    """Check regression cases (default: tests/cases). Exit 1 if any case fails."""
    from engine.regression.coverage import Coverage, render_text
    from compiler.core.files import write_atomic
    from engine.regression.suite import Suite, junit_xml, suite_text
    paths = default_paths(paths)
    policy = load_policy(policy_path)
    cases = load_regression_cases(paths)
    if redact:
        from engine.output.redact import KEY_WARNING, key_is_default, redact_case
        if key_is_default():
            click.echo(KEY_WARNING, err=True)
        cases = [redact_case(c) for c in cases]
    coverage = Coverage(policy) if show_coverage or fail_under is not None else None
    suite = Suite.run(policy, cases, coverage.observe if coverage else None, births=not redact)
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
    under = report is not None and report.fails_under(fail_under)
    if under:
        click.echo(f"clause coverage {report.clause_percent:.1f}% is under the required {fail_under:g}%", err=True)
    sys.exit(EXIT_NO if not suite.ok or under else 0)
