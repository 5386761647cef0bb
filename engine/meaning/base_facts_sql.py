"""Base facts as at a moment, in bulk: the in_* tables -> one DuckDB table per base predicate.

Input: a connection holding in_children, in_episodes, in_actions, tz (engine/backends/duck_load.py) and
judged_at(child, at_us, at_wall, track): each child's evaluation time (us; usually one for all),
and the program (its window sizes and calendar moments).
Output: the tables child, status, flag, child_field, episode, episode_true, episode_value,
age, elapsed, window_count, window_true, off_day, weekend with columns c0, c1, ... (compiler/sql.py's
schema), and `vis` (the episodes reported by then, with `back`: returned by then).

The semantics are engine/meaning/base_facts.py's, set at a time:
* an episode exists once reported (rep <= at); a return counts once it happened (ret <= at);
* elapsed minutes are real time, floor((return or at) - reported) / 1 minute;
* window_count counts the child's existing episodes reported from the window's start (the same
  London clock time so many days before, read with fold=0: `temporal.window_start`) up to and
  including the report (ties included, as bisect_right does); window_true(id, w, flag) holds
  when one of those episodes has the flag;
* age is whole years on the London date of the report;
* weekend/off_day test the London date of reported/returned + offset (the offset added in
  real time), weekend Saturday or Sunday, off day also England's bank holidays.
"""
from __future__ import annotations

import duckdb

from compiler.codegen import Program
from compiler.core import london_tables as london
from engine.backends.duck_load import offset_case
from compiler.core.vocabulary import EPISODE_BOOLEANS

LEVEL_FIELDS = ("police_risk", "inspector_risk")


def macros(con: duckdb.DuckDBPyConnection, tz: list[tuple[int, int, int]], holidays: list[int]) -> None:
    """floor_div, london_wall (instant -> London clock time as us), london_day (-> day number) and
    london_local (a London clock time read as parse_instant reads it, fold=0 -> instant)."""
    con.execute("CREATE OR REPLACE MACRO floor_div(a, b) AS CASE WHEN a >= 0 THEN a // b ELSE -((-a - 1) // b) - 1 END")
    con.execute(f"CREATE OR REPLACE MACRO london_wall(u) AS u + ({offset_case('u', tz, False)})")
    con.execute(f"CREATE OR REPLACE MACRO london_day(u) AS floor_div(london_wall(u), {london.DAY_US})")
    con.execute(f"CREATE OR REPLACE MACRO london_local(w) AS w - ({offset_case('w', tz, True)})")
    con.execute("CREATE OR REPLACE TABLE bank_holiday (day BIGINT)")
    if holidays:
        con.execute("INSERT INTO bank_holiday SELECT unnest(?)", [holidays])


def build_base(con: duckdb.DuckDBPyConnection, program: Program) -> None:
    """The base tables, each child judged as at its time in `judged_at(child, at_us, at_wall, track)`."""
    m = london.MINUTE_US
    run = con.execute
    run("""CREATE OR REPLACE TABLE vis AS SELECT e.*, a.at_us, (e.ret IS NOT NULL AND e.ret <= a.at_us) AS back
           FROM in_episodes e JOIN judged_at a ON a.child = e.child WHERE e.rep <= a.at_us""")
    run("CREATE OR REPLACE TABLE child AS SELECT id AS c0 FROM in_children")
    run("CREATE OR REPLACE TABLE status AS SELECT id AS c0, unnest(statuses) AS c1 FROM in_children")
    run("CREATE OR REPLACE TABLE flag AS SELECT id AS c0, unnest(flags) AS c1 FROM in_children")
    run("""CREATE OR REPLACE TABLE child_field AS
           SELECT id AS c0, 'placed_in' AS c1, placed_in AS c2 FROM in_children
           UNION ALL SELECT id, 'responsible_authority', responsible_authority FROM in_children""")
    run("CREATE OR REPLACE TABLE episode AS SELECT id AS c0, child AS c1 FROM vis")
    trues = [f"SELECT id AS c0, '{b}' AS c1 FROM vis WHERE {b}" for b in EPISODE_BOOLEANS]
    trues.append("SELECT id, 'returned' FROM vis WHERE back")
    trues += [f"SELECT id, '{f}' FROM vis WHERE {f} IS NOT NULL" for f in LEVEL_FIELDS]
    run("CREATE OR REPLACE TABLE episode_true AS " + " UNION ALL ".join(trues))
    run("CREATE OR REPLACE TABLE episode_value AS "
        + " UNION ALL ".join(f"SELECT id AS c0, '{f}' AS c1, {f} AS c2 FROM vis WHERE {f} IS NOT NULL" for f in LEVEL_FIELDS))
    run("""CREATE OR REPLACE TABLE age AS
            SELECT c0, year(d) - year(born) - CASE WHEN month(d) < month(born)
                   OR (month(d) = month(born) AND day(d) < day(born)) THEN 1 ELSE 0 END AS c1
            FROM (SELECT v.id AS c0, c.born, DATE '1970-01-01' + london_day(v.rep)::INTEGER AS d
                  FROM vis v JOIN in_children c ON c.id = v.child)""")
    run(f"""CREATE OR REPLACE TABLE elapsed AS
            SELECT id AS c0, ((CASE WHEN back THEN ret ELSE at_us END) - rep) // {m} AS c1 FROM vis""")
    run("CREATE OR REPLACE TABLE window_count (c0 VARCHAR, c1 BIGINT, c2 BIGINT)")
    if program.windows:
        starts = " UNION ALL ".join(f"SELECT id, child, rep, {w}::BIGINT AS w, london_local(london_wall(rep) - {w * m}) AS start "
                                    f"FROM vis" for w in program.windows)
        run(f"""INSERT INTO window_count SELECT s.id, s.w, count(*) FROM ({starts}) s
                JOIN vis o ON o.child = s.child AND o.rep >= s.start AND o.rep <= s.rep GROUP BY s.id, s.w""")
    run("CREATE OR REPLACE TABLE window_true (c0 VARCHAR, c1 BIGINT, c2 VARCHAR)")
    for w, flag in program.flag_windows:
        if flag not in EPISODE_BOOLEANS:  # a column name, so only the vocabulary's
            raise ValueError(f"not an episode flag: {flag!r}")
        run(f"""INSERT INTO window_true SELECT DISTINCT s.id, {w}::BIGINT, '{flag}' FROM vis s
                JOIN vis o ON o.child = s.child AND o.{flag}
                 AND o.rep >= london_local(london_wall(s.rep) - {w * m}) AND o.rep <= s.rep""")
    moments = []
    for anchor, offset in program.moments:
        base = "rep" if anchor == "reported" else "CASE WHEN back THEN ret END"
        moments.append(f"SELECT id, '{anchor}' AS anchor, {offset}::BIGINT AS off, "
                       f"london_day(({base}) + {offset * m}) AS day FROM vis WHERE ({base}) IS NOT NULL")
    run("CREATE OR REPLACE TABLE moment_day (id VARCHAR, anchor VARCHAR, off BIGINT, day BIGINT)")
    if moments:
        run("INSERT INTO moment_day " + " UNION ALL ".join(moments))
    weekend = "((day + 3) % 7 + 7) % 7 >= 5"  # Python's weekday(): 1970-01-01 was a Thursday (3)
    run(f"""CREATE OR REPLACE TABLE weekend AS SELECT id AS c0, anchor AS c1, off AS c2 FROM moment_day
            WHERE {weekend}""")
    run(f"""CREATE OR REPLACE TABLE off_day AS SELECT id AS c0, anchor AS c1, off AS c2 FROM moment_day
            WHERE {weekend} OR day IN (SELECT day FROM bank_holiday)""")
    build_law_days(con, program)


def build_law_days(con: duckdb.DuckDBPyConnection, program: Program) -> None:
    """law_day(E, YYYYMMDD), law_day_child(C, YYYYMMDD): base_facts.law_day_facts, set at a time
    (the London date of the report; of the evaluation time for the child), when the program needs them."""
    con.execute("CREATE OR REPLACE TABLE law_day (c0 VARCHAR, c1 BIGINT)")
    con.execute("CREATE OR REPLACE TABLE law_day_child (c0 VARCHAR, c1 BIGINT)")
    if not program.law_days:
        return
    number = "(year(d) * 10000 + month(d) * 100 + day(d))::BIGINT"
    con.execute(f"""INSERT INTO law_day SELECT id, {number} FROM (
                    SELECT id, DATE '1970-01-01' + london_day(rep)::INTEGER AS d FROM vis)""")
    con.execute(f"""INSERT INTO law_day_child SELECT x.id, {number} FROM (
                    SELECT c.id, DATE '1970-01-01' + london_day(a.at_us)::INTEGER AS d
                    FROM in_children c JOIN judged_at a ON a.child = c.id) x""")
