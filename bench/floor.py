"""The floor: the least DuckDB work that turns the bulk folder into an output of the same size.

Usage: python bench/floor.py FOLDER ROWS OUT
Reads the three CSV files into tables (DuckDB's own reader, types detected, no checks), then
writes ROWS rows of the output's fourteen columns (each episode repeated, its child and ids as
text, two times formatted as the output formats them), sorted by time and child, as CSV to OUT:
read, sort, write, and nothing of the policy. Run as a fresh process by bench/run.py, which
measures its CPU seconds and peak memory as it does the whole `clause obligations` command's.
"""
from __future__ import annotations

import sys

import duckdb


def main() -> None:
    folder, rows, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    con = duckdb.connect(":memory:")
    for name in ("children", "episodes", "actions"):
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM read_csv('{folder}/{name}.csv')")
    episodes = con.execute("SELECT count(*) FROM episodes").fetchone()[0]
    repeat = -(-rows // max(1, episodes))
    con.execute(f"""COPY (SELECT 'bulk' AS "case", child, id AS episode, 'strategy_discussion' AS action,
            'social_worker' AS actor, 'must' AS modality, strftime(t, '%Y-%m-%dT%H:%M') AS triggered,
            strftime(t + INTERVAL 1 DAY, '%Y-%m-%dT%H:%M') AS due, 'LMCP-1' AS clause, 'LMCP-1' AS clauses,
            NULL AS exception, 'open' AS status, k AS open_for, NULL AS standard, k AS occurrence
        FROM (SELECT e.child, e.id, e.reported::TIMESTAMP + k * INTERVAL 1 HOUR AS t, k
              FROM episodes e, range({repeat}) r(k) LIMIT {rows})
        ORDER BY due, triggered, child, episode, occurrence) TO '{out}' (FORMAT csv, HEADER true)""")


if __name__ == "__main__":
    main()
