"""The benchmark's honest plain-Python reference: the bundled policy's rules written out by hand.

Input: a `FactSet` and the evaluation time. Output: the obligations `engine.evaluation.evaluate`
(pyDatalog) gives for the bundled policy (policy/**/*.clause), with their states, in output order;
`handwritten_csv` renders them as `clause obligations --format csv` does for a bulk folder.
tests/test_handwritten.py holds both to pyDatalog's, obligation for obligation and byte for byte.

What is hand-written here (bench/handwritten_rules.py, bench/handwritten_timing.py): everything the
Datalog program does. Per child: the statuses and flags in force at the evaluation time and at each
report, each episode's age, return, minutes missing, the 30- and 90-day counts of reports and of
safeguarding concerns, the weekend and public-holiday tests, the category and the risk level; then
one function per clause family, plain ifs over those, adding the `obligation` head tuples (child,
episode, action, actor, modality, clause, exception) the compiled rules derive, exceptions and
actor overrides included; and the timing of every duty, typed in from the clause text. No policy file
is read, no program walked, nothing generated or evaluated.

What is reused from the product, as anyone writing this by hand would: the fact model (facts/model.py,
the loaders), London time and England's bank holidays (compiler/core/london.py: `LONDON`, `utc`,
`falls_off`), a status record's bounds (facts/held.py `bounds`), and below the rules
engine/meaning/lifecycle.py `build` (arising, recurrence, due times, one row per duty, discharge by
recorded actions, state) and engine/output/render.py `as_csv`, the same code every back-end ends in.
"""
from __future__ import annotations

import bisect
import sys
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path

if str(Path(__file__).resolve().parent) not in sys.path:  # its siblings, when imported from elsewhere (tests)
    sys.path.append(str(Path(__file__).resolve().parent))

from compiler.core.london import LONDON, utc  # noqa: E402
from engine.meaning import lifecycle  # noqa: E402
from engine.meaning.obligations import Obligation  # noqa: E402
from facts.held import bounds  # noqa: E402
from facts.model import Child, Episode, FactSet  # noqa: E402
from handwritten_rules import CHILD_RULES, EPISODE_RULES, Seen  # noqa: E402
from handwritten_timing import CLAUSES  # noqa: E402

DAYS_30, DAYS_90 = 30, 90


def _records(held) -> list[tuple[str, datetime | None, datetime | None]]:
    return [(h.name, *bounds(h)) for h in held]


def _names_at(records, moment: datetime) -> frozenset[str]:
    """The names of the records in force at `moment` (a UTC instant): [start, end)."""
    return frozenset(n for n, s, e in records if (s is None or s <= moment) and (e is None or moment < e))


def _days_before(moment: datetime, days: int) -> datetime:
    """The same London wall-clock time `days` calendar days earlier, as a UTC instant (fold 0)."""
    wall = moment.astimezone(LONDON).replace(tzinfo=None) - timedelta(days=days)
    return utc(wall.replace(tzinfo=LONDON))


def _age(child: Child, reported: datetime) -> int:
    day = reported.astimezone(LONDON).date()
    born = child.born
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def _seen(child: Child, e: Episode, statuses, flags, at: datetime, times: list[datetime],
          concerns: list[bool]) -> Seen:
    """One episode as at `at`: `times` are the UTC reports of the child's episodes reported by `at`, in
    order, `concerns` whether each had safeguarding concerns."""
    reported = utc(e.reported)
    s, f = _names_at(statuses, reported), _names_at(flags, reported)
    back = e.returned if e.returned is not None and utc(e.returned) <= at else None
    minutes = int(((utc(back) if back else at) - reported).total_seconds() // 60)
    age = _age(child, e.reported)
    hi = bisect.bisect_right(times, reported)
    lo30 = bisect.bisect_left(times, _days_before(e.reported, DAYS_30))
    lo90 = bisect.bisect_left(times, _days_before(e.reported, DAYS_90))
    exploited = "cse" in f or "cce" in f
    # LMCP-CAT-1: missing by default; LMCP-CAT-2: a looked after child whose whereabouts are known is
    # absent, unless aged 13 or under (LMCP-CAT-13) or flagged for exploitation (LMCP-CAT-EXPLOIT)
    absent = "looked_after" in s and e.whereabouts_known and not age <= 13 and not exploited
    # LMCP-RISK-1: the police's level; LMCP-RISK-EXPLOIT: high when flagged for exploitation, unless an
    # Inspector has recorded a level (LMCP-RISK-INSPECTOR)
    if exploited:
        risk = e.inspector_risk if e.inspector_risk is not None else "high"
    else:
        risk = e.police_risk
    return Seen(e=e, id=e.id, statuses=s, flags=f, back=back, minutes=minutes, missing=not absent,
                absent=absent, risk=risk, in_30=hi - lo30, concerns_30=any(concerns[lo30:hi]),
                in_90=hi - lo90, concerns_90=any(concerns[lo90:hi]))


def child_heads(child: Child, episodes: list[Episode], at: datetime) -> set[tuple]:
    """The `obligation` head tuples of one child: `episodes` are the child's episodes reported by `at`,
    in report order; `at` is a UTC instant."""
    heads: set[tuple] = set()
    add = heads.add
    statuses, flags = _records(child.statuses), _records(child.flags)
    now_statuses, now_flags = _names_at(statuses, at), _names_at(flags, at)
    for rule in CHILD_RULES:
        rule(child.id, now_statuses, now_flags, add)
    times = [utc(e.reported) for e in episodes]  # a window counts reports at the same instant too
    concerns = [e.safeguarding_concerns for e in episodes]
    liverpool = child.responsible_authority == "liverpool"
    for e in episodes:
        seen = _seen(child, e, statuses, flags, at, times, concerns)
        for rule in EPISODE_RULES:
            rule(child, liverpool, seen, add)
    return heads


def _by_child(facts: FactSet, when: datetime) -> tuple[dict[str, list[Episode]], dict[str, list]]:
    """Each child's episodes reported by `when`, in report order, and its recorded actions."""
    episodes: dict[str, list[Episode]] = defaultdict(list)
    actions: dict[str, list] = defaultdict(list)
    for e in facts.episodes:
        if utc(e.reported) <= when:
            episodes[e.child].append(e)
    for mine in episodes.values():
        mine.sort(key=lambda e: (utc(e.reported), e.id))
    for a in facts.actions:
        actions[a.child].append(a)
    return episodes, actions


def obligation_heads(facts: FactSet, at: datetime) -> set[tuple]:
    """Every `obligation` head tuple of every child, as the compiled rules derive them."""
    when = utc(at)
    episodes, _ = _by_child(facts, when)
    return {t for child in facts.children for t in child_heads(child, episodes.get(child.id, []), when)}


def evaluate_handwritten(facts: FactSet, at: datetime) -> list[Obligation]:
    """Every obligation of the bundled policy for these facts as at `at`, with its state, in output order."""
    when = utc(at)
    episodes, actions = _by_child(facts, when)
    out: list[Obligation] = []
    for child in facts.children:
        mine = episodes.get(child.id, [])
        heads = child_heads(child, mine, when)
        if heads:
            out += lifecycle.build(heads, CLAUSES, FactSet((), tuple(mine), tuple(actions.get(child.id, ()))), at)
    out.sort(key=Obligation.sort_key)
    return out


def handwritten_csv(facts: FactSet, at: datetime) -> str:
    """`clause obligations FOLDER --format csv` for a bulk folder's facts, from the hand-written rules."""
    from engine.backends.batch import Run
    from engine.backends.partition import MergedEvaluation
    from engine.output import render
    obligations = evaluate_handwritten(facts, at)
    return render.as_csv([(Run("bulk", None, MergedEvaluation(at, tuple(obligations), ())), obligations)])


def main(argv: list[str]) -> None:
    """`python bench/handwritten.py FOLDER AT OUT`: a bulk folder's obligations as CSV, written to OUT, as
    `clause obligations FOLDER --at AT --format csv -o OUT` writes them (bench/run.py times the two)."""
    from compiler.core.files import write_atomic
    from compiler.core.london import parse_instant
    from facts.bulk import load_bulk
    folder, at_text, out = argv
    at = parse_instant(at_text)
    write_atomic(Path(out), handwritten_csv(load_bulk(folder), at))


if __name__ == "__main__":
    main(sys.argv[1:])
