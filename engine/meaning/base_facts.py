"""Base facts as at a moment: for each base predicate, its Python definition and its SQL side by side.

Input (Python): a `FactSet`, the evaluation time and the program (which window sizes and
calendar moments it uses). Output: `BaseFact`s, each citing the span of the fact it came
from (the renderers in engine/explain/ word it; a fact carries no English).
Input (SQL, `build_base`): a connection holding in_children, in_statuses, in_flags, in_episodes, judged_at
and the London macros and bank_holiday table (`london_sql`). Output: one table per base predicate
(child, status, flag, status_at, flag_at, child_field, episode, episode_true, episode_value, age, elapsed,
window_count, window_true, weekend, off_day, law_day, law_day_child) with compiler/sql.py's columns c0, c1, ...
Invariants (both sides; tests/test_scale_differential.py checks they agree):
* status(C, S) / flag(C, F): a record of the child's in force at the evaluation time (the child's
  `judged_at`); status_at(E, S) / flag_at(E, F): in force at the episode's report (facts/held.py:
  a date `from` from 00:00 London, a date `to` through that London day, half-open instants);
* the episodes are engine/meaning/episodes.py's: those reported by the time, a return only
  once it has happened (instants, not wall clocks);
* elapsed minutes are real time: floor(((return or time) - reported) / 1 minute);
* a count window opens at the same London wall-clock time so many days before the report
  (read with fold=0) and counts the child's existing episodes up to and including the
  report, ties included; window_true(E, D, F) holds when one of those episodes has flag F;
* age is whole years on the London date of the report;
* weekend/off_day test the London date of reported/returned + offset (added in real time):
  Saturday or Sunday, off days also England's bank holidays;
* law_day is the London date of the report (law_day_child: of the evaluation time), as YYYYMMDD,
  present only when the program has dated versions (the SQL side has no `law_date` override).
The vocabulary's field lists come from compiler/core/vocabulary.py only.
"""
from __future__ import annotations

import bisect
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Iterator

if TYPE_CHECKING:  # the SQL side needs only a connection handed in: Python-only callers never load DuckDB
    import duckdb

from compiler.codegen import Program
from compiler.core import london_tables
from compiler.core.diagnostics import Span
from compiler.core.london import LONDON, falls_off, utc
from compiler.core.vocabulary import EPISODE_BOOLEANS, EPISODE_LEVELS
from engine.meaning.episodes import build_visible, listed, returned_by
from facts.held import in_force, in_force_sql
from facts.model import Child, Episode, FactSet, Held, field_span

__all__ = ["BaseFact", "add_minutes", "age_on", "base_facts", "build_base", "law_day_facts", "london_sql",
           "minutes_between", "moment_of", "returned_by", "utc", "window_start"]

M = london_tables.MINUTE_US


@dataclass(frozen=True, slots=True)
class BaseFact:
    pred: str
    args: tuple
    span: Span  # the field (facts.model.field_span) or record it came from, cited in explanations


def london_sql(con: duckdb.DuckDBPyConnection, tz: list[tuple[int, int, int]], holidays: list[int]) -> None:
    """The London clock (compiler/core/london_tables.py macros over `tz`) and bank_holiday(day)."""
    for statement in london_tables.macros(tz):
        con.execute(statement)
    con.execute("CREATE OR REPLACE TABLE bank_holiday (day BIGINT)")
    if holidays:
        con.execute("INSERT INTO bank_holiday SELECT unnest(?)", [holidays])


# ---- child, status, flag, child_field: the child's record; statuses and flags in force at the evaluation time ----

def held_at(records: tuple[Held, ...], moment: datetime) -> list[Held]:
    """The records in force at `moment`, the first of each name (validation refuses overlaps)."""
    out: dict[str, Held] = {}
    for h in records:
        if h.name not in out and in_force(h, moment):
            out[h.name] = h
    return list(out.values())


def _cited(h: Held, c: Child) -> Span:
    return h.span if h.span.file else c.span


def _child(c: Child, at: datetime) -> Iterator[BaseFact]:
    yield BaseFact("child", (c.id,), c.span)
    for h in held_at(c.statuses, at):
        yield BaseFact("status", (c.id, h.name), _cited(h, c))
    for h in held_at(c.flags, at):
        yield BaseFact("flag", (c.id, h.name), _cited(h, c))
    yield BaseFact("child_field", (c.id, "placed_in", c.placed_in), field_span(c, "placed_in"))
    yield BaseFact("child_field", (c.id, "responsible_authority", c.responsible_authority), field_span(c, "responsible_authority"))


def _held_sql(table: str, column: str) -> str:
    """Every record of a status (flag): the list cells of in_children (open both ways) and the rows of in_statuses."""
    return f"""(SELECT id AS child, unnest({column}) AS name, NULL::BIGINT AS start_us, NULL::BIGINT AS end_us
               FROM in_children UNION ALL SELECT child, name, start_us, end_us FROM {table})"""


def _held_now_sql(table: str, column: str) -> str:
    return f"""SELECT DISTINCT h.child AS c0, h.name AS c1 FROM {_held_sql(table, column)} h
               JOIN judged_at a ON a.child = h.child WHERE {in_force_sql("h", "a.at_us")}"""


CHILD_SQL = {
    "child": "SELECT id AS c0 FROM in_children",
    "status": _held_now_sql("in_statuses", "statuses"),
    "flag": _held_now_sql("in_flags", "flags"),
    "child_field": """SELECT id AS c0, 'placed_in' AS c1, placed_in AS c2 FROM in_children
                      UNION ALL SELECT id, 'responsible_authority', responsible_authority FROM in_children""",
}


# ---- status_at, flag_at: the child's statuses and flags in force at the episode's report ----

def _held_at_report(e: Episode, c: Child) -> Iterator[BaseFact]:
    for h in held_at(c.statuses, e.reported):
        yield BaseFact("status_at", (e.id, h.name), _cited(h, c))
    for h in held_at(c.flags, e.reported):
        yield BaseFact("flag_at", (e.id, h.name), _cited(h, c))


def _held_report_sql(table: str, column: str) -> str:
    return f"""SELECT DISTINCT v.id AS c0, h.name AS c1 FROM vis v JOIN {_held_sql(table, column)} h
               ON h.child = v.child AND {in_force_sql("h", "v.rep")}"""


HELD_AT_SQL = {"status_at": _held_report_sql("in_statuses", "statuses"), "flag_at": _held_report_sql("in_flags", "flags")}


# ---- episode, episode_true, episode_value: the episode's fields, and its return ----

def _fields(e: Episode, at: datetime) -> Iterator[BaseFact]:
    yield BaseFact("episode", (e.id, e.child), e.span)
    for name in EPISODE_BOOLEANS:
        if getattr(e, name):
            yield BaseFact("episode_true", (e.id, name), field_span(e, name))
    back = returned_by(e, at)
    if back is not None:
        yield BaseFact("episode_true", (e.id, "returned"), field_span(e, "returned"))
    for name in EPISODE_LEVELS:
        value = getattr(e, name)
        if value is not None:
            yield BaseFact("episode_true", (e.id, name), field_span(e, name))
            yield BaseFact("episode_value", (e.id, name, value), field_span(e, name))


FIELDS_SQL = {
    "episode": "SELECT id AS c0, child AS c1 FROM vis",
    "episode_true": " UNION ALL ".join(
        [f"SELECT id AS c0, '{b}' AS c1 FROM vis WHERE {b}" for b in EPISODE_BOOLEANS]
        + ["SELECT id, 'returned' FROM vis WHERE back"]
        + [f"SELECT id, '{f}' FROM vis WHERE {f} IS NOT NULL" for f in EPISODE_LEVELS]),
    "episode_value": " UNION ALL ".join(f"SELECT id AS c0, '{f}' AS c1, {f} AS c2 FROM vis WHERE {f} IS NOT NULL"
                                        for f in EPISODE_LEVELS),
}


# ---- age: whole years on the London date of the report ----

def age_on(born, day) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def _age(e: Episode, child: Child) -> Iterator[BaseFact]:
    day = e.reported.astimezone(LONDON).date()  # the London date, whatever zone the time was given in
    years = age_on(child.born, day)
    yield BaseFact("age", (e.id, years), field_span(child, "born"))


AGE_SQL = """SELECT c0, year(d) - year(born) - CASE WHEN month(d) < month(born)
                    OR (month(d) = month(born) AND day(d) < day(born)) THEN 1 ELSE 0 END AS c1
             FROM (SELECT v.id AS c0, c.born, DATE '1970-01-01' + london_day(v.rep)::INTEGER AS d
                   FROM vis v JOIN in_children c ON c.id = v.child)"""


# ---- elapsed: real minutes from the report to the return, or to the evaluation time ----

def minutes_between(start: datetime, end: datetime) -> int:
    return int((utc(end) - utc(start)).total_seconds() // 60)


def _elapsed(e: Episode, at: datetime) -> Iterator[BaseFact]:
    back = returned_by(e, at)
    mins = minutes_between(e.reported, back or at)
    yield BaseFact("elapsed", (e.id, mins), field_span(e, "reported"))


ELAPSED_SQL = f"SELECT id AS c0, ((CASE WHEN back THEN ret ELSE at_us END) - rep) // {M} AS c1 FROM vis"


# ---- window_count: the child's episodes reported in the D calendar days up to this report ----

def window_start(reported: datetime, minutes: int) -> datetime:
    """Where a count window opens: the same London wall-clock time, so many days before.

    "3 times within 30 days" counts calendar days: an episode at 10:00 thirty days
    earlier counts even when a clock change lies between (30 days +/- 1 real hour).
    """
    wall = reported.astimezone(LONDON).replace(tzinfo=None) - timedelta(minutes=minutes)
    return utc(wall.replace(tzinfo=LONDON))


def _windows(e: Episode, times: list[datetime], windows: tuple[int, ...]) -> Iterator[BaseFact]:
    """`times`: the report instants (UTC) of the child's existing episodes, sorted."""
    for window in windows:
        lo = bisect.bisect_left(times, window_start(e.reported, window))
        hi = bisect.bisect_right(times, utc(e.reported))
        n = hi - lo
        yield BaseFact("window_count", (e.id, window, n), e.span)


def _windows_sql(windows: tuple[int, ...]) -> str | None:
    if not windows:
        return None
    starts = " UNION ALL ".join(f"SELECT id, child, rep, {w}::BIGINT AS w, london_local(london_wall(rep) - {w * M}) AS start "
                                f"FROM vis" for w in windows)
    return f"""SELECT s.id, s.w, count(*) FROM ({starts}) s
               JOIN vis o ON o.child = s.child AND o.rep >= s.start AND o.rep <= s.rep GROUP BY s.id, s.w"""


# ---- window_true: some episode of the child in this episode's count window has episode flag F ----

def _flag_windows(e: Episode, times: list[datetime], in_order: list[Episode],
                  flag_windows: tuple[tuple[int, str], ...]) -> Iterator[BaseFact]:
    """`in_order`: the child's existing episodes in listing order, as `times`."""
    for window, flag in flag_windows:
        lo = bisect.bisect_left(times, window_start(e.reported, window))
        hi = bisect.bisect_right(times, utc(e.reported))
        flagged = [o for o in in_order[lo:hi] if getattr(o, flag)]
        if flagged:
            yield BaseFact("window_true", (e.id, window, flag), flagged[-1].span)


def _flag_windows_sql(flag_windows: tuple[tuple[int, str], ...]) -> Iterator[str]:
    for w, flag in flag_windows:
        if flag not in EPISODE_BOOLEANS:  # a column name, so only the vocabulary's
            raise ValueError(f"not an episode flag: {flag!r}")
        yield f"""SELECT DISTINCT s.id, {w}::BIGINT, '{flag}' FROM vis s
                  JOIN vis o ON o.child = s.child AND o.{flag}
                   AND o.rep >= london_local(london_wall(s.rep) - {w * M}) AND o.rep <= s.rep"""


# ---- weekend, off_day: the London date of a moment (reported or returned + offset) ----

def add_minutes(moment: datetime, minutes: int) -> datetime:
    """Real elapsed time: add in UTC, show in London."""
    return (utc(moment) + timedelta(minutes=minutes)).astimezone(LONDON)


def moment_of(e: Episode, anchor: str, offset: int, at: datetime) -> datetime | None:
    base = e.reported if anchor == "reported" else returned_by(e, at)
    return None if base is None else add_minutes(base, offset)


def _calendar(e: Episode, at: datetime, moments: tuple[tuple[str, int], ...]) -> Iterator[BaseFact]:
    for anchor, offset in moments:
        moment = moment_of(e, anchor, offset, at)
        if moment is None:
            continue
        if falls_off(moment, holidays_too=False):
            yield BaseFact("weekend", (e.id, anchor, offset), field_span(e, anchor))
        if falls_off(moment, holidays_too=True):
            yield BaseFact("off_day", (e.id, anchor, offset), field_span(e, anchor))


def _moment_days_sql(moments: tuple[tuple[str, int], ...]) -> str | None:
    parts = []
    for anchor, offset in moments:
        base = "rep" if anchor == "reported" else "CASE WHEN back THEN ret END"
        parts.append(f"SELECT id, '{anchor}' AS anchor, {offset}::BIGINT AS off, "
                     f"london_day(({base}) + {offset * M}) AS day FROM vis WHERE ({base}) IS NOT NULL")
    return " UNION ALL ".join(parts) or None


WEEKEND_SQL = "((day + 3) % 7 + 7) % 7 >= 5"  # Python's weekday(): 1970-01-01 was a Thursday (3)
CALENDAR_SQL = {
    "weekend": f"SELECT id AS c0, anchor AS c1, off AS c2 FROM moment_day WHERE {WEEKEND_SQL}",
    "off_day": f"""SELECT id AS c0, anchor AS c1, off AS c2 FROM moment_day
                   WHERE {WEEKEND_SQL} OR day IN (SELECT day FROM bank_holiday)""",
}


# ---- law_day, law_day_child: the day whose clauses judge an episode (its report's London date) or a child ----

def _day_number(day: date) -> int:
    return day.year * 10000 + day.month * 100 + day.day


def law_day_facts(facts: FactSet, episodes: list[Episode], at: datetime, law_date: date | None) -> list[BaseFact]:
    """law_day(E, YYYYMMDD): the London date of the episode's report; law_day_child(C, YYYYMMDD): the
    evaluation's London date, for clauses about the child. `law_date` puts every judgement on one day
    instead (`clause diff --base-date/--head-date`)."""
    out = []
    for e in episodes:
        day = law_date or e.reported.astimezone(LONDON).date()
        out.append(BaseFact("law_day", (e.id, _day_number(day)), e.span))
    for c in facts.children:
        day = law_date or at.astimezone(LONDON).date()
        out.append(BaseFact("law_day_child", (c.id, _day_number(day)), c.span))
    return out


DAY_NUMBER_SQL = "(year(d) * 10000 + month(d) * 100 + day(d))::BIGINT"
LAW_DAY_SQL = {
    "law_day": f"SELECT id, {DAY_NUMBER_SQL} FROM (SELECT id, DATE '1970-01-01' + london_day(rep)::INTEGER AS d FROM vis)",
    "law_day_child": f"""SELECT x.id, {DAY_NUMBER_SQL} FROM (
                         SELECT c.id, DATE '1970-01-01' + london_day(a.at_us)::INTEGER AS d
                         FROM in_children c JOIN judged_at a ON a.child = c.id) x""",
}


# ---- all of them ----

def base_facts(facts: FactSet, at: datetime, program: Program, law_date: date | None = None) -> list[BaseFact]:
    out: list[BaseFact] = []
    for c in facts.children:
        out += _child(c, at)
    children = {c.id: c for c in facts.children}
    episodes = listed(facts, at)
    by_child: dict[str, list[datetime]] = defaultdict(list)
    in_order: dict[str, list[Episode]] = defaultdict(list)
    for e in episodes:  # listed in report order within each child: already sorted
        by_child[e.child].append(utc(e.reported))
        in_order[e.child].append(e)
    for e in episodes:
        out += _fields(e, at)
        if e.child in children:
            out += _age(e, children[e.child])
            out += _held_at_report(e, children[e.child])
        out += _elapsed(e, at)
        out += _windows(e, by_child[e.child], program.windows)
        out += _flag_windows(e, by_child[e.child], in_order[e.child], program.flag_windows)
        out += _calendar(e, at, program.moments)
    if program.law_days:
        out += law_day_facts(facts, episodes, at, law_date)
    return out


def build_base(con: duckdb.DuckDBPyConnection, program: Program) -> None:
    """The base tables, each child judged as at its time in `judged_at(child, at_us, track)`."""
    from compiler.sql_keys import BASE_TYPES  # here: the Python path needs no SQL
    build_visible(con)
    typed = lambda pred: ", ".join(f"c{i} {t}" for i, t in enumerate(BASE_TYPES[pred]))  # noqa: E731
    for pred, sql in (*CHILD_SQL.items(), *HELD_AT_SQL.items(), *FIELDS_SQL.items(), ("age", AGE_SQL),
                      ("elapsed", ELAPSED_SQL)):
        con.execute(f"CREATE OR REPLACE TABLE {pred} AS {sql}")
    con.execute(f"CREATE OR REPLACE TABLE window_count ({typed('window_count')})")
    if (windows := _windows_sql(program.windows)) is not None:
        con.execute(f"INSERT INTO window_count {windows}")
    con.execute(f"CREATE OR REPLACE TABLE window_true ({typed('window_true')})")
    for sql in _flag_windows_sql(program.flag_windows):
        con.execute(f"INSERT INTO window_true {sql}")
    con.execute(f"CREATE OR REPLACE TABLE moment_day (id {BASE_TYPES['weekend'][0]}, anchor VARCHAR, off BIGINT, day BIGINT)")
    if (days := _moment_days_sql(program.moments)) is not None:
        con.execute(f"INSERT INTO moment_day {days}")
    for pred, sql in CALENDAR_SQL.items():
        con.execute(f"CREATE OR REPLACE TABLE {pred} AS {sql}")
    for pred, sql in LAW_DAY_SQL.items():
        con.execute(f"CREATE OR REPLACE TABLE {pred} ({typed(pred)})")
        if program.law_days:
            con.execute(f"INSERT INTO {pred} {sql}")
