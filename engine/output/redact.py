"""Stable pseudonyms for children, their episodes and case names in everything Clause prints (`--redact`).

Children and episodes are pseudonymised in the facts, before evaluation, so every output
(obligations, explanations, reports, in any format, escaped or not) carries only
`child-` or `episode-` and ten hex digits: an HMAC of the id keyed by CLAUSE_REDACT_KEY, the same
in every run; a case's name (which may name the child) becomes `case-` and ten hex digits, and the path
of each file a fact or a case is cited from `file-` and ten hex digits, with the file's extension. Dates
of birth appear in output only in explanations, whose renderers leave them out when told to
(engine/explain/render.py, `births=False`): no text is rewritten.
"""
from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path, PurePath

from compiler.core.diagnostics import Span
from compiler.core.privacy import DEFAULT_KEY, pseudonym  # noqa: F401 - one HMAC for data and diagnostics
from facts.model import Case, FactSet
from facts.yamlcase import InvalidCase
KEY_WARNING = ("warning: CLAUSE_REDACT_KEY is not set, so pseudonyms use a public key: "
               "anyone can recompute them from guessable ids. Set a secret key for records that leave the team.")


def key_is_default() -> bool:
    return not os.environ.get("CLAUSE_REDACT_KEY")


def episode_pseudonym(value: str | None) -> str | None:
    """An episode id's pseudonym (None, a duty about the child, stays None)."""
    return None if value is None else pseudonym(value, kind="episode")


def case_pseudonym(name: str) -> str:
    return pseudonym(name, kind="case")


def hidden_file(path: str) -> str:
    """A facts file as redacted output cites it: `file-` and ten hex digits, with its extension (the path
    may name the child, `cases/jane-smith.yaml`); the line and column cited with it are kept."""
    return pseudonym(path, kind="file") + PurePath(path).suffix if path else path


def _hide(span: Span) -> Span:
    return replace(span, file=hidden_file(span.file))


def _hide_all(spans: tuple[tuple[str, Span], ...]) -> tuple[tuple[str, Span], ...]:
    return tuple((name, _hide(span)) for name, span in spans)


def pseudonymise(facts: FactSet) -> FactSet:
    """The same facts with every child id and every episode id replaced by its pseudonym, and every
    file they cite (explanations show each fact's file and line) by `hidden_file`."""
    def held(records: tuple) -> tuple:
        return tuple(replace(h, span=_hide(h.span)) for h in records)
    return FactSet(
        tuple(replace(c, id=pseudonym(c.id), span=_hide(c.span), field_spans=_hide_all(c.field_spans),
                      statuses=held(c.statuses), flags=held(c.flags)) for c in facts.children),
        tuple(replace(e, id=pseudonym(e.id, kind="episode"), child=pseudonym(e.child), span=_hide(e.span),
                      field_spans=_hide_all(e.field_spans)) for e in facts.episodes),
        tuple(replace(a, child=pseudonym(a.child), episode=episode_pseudonym(a.episode), span=_hide(a.span))
              for a in facts.actions),
    )


def redact_obligation(o):
    return replace(o, child=pseudonym(o.child), episode=episode_pseudonym(o.episode) if o.episode else o.episode)


def redact_runs(runs: list) -> list:
    """(Run, obligations) pairs with every child and episode id, and each case's name, pseudonymised:
    for outputs built after evaluation (the order stays that of the real ids, as DuckDB's does)."""
    out = []
    for run, obligations in runs:
        episodes = tuple(replace(e, id=pseudonym(e.id, kind="episode"), child=pseudonym(e.child))
                         for e in run.evaluation.episodes)
        run = replace(run, name=run.name if run.case is None else case_pseudonym(run.name),
                      evaluation=replace(run.evaluation, episodes=episodes))
        out.append((run, [redact_obligation(o) for o in obligations]))
    return out


def redact_diff(d):
    """A `PolicyDiff` with every obligation's child and episode, and every case's name and file, pseudonymised."""
    def ob(o):
        return None if o is None else redact_obligation(o)
    return replace(d, cases=tuple(replace(c, case=case_pseudonym(c.case), file=hidden_file(c.file),
                                          changes=tuple(replace(ch, base=ob(ch.base), head=ob(ch.head))
                                                        for ch in c.changes)) for c in d.cases))


def redact_case(case: Case | InvalidCase) -> Case | InvalidCase:
    """A regression `Case` with its name, its file (cited by its result, each failure, JUnit and diff),
    children, episodes and the expectations naming them pseudonymised; an `InvalidCase` with its file
    hidden where the report names it and where its diagnostics cite it (the report is what leaves the
    team; the person fixing the file runs without --redact)."""
    if isinstance(case, InvalidCase):
        return replace(case, path=Path(hidden_file(str(case.path))), diagnostics=tuple(
            replace(d, span=_hide(d.span), related=tuple(_hide(r) for r in d.related)) for d in case.diagnostics))

    def entry(e: dict, episode_key: str) -> dict:
        e = dict(e, child=pseudonym(str(e["child"]))) if "child" in e else dict(e)
        if e.get(episode_key) is not None:
            e[episode_key] = pseudonym(str(e[episode_key]), kind="episode")
        return e

    def entries(items, episode_key="episode"):
        return tuple((entry(e, episode_key), _hide(span)) for e, span in items)
    expect = replace(case.expect, obligations=entries(case.expect.obligations),
                     not_obligations=entries(case.expect.not_obligations), episodes=entries(case.expect.episodes, "id"))
    return replace(case, name=case_pseudonym(case.name), facts=pseudonymise(case.facts), expect=expect,
                   span=_hide(case.span))
