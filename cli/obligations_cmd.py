"""`clause obligations`: what is required now, for every child in the input."""
from __future__ import annotations

import click

from cli.app import fail_on_domain_errors, load_policy, main, parse_at, policy_option, redact_option, write_output


@main.command()
@click.argument("input_path", metavar="CASE_OR_FOLDER", type=click.Path())
@policy_option
@click.option("--at", "at_text", metavar="TIME", help="Evaluate as at this London time (default: each case's as_of; now for bulk).")
@click.option("--child", help="Only this child's obligations.")
@click.option("--status", type=click.Choice(["pending", "overdue", "done", "done_late"]), help="Only obligations with this status.")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to a file instead of stdout.")
@redact_option
@fail_on_domain_errors
def obligations(input_path: str, policy_path: str | None, at_text: str | None, child: str | None,
                status: str | None, fmt: str, output: str | None, redact: bool) -> None:
    """What is required now, for every child in a case file, a folder of cases or a CSV extract."""
    from engine import render
    from engine.batch import run_input
    from facts.loader import load_path
    at = parse_at(at_text)
    policy = load_policy(policy_path)
    from engine.redact import KEY_WARNING, key_is_default, redact_runs
    runs = [(r, r.obligations(child=child, status=status)) for r in run_input(policy, load_path(input_path), at)]
    if redact:
        if key_is_default():
            click.echo(KEY_WARNING, err=True)
        runs = redact_runs(runs)
    write_output({"table": render.table, "json": render.as_json, "csv": render.as_csv}[fmt](runs), output)
