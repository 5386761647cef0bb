"""Upcoming duties: what will arise within a horizon if nothing changes (the children stay missing).

Input: a compiled policy, facts, the evaluation time T, a horizon in minutes and the engine.
Output: `Obligation`s with status `upcoming`, in output order: each a duty (occurrence) absent at
T that arises at a moment in (T, T + horizon], with the actor who will hold it then.

How: the facts as known at T (episodes reported by T, a return after T not happened, no
recorded action) are evaluated as at each candidate moment M of each episode: every `from`
moment of the policy and every "has lasted" threshold of its conditions, counted from the
report (and from a return that has happened), and T + horizon itself. A duty is taken from the
earliest candidate at which it has arisen after T, so the rules are read as they will stand at
that moment: "72 hours after reported falls on a weekend" gives the out-of-hours team leader.
Both engines run the same candidates, so their answers are the same as their evaluations are.
Invariant: nothing from the future of T is used but the passing of time.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import datetime

from compiler import ast
from compiler.core.london import utc
from compiler.policy import CompiledPolicy
from engine.meaning.base_facts import add_minutes
from engine.meaning.obligations import Obligation
from facts.model import FactSet


def _lasted(condition: object) -> set[int]:
    """The minutes after the report at which each "has lasted" condition starts to hold."""
    if isinstance(condition, ast.Lasted):
        return {condition.duration.minutes + (1 if condition.strictly_more else 0)}
    if isinstance(condition, ast.Not):
        return _lasted(condition.operand)
    if isinstance(condition, (ast.And, ast.Or)):
        return set().union(*(_lasted(c) for c in condition.operands))
    return set()


def offsets(policy: CompiledPolicy) -> dict[str, set[int]]:
    """Minutes after `reported` and after `returned` at which a duty may arise or a condition change."""
    out: dict[str, set[int]] = {"reported": {0}, "returned": {0}}
    for clause in policy.program.clauses.values():
        out["reported"] |= _lasted(clause.when)
        for c in clause.then:
            if isinstance(c, ast.Obligation) and c.timing.start is not None:
                out[c.timing.start.anchor].add(c.timing.start.minutes)
    return out


def as_known(facts: FactSet, at: datetime) -> FactSet:
    """The facts as known at `at`: no later episode, return or recorded action."""
    episodes = tuple(e if e.returned is None or utc(e.returned) <= utc(at) else replace(e, returned=None)
                     for e in facts.episodes if utc(e.reported) <= utc(at))
    return FactSet(facts.children, episodes, ())


def candidates(facts: FactSet, at: datetime, end: datetime, policy: CompiledPolicy) -> dict[str, list[datetime]]:
    """Each child's candidate moments in (at, end], in time order, `end` last."""
    shifts = offsets(policy)
    out: dict[str, set[datetime]] = defaultdict(set)
    for e in facts.episodes:
        for anchor, base in (("reported", e.reported), ("returned", e.returned)):
            for minutes in shifts[anchor] if base is not None else ():
                moment = add_minutes(base, minutes)
                if utc(at) < utc(moment) <= utc(end):
                    out[e.child].add(moment)
    for c in facts.children:
        out[c.id].add(end)
    return {child: sorted(moments, key=utc) for child, moments in out.items()}


def _evaluate(policy: CompiledPolicy, facts: FactSet, times: dict[str, datetime], engine: str) -> list[Obligation]:
    """The obligations of every child in `times`, each child judged as at its own time."""
    if engine == "duckdb":
        from engine.backends.duck import evaluate_duck
        part = FactSet(tuple(c for c in facts.children if c.id in times), tuple(e for e in facts.episodes if e.child in times), ())
        ev = evaluate_duck(policy, part, next(iter(times.values())), child_times=times)
        try:
            return [o for o in ev.obligations if o.child in times]
        finally:
            ev.close()
    from engine.evaluation import evaluate
    by_time: dict[datetime, list[str]] = defaultdict(list)
    for child, moment in times.items():
        by_time[moment].append(child)
    out: list[Obligation] = []
    for moment, children in by_time.items():
        keep = set(children)
        part = FactSet(tuple(c for c in facts.children if c.id in keep), tuple(e for e in facts.episodes if e.child in keep), ())
        out.extend(evaluate(policy, part, moment).obligations)
    return out


def _key(o: Obligation) -> tuple:
    return (o.child, o.episode, o.action, o.actor, o.occurrence, utc(o.triggered) if o.triggered else None)


def upcoming(policy: CompiledPolicy, facts: FactSet, at: datetime, horizon_minutes: int,
             arisen: list[Obligation], engine: str = "pydatalog") -> list[Obligation]:
    """The duties that will arise in (at, at + horizon]; `arisen`: the evaluation's own obligations at `at`."""
    known = as_known(facts, at)
    end = add_minutes(at, horizon_minutes)
    moments = candidates(known, at, end, policy)
    seen = {_key(o) for o in arisen}
    found: dict[tuple, Obligation] = {}
    for r in range(max((len(m) for m in moments.values()), default=0)):
        times = {child: m[r] for child, m in moments.items() if r < len(m)}
        for o in _evaluate(policy, known, times, engine):
            k = _key(o)
            if o.triggered is not None and utc(o.triggered) > utc(at) and k not in seen and k not in found:
                found[k] = replace(o, status="upcoming", done_at=None, open_for=None)
    return sorted(found.values(), key=Obligation.sort_key)


def with_upcoming(policy: CompiledPolicy, facts: FactSet, at: datetime, horizon_minutes: int | None,
                  arisen: list[Obligation], engine: str) -> list[Obligation]:
    """`arisen` and, with a horizon, the upcoming duties, in output order."""
    if not horizon_minutes:
        return arisen
    return sorted([*arisen, *upcoming(policy, facts, at, horizon_minutes, arisen, engine)], key=Obligation.sort_key)


def parse_horizon(text: str) -> int | None:
    """'7d', '48h', '90m' -> minutes; None when the text is not one of these."""
    units = {"d": 1440, "h": 60, "m": 1}
    if len(text) < 2 or text[-1] not in units or not text[:-1].isdigit() or len(text) > 8:
        return None
    return int(text[:-1]) * units[text[-1]] if int(text[:-1]) > 0 else None

