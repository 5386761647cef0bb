"""`clause report`: compliance with the procedure over a period (engine/compliance.py)."""
from __future__ import annotations

from datetime import date

import click

from cli.app import fail_on_domain_errors, load_policy, main, parse_at, policy_option, redact_option, write_output


def _day(ctx: click.Context, param: click.Parameter, value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"expected a date as YYYY-MM-DD, got {value!r}") from None


@main.command()
@click.argument("input_path", metavar="DATA", type=click.Path())
@click.option("--from", "start", required=True, callback=_day, metavar="DATE", help="First day of the period (YYYY-MM-DD).")
@click.option("--to", "end", required=True, callback=_day, metavar="DATE", help="Last day of the period, included.")
@click.option("--at", "at_text", metavar="TIME", help="Judge the duties as at this London time (default: the end of the period, or now if sooner).")
@policy_option
@click.option("--format", "fmt", type=click.Choice(["html", "csv", "json"]), default="html", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to a file instead of stdout.")
@redact_option
@fail_on_domain_errors
def report(input_path: str, start: date, end: date, at_text: str | None, policy_path: str | None, fmt: str,
           output: str | None, redact: bool) -> None:
    """Duties that arose in a period, by action, clause and actor: on time, late, overdue; trend, measures."""
    from engine.backends import is_bulk_folder
    from engine.compliance import compute, merge_cases
    from engine.output.report import FORMATS
    if end < start:
        raise click.BadParameter(f"the period ends ({end}) before it starts ({start})", param_hint="--to")
    policy = load_policy(policy_path)
    rename = rename_episode = None
    if redact:
        from engine.output.redact import KEY_WARNING, episode_pseudonym, key_is_default, pseudonym
        if key_is_default():
            click.echo(KEY_WARNING, err=True)
        rename, rename_episode = pseudonym, episode_pseudonym
    from facts.extracts import extract_of
    extract = extract_of(input_path, "auto")
    if extract is not None:  # SSD or SSDA903 tables, read by DuckDB with their profile
        facts = extract
    elif is_bulk_folder(input_path):
        facts = input_path
    else:
        from facts.loader import load_path
        facts = merge_cases(load_path(input_path).cases)
    result = compute(policy, facts, start, end, parse_at(at_text), rename, rename_episode)
    from engine.backends import later_episodes
    from cli.app import show_notes
    show_notes(later_episodes(result.later, input_path, result.at))
    write_output(FORMATS[fmt](result), output)
