"""Compliance over a period: the figures the procedure's oversight groups review.

Input: a compiled policy, facts (a `FactSet` or a bulk CSV folder), the period (first and
last London date, inclusive) and the evaluation time (default: the end of the period, or now
if that is still to come).
Output: a `Compliance` value (data only; engine/output/report.py renders it).

Invariants: evaluated with DuckDB (engine/backends/duck.py), so a national year fits in a
minute; a duty belongs to the period when it arose in it (its `triggered` time; duties
with no arising time are not counted); its state is the engine's status as at the
evaluation time, one column per state of `OBLIGATION_STATUSES`, so the counts equal `clause obligations --at` filtered
to the period; child ids are printed through `rename` (a pseudonym with --redact).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Callable

from compiler.codegen import NO_EPISODE_KEY
from compiler.core import london_tables as london
from compiler.core.london import LONDON, format_instant
from compiler.core.vocabulary import HOME_AUTHORITY, OBLIGATION_STATUSES
from compiler.policy import CompiledPolicy
from engine.backends.batch import now
from engine.backends.duck import evaluate_duck
from engine.meaning.lifecycle import NAMED
from facts.model import Case, FactSet

SHAPE_VERSION = 1
OVERDUE = "overdue"
REPEAT = ((3, 30), (9, 90))  # the procedure's repeat-missing measures: N episodes within D days
INTERVIEW = "return_interview"
INTERVIEW_HOURS = 72  # the statutory measure: a return interview within 72 hours of the return


@dataclass(frozen=True)
class Tally:
    """Duties that arose in the period for one (action, clause, actor), by state."""
    action: str
    clause: str
    actor: str
    counts: dict[str, int]

    @property
    def arisen(self) -> int:
        return sum(self.counts.values())

    def rate(self, state: str) -> float | None:
        return self.counts.get(state, 0) / self.arisen if self.arisen else None


@dataclass(frozen=True)
class Overdue:
    child: str
    episode: str | None
    action: str
    actor: str
    clause: str
    triggered: datetime
    due: datetime


@dataclass(frozen=True)
class Compliance:
    start: date
    end: date  # inclusive
    at: datetime
    states: tuple[str, ...]
    tallies: tuple[Tally, ...]
    months: tuple[tuple[str, dict[str, int]], ...]  # ("2024-01", counts by state), every month of the period
    children: int  # children with an episode reported in the period
    episodes: int
    repeat: tuple[tuple[int, int, int], ...]  # (N, D, children with N episodes within D days)
    returns: dict[str, int]  # returned (missing), interviewed within 72 hours, later, not yet
    other_authority: dict[str, int]  # children placed by other authorities: children, episodes
    overdue: tuple[Overdue, ...]
    later: int = 0  # episodes reported in the period but after `at`: not counted, as not yet reported (F021)

    def by(self, field: str) -> list[Tally]:
        """Tallies summed over one of action, clause, actor (sorted by that name)."""
        out: dict[str, dict[str, int]] = {}
        for t in self.tallies:
            acc = out.setdefault(getattr(t, field), {s: 0 for s in self.states})
            for s, n in t.counts.items():
                acc[s] += n
        return [Tally(k if field == "action" else "", k if field == "clause" else "", k if field == "actor" else "", v)
                for k, v in sorted(out.items())]

    def total(self) -> Tally:
        acc = {s: 0 for s in self.states}
        for t in self.tallies:
            for s, n in t.counts.items():
                acc[s] += n
        return Tally("", "", "", acc)

    def to_json(self) -> dict:
        def tally(t: Tally, *keys: str) -> dict:
            return {**{k: getattr(t, k) for k in keys}, "arisen": t.arisen, "counts": t.counts,
                    "rates": {s: None if t.rate(s) is None else round(t.rate(s), 4) for s in self.states}}
        return {
            "version": SHAPE_VERSION, "from": self.start.isoformat(), "to": self.end.isoformat(),
            "as_of": format_instant(self.at), "states": list(self.states),
            "total": tally(self.total()),
            "by_action_clause_actor": [tally(t, "action", "clause", "actor") for t in self.tallies],
            "by_action": [tally(t, "action") for t in self.by("action")],
            "by_clause": [tally(t, "clause") for t in self.by("clause")],
            "by_actor": [tally(t, "actor") for t in self.by("actor")],
            "months": [{"month": m, "counts": c} for m, c in self.months],
            "children": self.children, "episodes": self.episodes,
            "repeat_missing": [{"episodes": n, "days": d, "children": c} for n, d, c in self.repeat],
            "return_interviews": self.returns, "other_authority": self.other_authority,
            "overdue": [{"child": o.child, "episode": o.episode, "action": o.action, "actor": o.actor,
                         "clause": o.clause, "triggered": format_instant(o.triggered), "due": format_instant(o.due)}
                        for o in self.overdue],
        }


def period_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """The period as London instants: from the first day's midnight to the midnight after the last day."""
    return (datetime(start.year, start.month, start.day, tzinfo=LONDON),
            datetime(end.year, end.month, end.day, tzinfo=LONDON) + timedelta(days=1))


def merge_cases(cases: tuple[Case, ...]) -> FactSet:
    """Several cases as one fact set, every id prefixed with its case name (ids repeat across cases)."""
    if len(cases) == 1:
        return cases[0].facts
    from dataclasses import replace
    kids, eps, acts = [], [], []
    for case in cases:
        p = f"{case.name}/"
        kids += [replace(c, id=p + c.id) for c in case.facts.children]
        eps += [replace(e, id=p + e.id, child=p + e.child) for e in case.facts.episodes]
        acts += [replace(a, child=p + a.child, episode=None if a.episode is None else p + a.episode)
                 for a in case.facts.actions]
    return FactSet(tuple(kids), tuple(eps), tuple(acts))


def _months(start: date, end: date) -> list[str]:
    out, y, m = [], start.year, start.month
    while (y, m) <= (end.year, end.month):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def compute(policy: CompiledPolicy, facts: FactSet | str | Path, start: date, end: date,
            at: datetime | None = None, rename: Callable[[str], str] | None = None,
            rename_episode: Callable[[str], str] | None = None) -> Compliance:
    """Evaluate `facts` as at `at` (default: the end of the period, or now if sooner) and tally the period. Raises
    ClauseError for invalid facts (as `clause obligations`) and ValueError when the period is empty."""
    if end < start:
        raise ValueError("the period ends before it starts")
    lo_t, hi_t = period_bounds(start, end)
    at = at or min(hi_t, now(), key=london.to_us)
    ev = evaluate_duck(policy, facts, at)
    try:
        if rename is not None:
            ev.rename_children(rename, rename_episode)
        return _tally(ev.con, start, end, at, london.to_us(lo_t), london.to_us(hi_t))
    finally:
        ev.close()


def _tally(con, start: date, end: date, at: datetime, lo: int, hi: int) -> Compliance:
    at_us = london.to_us(at)
    period = "o.triggered >= $lo AND o.triggered < $hi"
    p = {"lo": lo, "hi": hi}
    states, state = tuple(OBLIGATION_STATUSES), "o.status"  # every duty has a state (build_duties)
    groups: dict[tuple[str, str, str], dict[str, int]] = {}
    for action, clause, actor, s, n in con.execute(
            f"SELECT h.action, h.clause, h.actor, {state}, count(*) FROM occ o JOIN heads h USING (hid) "
            f"WHERE {period} GROUP BY ALL ORDER BY ALL", p).fetchall():
        groups.setdefault((action, clause, actor), {k: 0 for k in states})[s] += n
    months = {m: {k: 0 for k in states} for m in _months(start, end)}
    for m, s, n in con.execute(f"SELECT strftime(make_timestamp(o.triggered_wall), '%Y-%m'), {state}, count(*) "
                               f"FROM occ o WHERE {period} GROUP BY ALL", p).fetchall():
        months[m][s] += n
    seen = "e.rep >= $lo AND e.rep < $hi AND e.rep <= $at"
    q = {**p, "at": at_us}
    children, episodes = con.execute(f"SELECT count(DISTINCT child), count(*) FROM in_episodes e WHERE {seen}", q).fetchone()
    repeat = []
    for n, days in REPEAT:
        hit = con.execute(f"""SELECT count(DISTINCT e.child) FROM (
            SELECT e.id, e.child, count(*) AS k FROM in_episodes e JOIN in_episodes o ON o.child = e.child
              AND o.rep <= e.rep AND o.rep >= london_local(london_wall(e.rep) - {days * 1440 * london.MINUTE_US})
            WHERE {seen} GROUP BY e.id, e.child) e WHERE k >= {n}""", q).fetchone()[0]
        repeat.append((n, days, hit))
    con.execute("CREATE OR REPLACE TEMP TABLE cat AS SELECT c0 AS ek FROM category_by WHERE c1 = 'missing'")
    back = "e.ret IS NOT NULL AND e.ret >= $lo AND e.ret < $hi AND e.ret <= $at"
    limit = INTERVIEW_HOURS * 60 * london.MINUTE_US
    r = con.execute(f"""SELECT count(*), count(*) FILTER (first_at <= ret + {limit}),
            count(*) FILTER (first_at > ret + {limit}), count(*) FILTER (first_at IS NULL)
        FROM (SELECT e.id, e.ret, min(a.at_us) AS first_at FROM in_episodes e
              LEFT JOIN in_actions a ON a.child = e.child AND a.action = '{INTERVIEW}'
                   AND (a.episode IS NULL OR a.episode = e.id) AND a.at_us >= e.ret AND a.at_us <= $at
              WHERE {back} AND e.ek IN (SELECT ek FROM cat) GROUP BY e.id, e.ret)""", q).fetchone()
    returns = dict(zip(("returned", "within_72_hours", "later", "not_recorded"), r))
    ola = con.execute(f"""SELECT count(DISTINCT e.child), count(*) FROM in_episodes e JOIN in_children c ON c.id = e.child
        WHERE {seen} AND c.responsible_authority <> '{HOME_AUTHORITY}'""", q).fetchone()
    overdue = tuple(Overdue(row[0], row[1] or None, row[2], row[3], row[4], london.from_us(row[5]), london.from_us(row[6]))
                    for row in con.execute(
        f"""SELECT shown, CASE WHEN episode = {NO_EPISODE_KEY} THEN NULL ELSE shown_episode END, h.action, h.actor, h.clause,
            o.triggered, o.due FROM {NAMED}
            WHERE {period} AND o.status = '{OVERDUE}' ORDER BY o.due, shown, episode, h.action, h.clause""", p).fetchall())
    tallies = tuple(Tally(a, c, r_, counts) for (a, c, r_), counts in sorted(groups.items()))
    later = con.execute("SELECT count(*) FROM in_episodes e WHERE e.rep >= $lo AND e.rep < $hi AND e.rep > $at",
                        q).fetchone()[0]
    return Compliance(start, end, at, states, tallies, tuple(months.items()), children, episodes, tuple(repeat),
                      returns, {"children": ola[0], "episodes": ola[1]}, overdue, later)
