"""Facts as at a moment -> the base Datalog facts the rules read.

Input: a `FactSet`, the evaluation time, and the program (which window sizes and
calendar moments it uses). Output: `BaseFact`s, each citing the span of the fact
it came from and a plain-English detail for explanations. Invariants: episodes
reported after the evaluation time do not exist yet; a return after it has not
happened yet; elapsed time is real time (UTC arithmetic), so clock changes count
an hour more or less of wall time; calendar tests use the London local date; count windows open at the same
London wall-clock time so many days earlier (calendar days), and `window_true(E, D, F)`
holds when any episode of the child in E's window of D minutes (E itself included) has flag F.
"""
from __future__ import annotations

import bisect
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from compiler.codegen import Program
from compiler.core.vocabulary import EPISODE_LEVELS
from compiler.core.diagnostics import Span
from facts.model import Episode, FactSet
from compiler.core.vocabulary import EPISODE_BOOLEANS
from compiler.core.london import LONDON, falls_off, utc



@dataclass(frozen=True, slots=True)
class BaseFact:
    pred: str
    args: tuple
    span: Span
    detail: str


def human(moment: datetime) -> str:
    """How explanations show a moment: London wall clock with the weekday."""
    return moment.astimezone(LONDON).strftime("%a %d %b %Y %H:%M")


def minutes_between(start: datetime, end: datetime) -> int:
    return int((utc(end) - utc(start)).total_seconds() // 60)


def age_on(born, day) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def add_minutes(moment: datetime, minutes: int) -> datetime:
    """Real elapsed time: add in UTC, show in London."""
    return (utc(moment) + timedelta(minutes=minutes)).astimezone(LONDON)


def window_start(reported: datetime, minutes: int) -> datetime:
    """Where a count window opens: the same London wall-clock time, so many days before.

    "3 times within 30 days" counts calendar days: an episode at 10:00 thirty days
    earlier counts even when a clock change lies between (30 days +/- 1 real hour).
    """
    wall = reported.astimezone(LONDON).replace(tzinfo=None) - timedelta(minutes=minutes)
    return utc(wall.replace(tzinfo=LONDON))


def visible_episodes(facts: FactSet, at: datetime) -> list[Episode]:
    return [e for e in facts.episodes if utc(e.reported) <= utc(at)]


def returned_by(e: Episode, at: datetime) -> datetime | None:
    return e.returned if e.returned is not None and utc(e.returned) <= utc(at) else None


def moment_of(e: Episode, anchor: str, offset: int, at: datetime) -> datetime | None:
    base = e.reported if anchor == "reported" else returned_by(e, at)
    return None if base is None else add_minutes(base, offset)


def law_day_facts(facts: FactSet, episodes: list[Episode], at: datetime, law_date: date | None) -> list[BaseFact]:
    """law_day(E, YYYYMMDD): the day whose clauses judge an episode, the London date of its report;
    law_day_child(C, YYYYMMDD): the evaluation's London date, for clauses about the child. `law_date`
    puts every judgement on one day instead (`clause diff --base-date/--head-date`)."""
    def number(day: date) -> int:
        return day.year * 10000 + day.month * 100 + day.day
    out = []
    for e in episodes:
        day = law_date or e.reported.astimezone(LONDON).date()
        out.append(BaseFact("law_day", (e.id, number(day)), e.span, f"episode {e.id} is judged by the clauses in force on {day}"))
    for c in facts.children:
        day = law_date or at.astimezone(LONDON).date()
        out.append(BaseFact("law_day_child", (c.id, number(day)), c.span, f"child {c.id} is judged by the clauses in force on {day}"))
    return out


def base_facts(facts: FactSet, at: datetime, program: Program, law_date: date | None = None) -> list[BaseFact]:
    out: list[BaseFact] = []
    add = lambda pred, args, span, detail: out.append(BaseFact(pred, args, span, detail))  # noqa: E731
    children = {c.id: c for c in facts.children}
    for c in facts.children:
        add("child", (c.id,), c.span, f"child {c.id}, born {c.born.isoformat()}")
        for s in c.statuses:
            add("status", (c.id, s), c.span, f"child {c.id} has status {s}")
        for f in c.flags:
            add("flag", (c.id, f), c.span, f"child {c.id} has flag {f}")
        add("child_field", (c.id, "placed_in", c.placed_in), c.span, f"child {c.id} is placed in {c.placed_in}")
        add("child_field", (c.id, "responsible_authority", c.responsible_authority), c.span,
            f"child {c.id}'s responsible authority is {c.responsible_authority}")
    episodes = visible_episodes(facts, at)
    by_child: dict[str, list[datetime]] = defaultdict(list)
    in_order: dict[str, list[Episode]] = defaultdict(list)  # by report, as by_child's times
    for e in sorted(episodes, key=lambda e: utc(e.reported)):
        by_child[e.child].append(utc(e.reported))
        in_order[e.child].append(e)
    for e in episodes:
        rep = human(e.reported)
        add("episode", (e.id, e.child), e.span, f"episode {e.id} of child {e.child}, reported {rep}")
        for name in EPISODE_BOOLEANS:
            if getattr(e, name):
                add("episode_true", (e.id, name), e.span, f"episode {e.id} has {name}")
        back = returned_by(e, at)
        if back is not None:
            add("episode_true", (e.id, "returned"), e.span, f"episode {e.id}: returned {human(back)}")
        for name in EPISODE_LEVELS:
            value = getattr(e, name)
            if value is not None:
                add("episode_true", (e.id, name), e.span, f"episode {e.id} has a {name}")
                add("episode_value", (e.id, name, value), e.span, f"episode {e.id}: {name} {value}")
        child = children.get(e.child)
        if child is not None:
            day = e.reported.astimezone(LONDON).date()  # the London date, whatever zone the time was given in
            years = age_on(child.born, day)
            add("age", (e.id, years), child.span, f"child {e.child}, born {child.born.isoformat()}, was {years} on {day.isoformat()}")
        end = back or at
        mins = minutes_between(e.reported, end)
        until = f"returned {human(back)}" if back else f"not returned by {human(at)}"
        add("elapsed", (e.id, mins), e.span, f"reported {rep}, {until}: {mins // 60} hours {mins % 60} minutes")
        times = by_child[e.child]
        for window in program.windows:
            lo = bisect.bisect_left(times, window_start(e.reported, window))
            hi = bisect.bisect_right(times, utc(e.reported))
            n = hi - lo
            dates = ", ".join(human(t) for t in times[lo:hi])
            add("window_count", (e.id, window, n), e.span,
                f"{n} episode{'s' * (n != 1)} of child {e.child} reported in the {window // 1440} days up to {rep}: {dates}")
        for window, flag in program.flag_windows:
            lo = bisect.bisect_left(times, window_start(e.reported, window))
            hi = bisect.bisect_right(times, utc(e.reported))
            flagged = [o for o in in_order[e.child][lo:hi] if getattr(o, flag)]
            if flagged:
                which = ", ".join(f"{o.id} (reported {human(o.reported)})" for o in flagged)
                add("window_true", (e.id, window, flag), flagged[-1].span,
                    f"{flag} on episode{'s' * (len(flagged) != 1)} {which} of child {e.child}, in the {window // 1440} days up to {rep}")
        for anchor, offset in program.moments:
            moment = moment_of(e, anchor, offset, at)
            if moment is None:
                continue
            when = f"{offset // 60} hours after {anchor} is {human(moment)}"
            if falls_off(moment, holidays_too=False):
                add("weekend", (e.id, anchor, offset), e.span, f"{when}, a weekend")
            if falls_off(moment, holidays_too=True):
                add("off_day", (e.id, anchor, offset), e.span, f"{when}, a weekend or bank holiday")
    if program.law_days:
        out += law_day_facts(facts, episodes, at, law_date)
    return out
