"""Occurrences -> duties with a state: one duty one row, discharge by recorded actions, the state.

Input: the occurrences engine/meaning/obligations.py gives (Python `Obligation`s, or the SQL
table `arisen`), the clauses (their timing), the episodes, the recorded actions and the
evaluation time. Output: every duty once, with `clauses`, `status`, `done_at` and `open_for`,
in output order. Each rule is written in Python and, beside it, in the SQL DuckDB runs;
tests/test_scale_differential.py holds the two to identical answers.

The rules (the README's "The state of a duty"):
* one duty, one row: occurrences of one child and episode with the same action, actor,
  occurrence number, arising moment and due time are one duty (several clauses creating it);
  it shows the member with the strongest modality, then the first clause id (and exception);
  `clauses` lists that clause first, then the others in id order (different due times stay
  apart: lint's W104 reports them);
* discharge: a recorded action of the same child and kind (episode equal, or either absent),
  at or before the evaluation time, discharges a duty that had arisen at or before it; for a
  duty that ends on the return, only an action at or before the return counts. A recurring
  duty's actions are taken in time order, each by the earliest occurrence not yet discharged
  that has arisen by then (one meeting, one occurrence);
* state: `done` (discharged by the due time, or no due time) or `done_late`; else `ended`
  when the duty ends on the return (`until returned`, `every ... until returned`), the child
  has returned and the duty was not already past due then; else `overdue` once the due time
  has passed; else `open`, with `open_for` the whole minutes since it arose.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Iterable

if TYPE_CHECKING:  # the SQL side needs only a connection handed in: Python-only callers never load DuckDB
    import duckdb

from compiler import ast
from compiler.codegen import NO_EPISODE_KEY
from compiler.core import london_tables as london
from compiler.core.london import utc
from compiler.core.vocabulary import OBLIGATION_STATUSES
from compiler.sql import literal
from engine.meaning.base_facts import minutes_between, returned_by
from engine.meaning.obligations import STRENGTH, Obligation, arisen
from facts.model import Episode, FactSet, RecordedAction

# The duties with their heads and their ids' text (duck_load `intern_ids`: child_names, episode_names), as
# every reader of the results reads them: occ holds a child's and an episode's integer key, ranked in the
# ids' text order, so ordering by the key is ordering by the id.
NAMED = "occ o JOIN heads h USING (hid) JOIN child_names USING (child) JOIN episode_names USING (episode)"
# The London clock times of a duty's instants, worked out as read (`gather`), not stored: a national year's
# rows carried 16 bytes for them through the chunks and the output's sort
WALLS = "london_wall(triggered) AS triggered_wall, london_wall(due) AS due_wall"
# The rows in output order, then the `columns` (SQL over the column names of NAMED's tables, which no two
# share but the joins' own): ordered first and formatted after, as a sort carries each row's every column and
# the formatted text is far wider than the row (the UK year's CSV: 9.6 -> 7.6 CPU s); the clock times too are
# worked out after the sort. SELECT over one subquery keeps its order (DuckDB's order preservation:
# https://duckdb.org/docs/stable/sql/dialect/order_preservation). One sort of every row grows faster than the
# rows (bench/national.md), but sorting by ranges of due time did not pay: with each chunk's duties filed into
# 15 ranges of ~3M rows, 1M children's output took 84 CPU s instead of 101, and the filing cost 37 more (a table
# per chunk and range instead ran DuckDB out of memory while writing).
RESULT = ("SELECT {columns} FROM (SELECT *, " + WALLS + " FROM (SELECT * EXCLUDE (triggered_wall, due_wall) FROM "
          + NAMED + """{where}
ORDER BY o.due NULLS LAST, o.triggered NULLS LAST, o.child, o.episode, h.r1, o.occurrence, h.r2))""")


def gather(con: duckdb.DuckDBPyConnection, tables: Iterable[str]) -> None:
    """occ, as every reader reads it: the view of the chunks' `build_duties` tables, with their clock times.
    The chunks' rows are not copied into one table: that cost a national year 7.8 CPU s of 268."""
    union = " UNION ALL ".join(f"SELECT * FROM {t}" for t in tables)
    con.execute(f"CREATE OR REPLACE VIEW occ AS SELECT *, {WALLS} FROM ({union})")


# -- one duty, one row -------------------------------------------------------------------

def _strength(modality: str) -> int:
    return STRENGTH.index(modality) if modality in STRENGTH else len(STRENGTH)


def one_row_per_duty(obs: Iterable[Obligation]) -> list[Obligation]:
    groups: dict[tuple, list[Obligation]] = defaultdict(list)
    for o in obs:
        groups[(o.child, o.episode, o.action, o.actor, o.occurrence, utc(o.triggered) if o.triggered else None,
                utc(o.due) if o.due else None)].append(o)
    out = []
    for members in groups.values():
        members.sort(key=lambda o: (_strength(o.modality), o.clause, o.exception or ""))
        first = members[0]
        out.append(replace(first, clauses=(first.clause, *sorted({o.clause for o in members} - {first.clause}))))
    return out


# -- discharge and state -----------------------------------------------------------------

def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def span_words(minutes: int) -> str:
    """How long a duty has been open, as the table and explanations say it: "3 days 4 hours",
    "5 hours 10 minutes", "7 minutes" (`span_macro` below is the same in SQL)."""
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    if days:
        return _plural(days, "day") + (" " + _plural(hours, "hour") if hours else "")
    if hours:
        return _plural(hours, "hour") + (" " + _plural(mins, "minute") if mins else "")
    return _plural(mins, "minute")


def span_macro(con) -> None:
    """span_words(minutes) as a DuckDB macro: `span_words` in SQL, for the table's 'open 3 days 4 hours'."""
    plural = lambda n, w: f"({n})::VARCHAR || ' {w}' || CASE WHEN ({n}) = 1 THEN '' ELSE 's' END"  # noqa: E731
    d, h, mi = "m // 1440", "m % 1440 // 60", "m % 60"
    con.execute(f"""CREATE OR REPLACE MACRO span_words(m) AS CASE
        WHEN {d} > 0 THEN {plural(d, 'day')} || CASE WHEN {h} > 0 THEN ' ' || {plural(h, 'hour')} ELSE '' END
        WHEN {h} > 0 THEN {plural(h, 'hour')} || CASE WHEN {mi} > 0 THEN ' ' || {plural(mi, 'minute')} ELSE '' END
        ELSE {plural(mi, 'minute')} END""")


def _matches(a: RecordedAction, o: Obligation, at: datetime, until: datetime | None) -> bool:
    return (a.child == o.child and a.action == o.action
            and (a.episode is None or o.episode is None or a.episode == o.episode)
            and utc(a.at) <= utc(at) and (until is None or utc(a.at) <= utc(until)))


def state(o: Obligation, done_at: datetime | None, back: datetime | None, at: datetime) -> Obligation:
    """`o` with its status, done_at and open_for; `back`: the return, when the duty ends on it and it has happened."""
    if done_at is not None:
        status = "done_late" if o.due is not None and utc(done_at) > utc(o.due) else "done"
    elif back is not None and (o.due is None or utc(o.due) >= utc(back)):
        status = "ended"
    else:
        status = "overdue" if o.due is not None and utc(o.due) < utc(at) else "open"
    open_for = minutes_between(o.triggered, at) if status in ("open", "overdue") and o.triggered else None
    return replace(o, status=status, done_at=done_at, open_for=open_for)


def settle(obs: list[Obligation], clauses: dict[str, ast.Clause], episodes: dict[str, Episode],
           actions: Iterable[RecordedAction], at: datetime) -> list[Obligation]:
    """Each duty's state: discharge by the recorded actions, then `state`."""
    by_kind: dict[tuple[str, str], list[RecordedAction]] = defaultdict(list)
    for a in actions:
        by_kind[(a.child, a.action)].append(a)
    series: dict[tuple, list[Obligation]] = defaultdict(list)
    out = []
    for o in obs:
        timing = clauses[o.clause].obligation(o.action).timing
        episode = episodes.get(o.episode) if o.episode else None
        back = returned_by(episode, at) if episode is not None and timing.until_returned else None
        if o.occurrence:
            series[(o.child, o.episode, o.action, o.actor, o.modality, o.clause, o.exception, back)].append(o)
            continue
        times = [a.at for a in by_kind[(o.child, o.action)] if _matches(a, o, at, back)
                 and (o.triggered is None or utc(a.at) >= utc(o.triggered))]
        out.append(state(o, min(times, key=utc) if times else None, back, at))
    for (*_, back), occurrences in series.items():
        occurrences.sort(key=lambda o: o.occurrence)
        arose = [utc(o.triggered) for o in occurrences]
        kind = by_kind[(occurrences[0].child, occurrences[0].action)]
        done: dict[int, datetime] = {}
        for a in sorted((a for a in kind if _matches(a, occurrences[0], at, back)), key=lambda a: utc(a.at)):
            if len(done) < sum(1 for t in arose if t <= utc(a.at)):
                done[len(done)] = a.at
        out.extend(state(o, done.get(i), back, at) for i, o in enumerate(occurrences))
    return out


def build(tuples: Iterable[tuple], clauses: dict[str, ast.Clause], facts: FactSet, at: datetime) -> list[Obligation]:
    """The derived obligation tuples as duties with their state at `at`, in output order."""
    episodes = {e.id: e for e in facts.episodes}
    duties = one_row_per_duty(arisen(tuples, clauses, episodes, at))
    return sorted(settle(duties, clauses, episodes, facts.actions, at), key=Obligation.sort_key)


# -- the same in SQL ---------------------------------------------------------------------

MATCH = f"""a.child = d.child AND a.action = d.action AND (a.episode IS NULL OR d.episode = {NO_EPISODE_KEY} OR a.episode = d.episode)
           AND a.at_us <= d.at_us AND (d.back IS NULL OR a.at_us <= d.back)"""


def build_duties(con: duckdb.DuckDBPyConnection) -> None:
    """occ(child, episode, hid, occurrence, triggered, due, status, done_at, clauses, open_for,
    triggered_latest, due_latest) from `arisen` and `heads`, by the rules above (read with its clock times:
    `gather`); `clauses` is NULL for a duty one clause creates (readers show heads.clause). Discharge and
    state are worked out row by row before rows are made one: the rows of one duty share child, episode,
    action, arising and due time, so they match the same actions; the duty then keeps its first row's state,
    as Python does."""
    con.execute(f"""CREATE OR REPLACE TABLE done AS
        SELECT d.rowid AS did, min(a.at_us) AS done_at FROM arisen d JOIN in_actions a ON {MATCH}
           AND NOT d.recurs AND (d.triggered IS NULL OR a.at_us >= d.triggered)
        GROUP BY d.rowid""")
    series = "d.child, d.episode, d.hid"
    con.execute(f"""INSERT INTO done
        WITH s AS (SELECT DISTINCT child, episode, hid, action, back, at_us FROM arisen d WHERE recurs),
        meet AS (SELECT {series}, a.at_us AS m, row_number() OVER (PARTITION BY {series} ORDER BY a.at_us) AS j
                 FROM s d JOIN in_actions a ON {MATCH}),
        arose AS (SELECT x.child, x.episode, x.hid, x.m, x.j, count(d.triggered) AS n FROM meet x
                  LEFT JOIN arisen d ON d.child = x.child AND d.episode = x.episode AND d.hid = x.hid AND d.triggered <= x.m
                  GROUP BY ALL),
        taken AS (SELECT *, j + least(0, min(n - j) OVER (PARTITION BY child, episode, hid ORDER BY j)) AS c FROM arose)
        SELECT d.rowid, min(t.m) FROM arisen d JOIN taken t USING (child, episode, hid)
        WHERE d.recurs AND t.c >= d.occurrence GROUP BY d.rowid""")
    status = """CASE WHEN x.done_at IS NOT NULL THEN (CASE WHEN d.due IS NOT NULL AND x.done_at > d.due THEN 'done_late' ELSE 'done' END)
        WHEN d.back IS NOT NULL AND (d.due IS NULL OR d.due >= d.back) THEN 'ended'
        WHEN d.due IS NOT NULL AND d.due < d.at_us THEN 'overdue' ELSE 'open' END"""
    # the state as a one-byte ENUM, its values in text order so it sorts as its text: it reads, compares and
    # concatenates as its text, and every row carried 16 bytes for it (a national year: 0.6 GB)
    con.execute(f"CREATE TYPE IF NOT EXISTS duty_state AS ENUM ({', '.join(map(literal, sorted(OBLIGATION_STATUSES)))})")
    con.execute(f"""CREATE OR REPLACE TABLE occ AS SELECT d.child, d.episode, d.hid, d.occurrence,
            d.triggered, d.due, ({status})::duty_state AS status, x.done_at, NULL::VARCHAR AS clauses,
            CASE WHEN status IN ('open', 'overdue') THEN (d.at_us - d.triggered) // {london.MINUTE_US} END AS open_for,
            d.triggered_latest, d.due_latest
        FROM arisen d LEFT JOIN done x ON x.did = d.rowid""")
    # one duty, one row: only heads sharing an action and actor with another head can make several rows one
    # duty; the first row (strongest modality, then clause, exception) stays, with every clause in `clauses`
    con.execute("CREATE OR REPLACE TABLE shared AS SELECT hid FROM heads QUALIFY count(*) OVER (PARTITION BY r1) > 1")
    key = "o.child, o.episode, h.r1, o.occurrence, o.triggered, o.due"
    con.execute(f"""CREATE OR REPLACE TABLE dup AS
        WITH rows AS (SELECT o.rowid AS rid, {key}, h.strength, h.clause, h.exception
                      FROM occ o JOIN heads h ON h.hid = o.hid AND h.hid IN (SELECT hid FROM shared)),
        keys AS (SELECT hash(child, episode, r1, occurrence, triggered, due) AS k FROM rows GROUP BY k HAVING count(*) > 1)
        SELECT list(rid ORDER BY strength, clause, exception) AS ids,
               list(clause ORDER BY strength, clause, exception)[1] AS first, list_sort(list_distinct(list(clause))) AS cl
        FROM rows WHERE hash(child, episode, r1, occurrence, triggered, due) IN (SELECT k FROM keys)
        GROUP BY child, episode, r1, occurrence, triggered, due HAVING count(*) > 1""")
    con.execute("DELETE FROM occ WHERE rowid IN (SELECT unnest(ids[2:]) FROM dup)")
    con.execute("""UPDATE occ SET clauses = d.clauses FROM (SELECT ids[1] AS rid,
        array_to_string(list_concat([first], list_filter(cl, lambda c: c <> first)), ';') AS clauses FROM dup) d
        WHERE occ.rowid = d.rid""")
    for table in ("arisen", "done", "shared", "dup"):
        con.execute(f"DROP TABLE IF EXISTS {table}")
