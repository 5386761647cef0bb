"""`clause why` and `clause why-not`: explanations a practitioner can follow."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from cli.app import (EXIT_NO, fail_on_domain_errors, load_policy, main, parse_at, policy_option, profile_option,
                     redact_option, show_notes, write_output)

common = [
    click.argument("input_path", metavar="CASE", type=click.Path()),
    click.option("--child", required=True, help="The child's id."),
    click.option("--action", required=True, help="The action, e.g. strategy_discussion."),
    click.option("--episode", help="Only this episode."),
    policy_option,
    click.option("--at", "at_text", metavar="TIME", help="Evaluate as at this London time (default: the case's as_of; now for bulk)."),
    click.option("--format", "fmt", type=click.Choice(["text", "json", "html"]), default="text", show_default=True),
    click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to a file instead of stdout."),
    profile_option,
    redact_option,
]


def with_common(fn):
    for option in reversed(common):
        fn = option(fn)
    return fn


def _ask(input_path, policy_path, at_text, child, action, episode, redact, profile="auto"):
    from engine.explain.inquiry import inquire
    from engine.output.redact import KEY_WARNING, key_is_default
    from facts.loader import load_path
    if redact and key_is_default():
        click.echo(KEY_WARNING, err=True)
    loaded = load_path(input_path, child, profile)
    show_notes(loaded.notes)
    if loaded.bulk is not None:  # never silent: what was checked, and what was not
        if redact:  # the child's id, and the folder's path, which may name the child as a case file's may
            rows, command = "this child's rows of the folder", "clause obligations on the folder"
        else:
            rows, command = f"child {child}'s rows of {input_path}", f"clause obligations {input_path}"
        click.echo(f"read and checked only {rows}; the other rows were not checked ({command} checks them all)",
                   err=True)
        if not loaded.bulk.children and (Path(input_path) / "children.csv").is_file():  # not there: the nearest ids
            from engine.explain.inquiry import no_such_child
            from facts.bulk import child_ids
            raise no_such_child(input_path, child, child_ids(input_path), redact)
    return inquire(load_policy(policy_path), loaded, input_path, child, action, episode, parse_at(at_text), redact)


def _render(trees, fmt: str, title: str, output: str | None, redact: bool) -> None:
    """Dates of birth are hidden by the renderer when redacting (child ids already are, in the facts)."""
    from engine.explain import render as r
    births = not redact
    if fmt == "json":
        text = r.as_json(trees, births)
    elif fmt == "html":
        text = r.as_html(trees, title, births)
    else:
        text = r.as_text(trees, births)
    write_output(text, output)


@main.command()
@with_common
@fail_on_domain_errors
def why(input_path, child, action, episode, policy_path, at_text, fmt, output, profile, redact) -> None:
    """Why the child has this obligation: the clause, its source sentence and the facts that matched."""
    from engine.explain.inquiry import why_trees
    found = _ask(input_path, policy_path, at_text, child, action, episode, redact, profile)
    trees = why_trees(found, child, action, episode, redact)
    who = "this child" if redact else child
    if not trees:
        click.echo(f"{who} has no {action} obligation; ask why not: clause why-not with the same options", err=True)
        sys.exit(EXIT_NO)
    _render(trees, fmt, f"Why {action} for {who}", output, redact)


@main.command(name="why-not")
@with_common
@fail_on_domain_errors
def why_not(input_path, child, action, episode, policy_path, at_text, fmt, output, profile, redact) -> None:
    """Why the child does not have this obligation: each clause that could create it, nearest miss first."""
    from engine.explain.inquiry import why_not_trees
    found = _ask(input_path, policy_path, at_text, child, action, episode, redact, profile)
    trees = why_not_trees(found, child, action, episode, redact)
    _render(trees, fmt, f"Why not {action} for {'this child' if redact else child}", output, redact)
