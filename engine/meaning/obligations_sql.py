"""Derived obligation tuples -> obligations with times, occurrences and status, in SQL.

Input: a connection holding the derived `obligation`, `category_by`, `risk_by` tables, the
in_* tables, `judged_at` (each child's evaluation time and whether its obligations get a status)
and the clauses (their timing). Output: the tables
`heads` (one row per distinct action/actor/modality/clause/exception, with its timing),
`occ` (one row per obligation: child, episode, head, occurrence, triggered, due, status,
done_at, the two times as London clock times, and `shown`: the child id as printed) and `episode_facts`; `RESULT` is the query that lists them in output order.

The semantics are engine/meaning/obligations.py's, row for row:
* the moment an obligation arises is its `from` moment (default the report) of its episode;
  none while that moment is in the future, or is the return and the child has not returned;
  a child-scoped obligation has no times;
* a recurring one yields occurrences first + k * every (k = 0, 1, ...) up to the evaluation
  time and before the return: n = ceil((returned - first) / every) once returned, else
  floor((at - first) / every) + 1, at most MAX_OCCURRENCES;
* due: the arising time when immediate, else `within` after the arising time or after the
  named episode moment (none if that moment has not happened);
* status, when the input records any action: the first matching action (same child and
  action, episode equal or either absent, at or before the evaluation time, not before the
  report, or the occurrence for a recurring one, and before the next occurrence) -> done,
  or done_late when after the due time; else overdue once due has passed, else pending;
* order: due, then arising time (none last), child, episode, action, actor, occurrence,
  then modality, clause, exception (the order pyDatalog's sorted tuples leave ties in);
  the names are ranked once in `heads` so the big sort compares integers.
"""
from __future__ import annotations

import duckdb

from compiler import ast
from compiler.sql import literal
from compiler.core import london_tables as london
from engine.meaning.obligations import MAX_OCCURRENCES

RESULT = """SELECT {columns} FROM occ o JOIN heads h USING (hid){where}
ORDER BY o.due NULLS LAST, o.triggered NULLS LAST, o.child, o.episode, h.r1, o.occurrence, h.r2"""


def _sql(value: object) -> str:
    return "NULL" if value is None else ("true" if value is True else "false" if value is False else literal(value))


def timing_rows(clauses: dict[str, ast.Clause]) -> list[tuple]:
    """(clause, action, start anchor, start minutes, every, immediately, within, due anchor, due anchor minutes)."""
    rows, seen = [], set()
    for cid in sorted(clauses):
        for c in clauses[cid].then:
            if isinstance(c, ast.Obligation) and (cid, c.action.value) not in seen:
                seen.add((cid, c.action.value))
                t = c.timing
                start = t.start or ast.Moment("reported", None, ast.Span(""))
                rows.append((cid, c.action.value, start.anchor, start.minutes,
                             t.every.minutes if t.every else None, t.immediately,
                             t.due_after.minutes if t.due_after else None,
                             t.due_anchor.anchor if t.due_anchor else None,
                             t.due_anchor.minutes if t.due_anchor else None))
    return rows


def _heads(con: duckdb.DuckDBPyConnection, clauses: dict[str, ast.Clause]) -> None:
    con.execute("""CREATE OR REPLACE TABLE timing (clause VARCHAR, action VARCHAR, start_anchor VARCHAR,
                   start_min BIGINT, every_min BIGINT, immediately BOOLEAN, due_min BIGINT, due_anchor VARCHAR,
                   due_anchor_min BIGINT)""")
    rows = timing_rows(clauses)
    if rows:
        con.execute("INSERT INTO timing VALUES " + ", ".join("(" + ", ".join(map(_sql, r)) + ")" for r in rows))
    con.execute("""CREATE OR REPLACE TABLE heads AS
        SELECT row_number() OVER (ORDER BY action, actor, modality, clause, exception) AS hid,
               dense_rank() OVER (ORDER BY action, actor) AS r1,
               dense_rank() OVER (ORDER BY modality, clause, exception) AS r2, *
        FROM (SELECT DISTINCT c2 AS action, c3 AS actor, c4 AS modality, c5 AS clause, c6 AS exception FROM obligation)
        JOIN timing USING (clause, action)""")


def build_obligations(con: duckdb.DuckDBPyConnection, clauses: dict[str, ast.Clause]) -> None:
    """occ from the obligation tuples; each child judged as at its `judged_at` time, with status when its `track`."""
    m = london.MINUTE_US
    _heads(con, clauses)
    moment = lambda anchor, minutes: (f"CASE WHEN h.{anchor} = 'reported' THEN e.rep + h.{minutes} * {m} "  # noqa: E731
                                      f"WHEN e.ret <= a.at_us THEN e.ret + h.{minutes} * {m} END")
    ob = f"""
        SELECT o.c0 AS child, o.c1 AS episode, h.hid, h.every_min * {m} AS step, e.rep, e.ret,
               e.id IS NOT NULL AS has_ep, coalesce(e.ret <= a.at_us, false) AS back, a.at_us, a.track,
               CASE WHEN e.id IS NOT NULL THEN {moment('start_anchor', 'start_min')} END AS first,
               CASE WHEN e.id IS NOT NULL AND h.due_anchor IS NOT NULL
                    THEN {moment('due_anchor', 'due_anchor_min')} + h.due_min * {m} END AS anchored_due
        FROM obligation o JOIN heads h ON h.action = o.c2 AND h.actor = o.c3 AND h.modality = o.c4
             AND h.clause = o.c5 AND h.exception = o.c6
        JOIN judged_at a ON a.child = o.c0
        LEFT JOIN in_episodes e ON e.id = o.c1"""
    arisen = "first <= at_us"
    occ0 = f"""
        SELECT child, episode, hid, has_ep, rep, step, at_us, track, 0 AS occurrence, NULL::BIGINT AS triggered, NULL::BIGINT AS anchored_due
        FROM ob WHERE NOT has_ep
        UNION ALL
        SELECT child, episode, hid, has_ep, rep, step, at_us, track, 0, first, anchored_due FROM ob WHERE has_ep AND step IS NULL AND {arisen}
        UNION ALL
        SELECT child, episode, hid, has_ep, rep, step, at_us, track, k + 1, first + k * step, anchored_due FROM (
            SELECT *, unnest(range(least({MAX_OCCURRENCES}, CASE WHEN back THEN
                                     (CASE WHEN ret > first THEN (ret - first + step - 1) // step ELSE 0 END)
                                     ELSE (at_us - first) // step + 1 END))) AS k
            FROM ob WHERE has_ep AND step IS NOT NULL AND {arisen})"""
    con.execute(f"""CREATE OR REPLACE TABLE occ1 AS WITH ob AS MATERIALIZED ({ob}), occ0 AS ({occ0})
        SELECT o.*, CASE WHEN o.triggered IS NULL THEN NULL
                    WHEN h.immediately THEN o.triggered WHEN h.due_min IS NULL THEN NULL
                    WHEN h.due_anchor IS NOT NULL AND o.has_ep THEN o.anchored_due
                    ELSE o.triggered + h.due_min * {m} END AS due, h.action
        FROM occ0 o JOIN heads h USING (hid)""")
    if con.execute("SELECT bool_or(track) FROM judged_at").fetchone()[0]:
        con.execute("""CREATE OR REPLACE TABLE done AS
            SELECT o.rowid AS oid, min(a.at_us) AS done_at FROM occ1 o JOIN in_actions a
              ON a.child = o.child AND a.action = o.action
             AND (a.episode IS NULL OR o.episode = '' OR a.episode = o.episode)
             AND o.track AND a.at_us <= o.at_us
             AND a.at_us >= coalesce(CASE WHEN o.occurrence > 0 THEN o.triggered WHEN o.has_ep THEN o.rep END, a.at_us)
             AND a.at_us < coalesce(o.triggered + o.step, a.at_us + 1)
            GROUP BY o.rowid""")
        status = ("CASE WHEN NOT o.track THEN NULL WHEN d.done_at IS NOT NULL THEN (CASE WHEN o.due IS NOT NULL "
                  "AND d.done_at > o.due THEN 'done_late' ELSE 'done' END) WHEN o.due IS NOT NULL AND o.due < o.at_us "
                  "THEN 'overdue' ELSE 'pending' END")
        con.execute(f"""CREATE OR REPLACE TABLE occ AS SELECT o.child, o.child AS shown, o.episode, o.hid, o.occurrence, o.triggered,
            o.due, {status} AS status, d.done_at, london_wall(o.triggered) AS triggered_wall, london_wall(o.due) AS due_wall
            FROM occ1 o LEFT JOIN done d ON d.oid = o.rowid""")
    else:
        con.execute("""CREATE OR REPLACE TABLE occ AS SELECT child, child AS shown, episode, hid, occurrence, triggered, due,
            NULL::VARCHAR AS status, NULL::BIGINT AS done_at, london_wall(triggered) AS triggered_wall,
            london_wall(due) AS due_wall FROM occ1""")
    for table in ("occ1", "done"):
        con.execute(f"DROP TABLE IF EXISTS {table}")


def build_episode_facts(con: duckdb.DuckDBPyConnection) -> None:
    """episode_facts(ord, id, child, category, category_clause, risk, risk_clause), in evaluate()'s order.

    judged_at's `at_wall` is the evaluation time's London clock time when it is given in London time:
    Python then compares report times with it by the clock, so the same is done here."""
    first = lambda t: (f"(SELECT c0, c1, c2 FROM (SELECT *, row_number() OVER (PARTITION BY c0 ORDER BY c1, c2) AS rn "  # noqa: E731
                       f"FROM {t}) WHERE rn = 1)")
    cut = "CASE WHEN a.at_wall IS NOT NULL THEN london_wall(e.rep) <= a.at_wall ELSE e.rep <= a.at_us END"
    con.execute(f"""CREATE OR REPLACE TABLE episode_facts AS
        SELECT row_number() OVER (ORDER BY e.child, london_wall(e.rep), e.id) AS ord, e.id, e.child,
               k.c1 AS category, k.c2 AS category_clause, r.c1 AS risk, r.c2 AS risk_clause
        FROM in_episodes e JOIN judged_at a ON a.child = e.child
        LEFT JOIN {first('category_by')} k ON k.c0 = e.id LEFT JOIN {first('risk_by')} r ON r.c0 = e.id
        WHERE {cut}""")
