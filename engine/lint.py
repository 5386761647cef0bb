"""Cross-clause analysis: where two clauses disagree about one situation, and dead exceptions.

Input: a `CompiledPolicy` (each clause's cases and overriders read from its normal forms,
`policy.normal`). Output: warnings, each naming both clauses:
  W104  two clauses create the same action for one situation with different actors
        or due times; the warning carries a small example case (built from both
        clauses' conditions, then evaluated to prove both obligations arise), so a
        warning is never shown without a real example;
  W105  an exception that can never apply (its conditions contradict every case of
        the clause it overrides).
A declared `overlaps` between the two clauses acknowledges a W104 (W102 instead).
"""
from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta
from typing import Iterator

from compiler import ast
from compiler.core.diagnostics import Diagnostic, warning
from compiler.core.vocabulary import HOME_AUTHORITY
from compiler.logic import Conjunction, satisfiable
from compiler.policy import CompiledPolicy
from engine.evaluation import evaluate
from engine.meaning.base_facts import add_minutes
from facts.model import Child, Episode, FactSet
from compiler.core.london import LONDON, falls_off, format_instant

BASE = datetime(2024, 3, 4, 9, 0, tzinfo=LONDON)  # a Monday morning


def _due(o: ast.Obligation) -> tuple:
    t = o.timing
    return (t.immediately, t.due_after.minutes if t.due_after else None, str(t.due_anchor) if t.due_anchor else None)


def _declared(clause: ast.Clause) -> set[str]:
    return {x.value for o in clause.overlaps for x in o.others}


def _pairs(policy: CompiledPolicy) -> Iterator[tuple[ast.Clause, ast.Obligation, ast.Clause, ast.Obligation]]:
    obligations = [(n.clause, o) for n in policy.normal.values() for o in n.obligations]
    for (a, oa), (b, ob) in itertools.combinations(sorted(obligations, key=lambda x: x[0].id.value), 2):
        if a is b or oa.action.value != ob.action.value or "consider" in (oa.modality.value, ob.modality.value):
            continue  # a consideration is not a conflicting duty
        if b.id.value in _declared(a) or a.id.value in _declared(b):
            continue
        if {x.value for x in oa.actors} != {x.value for x in ob.actors} or _due(oa) != _due(ob):
            yield a, oa, b, ob


def example(conj: Conjunction, timings: list[ast.Timing]) -> tuple[FactSet, datetime] | None:
    """Facts satisfying one conjunction (as far as construction can tell), and a time to judge them."""
    pos = [a for neg, a in conj if not neg]
    negs = [a for neg, a in conj if neg]
    age_lo, age_hi, el_lo, el_hi, count = 0, 17, 0, 60 * 24 * 60, 1
    for neg, a in conj:
        if isinstance(a, ast.Age):
            under = (a.side == "under") != neg
            years = a.years if not neg else (a.years + 1 if a.side == "under" else a.years - 1)
            age_lo, age_hi = (age_lo, min(age_hi, years)) if under else (max(age_lo, years), age_hi)
        elif isinstance(a, ast.Lasted):
            m = a.duration.minutes + (1 if a.strictly_more else 0)
            el_lo, el_hi = (el_lo, min(el_hi, m - 1)) if neg else (max(el_lo, m), el_hi)
        elif isinstance(a, ast.Window) and not neg:
            count = max(count, a.count)
    age = min(max(15, age_lo), age_hi)
    needed = max([t.start.minutes for t in timings if t.start and t.start.anchor == "reported"] + [0])
    elapsed = max(el_lo, min(needed + 1, el_hi))
    if age_lo > age_hi or el_lo > el_hi:
        return None
    statuses = sorted({a.status.value for a in pos if isinstance(a, ast.HasStatus)})
    if any(isinstance(a, ast.NoStatus) for a in negs) and not statuses:
        statuses = ["early_help"]
    fields = {"placed_in": "liverpool", "responsible_authority": HOME_AUTHORITY}
    for a in pos:
        if isinstance(a, ast.ChildField):
            fields[a.field.value] = a.value.value
    for a in negs:
        if isinstance(a, ast.ChildField) and fields[a.field.value] == a.value.value:
            fields[a.field.value] = "merseyside" if a.field.value == "placed_in" else "wirral"
    flags = sorted({a.flag.value for a in pos if isinstance(a, ast.HasFlag)})
    episode = {name: True for a in pos if isinstance(a, ast.EpisodeField) and a.value is None
               for name in [a.field.value] if name not in ("police_risk", "inspector_risk")}
    for a in pos:
        if isinstance(a, ast.EpisodeField) and a.value is not None:
            episode[a.field.value] = a.value.value
        elif isinstance(a, ast.EpisodeField) and a.field.value in ("police_risk", "inspector_risk"):
            episode[a.field.value] = "medium"
        elif isinstance(a, ast.WindowFlag):
            episode[a.flag.value] = True  # this episode is in its own window
        elif isinstance(a, ast.Risk):
            episode["police_risk"] = a.level.value
        elif isinstance(a, ast.Category):
            episode["whereabouts_known"] = a.category.value == "absent"
    returned = any(isinstance(a, ast.Returned) for a in pos) or any(
        t.start and t.start.anchor == "returned" for t in timings)
    calendar = [(neg, a) for neg, a in conj if isinstance(a, ast.OffDay)]
    reported = next((BASE + timedelta(hours=h) for h in range(24 * 60) if all(
        _off_day(BASE + timedelta(hours=h), elapsed, returned, a) != neg for neg, a in calendar)), None)
    if reported is None:
        return None
    back = add_minutes(reported, elapsed) if returned else None
    after = max([t.start.minutes for t in timings if t.start and t.start.anchor == "returned"] + [0])
    at = add_minutes(back, after + 1) if back else add_minutes(reported, elapsed)
    born = date(reported.year - age - 1, reported.month, 1) + timedelta(days=40)
    if born > reported.date().replace(year=reported.year - age):
        born = reported.date().replace(year=reported.year - age, day=1)
    child = Child("C1", born, tuple(statuses), tuple(flags), fields["responsible_authority"], fields["placed_in"])
    earlier = tuple(Episode(f"E0{i}", "C1", add_minutes(reported, -60 * (i + 1)), add_minutes(reported, -60 * i - 30))
                    for i in range(1, count))
    main = Episode("E1", "C1", reported, back, **{k: v for k, v in episode.items()})
    return FactSet((child,), earlier + (main,)), at


def _off_day(reported: datetime, elapsed: int, returned: bool, a: ast.OffDay) -> bool:
    anchor = reported if a.moment.anchor == "reported" else (add_minutes(reported, elapsed) if returned else None)
    if anchor is None:
        return False
    moment = add_minutes(anchor, a.moment.minutes)
    return falls_off(moment, a.holidays)


def _describe(facts: FactSet, at: datetime) -> str:
    c = facts.children[0]
    e = facts.episodes[-1]
    bits = [f"a child born {c.born.isoformat()}", f"statuses [{', '.join(c.status_names)}]"]
    bits += [f"flags [{', '.join(c.flag_names)}]"] if c.flags else []
    bits += [f"placed in {c.placed_in}"] if c.placed_in != "liverpool" else []
    bits += [f"responsible authority {c.responsible_authority}"] if c.responsible_authority != HOME_AUTHORITY else []
    ep = f"reported {format_instant(e.reported)}" + (f", returned {format_instant(e.returned)}" if e.returned else "")
    flags = [k for k in ("with_parents", "whereabouts_known", "safeguarding_concerns", "victim_of_crime") if getattr(e, k)]
    ep += "".join(f", {k}" for k in flags) + (f", police_risk {e.police_risk}" if e.police_risk else "")
    more = f" after {len(facts.episodes) - 1} earlier episodes" if len(facts.episodes) > 1 else ""
    return f"{', '.join(bits)}; episode {ep}{more}; as at {format_instant(at)}"


def overlaps(policy: CompiledPolicy) -> list[Diagnostic]:
    out = []
    for a, oa, b, ob in _pairs(policy):
        for ca, cb in itertools.product(policy.normal[a.id.value].cases, policy.normal[b.id.value].cases):
            if not satisfiable(ca + cb):
                continue
            built = example(ca + cb, [oa.timing, ob.timing])
            if built is None:
                continue
            facts, at = built
            found = evaluate(policy, facts, at).obligations
            xs = [o for o in found if a.id.value in o.clauses and o.action == oa.action.value and o.episode in ("E1", None)]
            ys = [o for o in found if b.id.value in o.clauses and o.action == ob.action.value and o.episode in ("E1", None)]
            if not (xs and ys):
                continue
            same_time = [(x, y) for x in xs for y in ys if x.triggered == y.triggered]
            if not same_time or any(x.actor == y.actor and x.due == y.due for x, y in same_time):
                break  # different moments are different duties; one actor doing both at once is no conflict
            x, y = next(((x, y) for x, y in same_time if x.actor == y.actor), same_time[0])
            if x.actor == y.actor:
                what = "due times"
                diff = f"due {format_instant(x.due) if x.due else 'unset'} vs {format_instant(y.due) if y.due else 'unset'}"
            else:
                what = "actors"
                diff = f"{', '.join(sorted({o.actor for o in xs}))} vs {', '.join(sorted({o.actor for o in ys}))}"
            out.append(warning("W104", oa.span, f"{a.id.value} and {b.id.value} both create {oa.action.value} "
                               f"for one situation, with different {what} ({diff})",
                               f"for example {_describe(facts, at)}; if intended, declare: overlaps {b.id.value} \"why\"",
                               (ob.span,)))
            break
    return out


def dead_exceptions(policy: CompiledPolicy) -> list[Diagnostic]:
    out = []
    for x in policy.normal.values():
        for target in x.clause.overrides:  # a checked policy: each names a clause
            base = policy.normal[target.value]
            if not any(satisfiable(cb + cx) for cb in base.cases for cx in x.cases):
                out.append(warning("W105", target.span, f"exception {x.id} can never apply to {base.id}: "
                                   "their conditions contradict each other in every case",
                                   "check the exception's conditions against the clause it overrides",
                                   (base.clause.span,)))
    return out


def analyse(policy: CompiledPolicy) -> list[Diagnostic]:
    return sorted(overlaps(policy) + dead_exceptions(policy), key=Diagnostic.sort_key)
