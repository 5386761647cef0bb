"""Stable pseudonyms for children in everything Clause prints (`--redact`).

Children are pseudonymised in the facts, before evaluation, so every output
(obligations, explanations, reports, in any format, escaped or not) carries only
`child-` and ten hex digits: an HMAC of the id keyed by CLAUSE_REDACT_KEY, the same
in every run. Dates of birth appear in output only in explanations, whose renderers
leave them out when told to (engine/explain/render.py, `births=False`): no text is rewritten.
"""
from __future__ import annotations

import os
from dataclasses import replace

from compiler.core.privacy import DEFAULT_KEY, pseudonym  # noqa: F401 - one HMAC for data and diagnostics
from facts.model import FactSet
KEY_WARNING = ("warning: CLAUSE_REDACT_KEY is not set, so pseudonyms use a public key: "
               "anyone can recompute them from guessable ids. Set a secret key for records that leave the team.")


def key_is_default() -> bool:
    return not os.environ.get("CLAUSE_REDACT_KEY")


def pseudonymise(facts: FactSet) -> FactSet:
    """The same facts with every child id replaced by its pseudonym."""
    return FactSet(
        tuple(replace(c, id=pseudonym(c.id)) for c in facts.children),
        tuple(replace(e, child=pseudonym(e.child)) for e in facts.episodes),
        tuple(replace(a, child=pseudonym(a.child)) for a in facts.actions),
    )


def redact_runs(runs: list) -> list:
    """(Run, obligations) pairs with every child id pseudonymised: for outputs built after evaluation."""
    out = []
    for run, obligations in runs:
        episodes = tuple(replace(e, child=pseudonym(e.child)) for e in run.evaluation.episodes)
        run = replace(run, evaluation=replace(run.evaluation, episodes=episodes))
        out.append((run, [replace(o, child=pseudonym(o.child)) for o in obligations]))
    return out


def redact_diff(d):
    """A `PolicyDiff` with every obligation's child pseudonymised."""
    def ob(o):
        return None if o is None else replace(o, child=pseudonym(o.child))
    return replace(d, cases=tuple(replace(c, changes=tuple(replace(ch, base=ob(ch.base), head=ob(ch.head))
                                                           for ch in c.changes)) for c in d.cases))


def redact_case(case):
    """A regression `Case` with its children, and the expectations naming them, pseudonymised."""
    def entries(items):
        return tuple((dict(e, child=pseudonym(str(e["child"]))) if "child" in e else e, span) for e, span in items)
    expect = replace(case.expect, obligations=entries(case.expect.obligations),
                     not_obligations=entries(case.expect.not_obligations))
    return replace(case, facts=pseudonymise(case.facts), expect=expect)
