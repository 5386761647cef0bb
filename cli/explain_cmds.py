"""`clause why` and `clause why-not`: explanations a practitioner can follow."""
from __future__ import annotations

import difflib
import sys

import click

from cli.app import EXIT_NO, fail_on_domain_errors, load_policy, main, parse_at, policy_option, redact_option, write_output
from compiler.diagnostics import ClauseError, Span, error

common = [
    click.argument("input_path", metavar="CASE", type=click.Path()),
    click.option("--child", required=True, help="The child's id."),
    click.option("--action", required=True, help="The action, e.g. strategy_discussion."),
    click.option("--episode", help="Only this episode."),
    policy_option,
    click.option("--at", "at_text", metavar="TIME", help="Evaluate as at this London time (default: the case's as_of; now for bulk)."),
    click.option("--format", "fmt", type=click.Choice(["text", "json", "html"]), default="text", show_default=True),
    click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to a file instead of stdout."),
    redact_option,
]


def with_common(fn):
    for option in reversed(common):
        fn = option(fn)
    return fn


def _evaluations(input_path: str, policy_path: str | None, at_text: str | None, child: str, action: str):
    """Each run holding the child, re-evaluated for that child alone (same answers, less work)."""
    from engine import evaluate
    from engine.batch import now
    from facts.loader import load_path
    from compiler import ast, vocabulary
    policy = load_policy(policy_path)
    at = parse_at(at_text)
    loaded = load_path(input_path)
    runs = [(c.name, c.facts, at or c.as_of) for c in loaded.cases] or [("bulk", loaded.bulk, at or now())]
    found = [(name, evaluate(policy, facts.for_child(child), when)) for name, facts, when in runs
             if any(c.id == child for c in facts.children)]
    if not found:
        raise ClauseError([error("X001", Span(input_path), f"no child '{child}' in {input_path}",
                                 "give the id as written in the case file or children.csv")])
    known = set(vocabulary.ACTIONS) | {d.name.value for d in policy.ast.items(ast.Declaration) if d.kind == "action"}
    if action not in known:
        close = difflib.get_close_matches(action, sorted(known), n=1)
        raise ClauseError([error("X002", Span(input_path), f"unknown action '{action}'",
                                 f"did you mean '{close[0]}'?" if close else "see the vocabulary")])
    return found


def _render(trees, fmt: str, title: str, output: str | None, found, redact: bool) -> None:
    from engine import explain_render as r
    from engine.redact import redactor
    text = {"text": r.as_text, "json": r.as_json}.get(fmt, lambda t: r.as_html(t, title))(trees)
    write_output(text, output, redactor([e.facts for _, e in found]) if redact else None)


@main.command()
@with_common
@fail_on_domain_errors
def why(input_path, child, action, episode, policy_path, at_text, fmt, output, redact) -> None:
    """Why the child has this obligation: the clause, its source sentence and the facts that matched."""
    from engine.explain import why as explain
    trees = []
    found = _evaluations(input_path, policy_path, at_text, child, action)
    for _, evaluation in found:
        trees += [explain(evaluation, o) for o in evaluation.obligations
                  if o.child == child and o.action == action and (episode is None or o.episode == episode)]
    if not trees:
        click.echo(f"{child} has no {action} obligation; try: clause why-not {input_path} --child {child} --action {action}", err=True)
        sys.exit(EXIT_NO)
    _render(trees, fmt, f"Why {action} for {'this child' if redact else child}", output, found, redact)


@main.command(name="why-not")
@with_common
@fail_on_domain_errors
def why_not(input_path, child, action, episode, policy_path, at_text, fmt, output, redact) -> None:
    """Why the child does not have this obligation: each clause that could create it, nearest miss first."""
    from engine.explain import why_not as explain
    found = _evaluations(input_path, policy_path, at_text, child, action)
    trees = [explain(evaluation, child, action, episode) for _, evaluation in found]
    _render(trees, fmt, f"Why not {action} for {'this child' if redact else child}", output, found, redact)
