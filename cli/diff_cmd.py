"""`clause diff`: how a policy change alters the obligations of the regression cases.

--base is a policy folder or a git revision (the head folder as it was at that
revision, in the git repository that holds the head folder); --head is a policy
folder (default: the policy discovered as every command finds it, cli/app.py).
Exit 0 whatever the differences (with --exit-code: 1 when any obligation changed, as
`git diff --exit-code`); 2 on invalid input (policy, cases, revision).
"""
from __future__ import annotations

import sys
from contextlib import ExitStack
from pathlib import Path

import click

from cli.app import EXIT_NO, fail_on_domain_errors, main, policy_folder, redact_option, write_output
from cli.test_cmd import default_paths, load_regression_cases


@main.command("diff")
@click.option("--base", "base", metavar="FOLDER_OR_REVISION",
              help="The old policy: a folder, or a git revision such as HEAD~1 (default: the head policy, "
                   "with --base-date/--head-date).")
@click.option("--head", "head", type=click.Path(file_okay=False), metavar="FOLDER",
              help="The new policy folder (default: the nearest policy/ from the current folder up, else the bundled one).")
@click.argument("paths", nargs=-1, metavar="[CASES_OR_FOLDERS]...", type=click.Path())
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to a file instead of stdout.")
@click.option("--base-date", "base_date", type=click.DateTime(["%Y-%m-%d"]), metavar="DATE",
              help="Judge the base's episodes by the clauses in force on DATE (versions: 'in force from').")
@click.option("--head-date", "head_date", type=click.DateTime(["%Y-%m-%d"]), metavar="DATE",
              help="Judge the head's episodes by the clauses in force on DATE.")
@click.option("--exit-code", "exit_code", is_flag=True, help="Exit 1 when any obligation changed (for CI).")
@click.option("--engine", type=click.Choice(["auto", "pydatalog", "duckdb"]), default="auto", show_default=True,
              help="duckdb: all cases in one DuckDB pass per policy; pydatalog: case by case (always, with dates); "
                   "auto: by the cases' episodes.")
@redact_option
@fail_on_domain_errors
def diff(base: str | None, head: str | None, paths: tuple[str, ...], fmt: str, output: str | None,
         base_date, head_date, exit_code: bool, engine: str, redact: bool) -> None:
    """Obligations added, removed or changed between two policies, per case (default: tests/cases)."""
    from compiler.cache import load_policy_cached
    from engine.regression import diff as d
    paths = default_paths(paths)
    head_dir = policy_folder(head)
    if base is None and base_date is None and head_date is None:
        raise click.UsageError("give --base (a policy folder or revision), or --base-date and --head-date")
    with ExitStack() as stack:
        if base is None:
            base_dir, base = head_dir, f"{head or 'working policy'}"
        elif Path(base).is_dir():
            base_dir = Path(base)
        elif Path(base).exists():
            raise click.BadParameter(f"{base} is a file; give a policy folder or a git revision", param_hint="--base")
        else:
            base_dir = stack.enter_context(d.policy_at_revision(base, head_dir))
        base_policy = load_policy_cached(Path(base_dir))  # each compiled once, from the cache when unchanged
        head_policy = load_policy_cached(Path(head_dir))
        cases = load_regression_cases(paths)
        base_day = base_date.date() if base_date else None
        head_day = head_date.date() if head_date else None
        result = d.diff_policies(base_policy, head_policy, cases,
                                 base + (f" as on {base_day}" if base_day else ""),
                                 (head or "working policy") + (f" as on {head_day}" if head_day else ""),
                                 base_day, head_day, engine)
    if redact:
        from engine.output.redact import KEY_WARNING, key_is_default, redact_diff
        if key_is_default():
            click.echo(KEY_WARNING, err=True)
        result = redact_diff(result)
    render = {"text": d.render_text, "json": d.render_json, "markdown": d.render_markdown}[fmt]
    write_output(render(result), output)
    if exit_code and result.affected:
        sys.exit(EXIT_NO)
