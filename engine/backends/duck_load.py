"""Facts into DuckDB: a `FactSet`, or a bulk CSV folder read directly.

Output: three tables, times as integer microseconds since the epoch, UTC ("us"):
  in_children(id, born DATE, statuses VARCHAR[], flags VARCHAR[], responsible_authority, placed_in)
  in_episodes(id, child, rep, ret, whereabouts_known, with_parents, safeguarding_concerns,
              police_risk, inspector_risk, victim_of_crime)
  in_actions(action, child, episode, actor, at_us)
plus `tz(utc_us, offset_us, local_us)` (compiler/core/london_tables.py) covering every year the facts use.

`load_folder` is a fast reader for a strict subset of the bulk format (facts/bulk.py):
UTF-8 without a byte-order mark, no quotes, known unique columns, no row longer than
the header, no cell with surrounding whitespace, every value valid, every reference resolved. It returns False, having
loaded nothing, the moment it is not sure; the caller then reads the folder with
`facts.bulk.load_bulk` (the reference loader, which says exactly what is wrong) and
calls `load_factset`. Invariant: whenever `load_folder` returns True, the tables
equal what `load_factset(load_bulk(folder))` would give (tested).
"""
from __future__ import annotations

import csv
import mmap
import os
import re
import tempfile
from pathlib import Path

import duckdb

from compiler.core import london_tables as london
from facts import limits
from facts.bulk import COLUMNS
from facts.model import FactSet
from compiler.core.vocabulary import FLAGS, PLACEMENTS, RISK_LEVELS, STATUSES
from facts.validate import REQUIRED

INSTANT = (r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?"
           r"([Zz]|[+-]\d{2}(?::?\d{2})?)?$")
# Python's str.strip() removes these (as UTF-8 bytes); a cell starting or ending with one is left to the
# reference loader. Without quotes in the file, cells start after a comma or a line break and end before one.
_SPACE = (rb"(?:[ \t\x0b\x0c\x1c-\x1f]|\xc2[\x85\xa0]|\xe1\x9a\x80|\xe2\x80[\x80-\x8a\xa8\xa9\xaf]"
          rb"|\xe2\x81\x9f|\xe3\x80\x80)")
SPACE_BYTES = (b" ", b"\t", b"\x0b", b"\x0c", b"\x1c", b"\x1d", b"\x1e", b"\x1f", b"\xc2\x85", b"\xc2\xa0",
               b"\xe1\x9a\x80", b"\xe2\x80", b"\xe2\x81\x9f", b"\xe3\x80\x80")  # cheap test before PADDED
LONE_CR = re.compile(rb"\r(?!\n)")
PADDED = re.compile(rb"(?:^|[,\n])" + _SPACE + rb"|" + _SPACE + rb"(?:[,\r\n]|$)")
EXTRA = 4  # spare columns that catch rows longer than the header
YEARS = (1900, 2200)  # dates and times outside these years are left to the reference loader
BOOLEANS = ("whereabouts_known", "with_parents", "safeguarding_concerns", "victim_of_crime")


def sql_list(values) -> str:
    return "[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


def create_tz(con: duckdb.DuckDBPyConnection, first_year: int, last_year: int) -> list[tuple[int, int, int]]:
    rows = london.transitions(first_year, last_year)
    con.execute("CREATE OR REPLACE TABLE tz (utc_us BIGINT, offset_us BIGINT, local_us BIGINT)")
    con.executemany("INSERT INTO tz VALUES (?, ?, ?)", rows)
    return rows


def _tmp_csv(folder: str, name: str, rows) -> str:
    path = os.path.join(folder, name)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)
    return path


def _read(path: str, columns: dict[str, str]) -> str:
    cols = "{" + ", ".join(f"'{k}': '{v}'" for k, v in columns.items()) + "}"
    return (f"read_csv('{path.replace(chr(39), chr(39) * 2)}', columns={cols}, header=false, delim=',', quote='\"', "
            f"escape='\"', auto_detect=false, nullstr='\\N')")


def load_factset(con: duckdb.DuckDBPyConnection, facts: FactSet) -> None:
    """FactSet -> the in_* tables (through temporary CSV files: DuckDB reads them fastest)."""
    years = [t.year for e in facts.episodes for t in (e.reported, e.returned) if t is not None]
    years += [a.at.year for a in facts.actions]
    nul = "\\N"
    with tempfile.TemporaryDirectory(prefix="clause-duck-") as tmp:
        kids = _tmp_csv(tmp, "c.csv", ([c.id, c.born.isoformat(), ";".join(c.statuses), ";".join(c.flags),
                                        c.responsible_authority, c.placed_in] for c in facts.children))
        eps = _tmp_csv(tmp, "e.csv", ([e.id, e.child, london.to_us(e.reported),
                                       nul if e.returned is None else london.to_us(e.returned),
                                       *(int(getattr(e, b)) for b in BOOLEANS),
                                       e.police_risk or nul, e.inspector_risk or nul] for e in facts.episodes))
        acts = _tmp_csv(tmp, "a.csv", ([a.action, a.child, nul if a.episode is None else a.episode, a.by,
                                        london.to_us(a.at)] for a in facts.actions))
        v = "VARCHAR"
        con.execute(f"""CREATE OR REPLACE TABLE in_children AS SELECT id, born,
            list_filter(string_split(statuses, ';'), lambda x: x <> '') AS statuses,
            list_filter(string_split(flags, ';'), lambda x: x <> '') AS flags, responsible_authority, placed_in
            FROM {_read(kids, dict(id=v, born='DATE', statuses=v, flags=v, responsible_authority=v, placed_in=v))}""")
        con.execute(f"""CREATE OR REPLACE TABLE in_episodes AS SELECT id, child, rep, ret,
            {', '.join(f'{b} = 1 AS {b}' for b in BOOLEANS)}, police_risk, inspector_risk
            FROM {_read(eps, dict(id=v, child=v, rep='BIGINT', ret='BIGINT', **{b: 'INTEGER' for b in BOOLEANS},
                                  police_risk=v, inspector_risk=v))}""")
        con.execute(f"""CREATE OR REPLACE TABLE in_actions AS SELECT * FROM
            {_read(acts, dict(action=v, child=v, episode=v, actor=v, at_us='BIGINT'))}""")
    create_tz(con, min(years, default=2000) - 1, max(years, default=2000) + 1)


# ---- the fast reader for bulk folders ----

def _header(path: Path, kind: str) -> list[str] | None:
    """The header's column names, when the file is plain enough for the fast reader: within the
    size limit, UTF-8 without a byte-order mark, no quotes, NUL bytes or lone carriage returns,
    known unique columns with the required ones present."""
    if path.stat().st_size > limits.max_bulk_bytes():
        return None
    if path.stat().st_size == 0:
        return None
    with path.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
        if data[:3] == b"\xef\xbb\xbf" or data.find(b'"') >= 0 or data.find(b"\x00") >= 0:
            return None
        if LONE_CR.search(data) or (any(data.find(c) >= 0 for c in SPACE_BYTES) and PADDED.search(data)):
            return None
    with path.open(newline="", encoding="utf-8", errors="strict") as fh:
        try:
            header = next(csv.reader(fh, strict=True), None)
        except (csv.Error, UnicodeDecodeError):
            return None
    if not header or len(set(header)) != len(header) or not set(header) <= set(COLUMNS[kind]):
        return None
    return header if set(REQUIRED[kind]) <= set(header) else None


def _raw(con: duckdb.DuckDBPyConnection, path: Path, header: list[str], table: str) -> bool:
    """The file as text columns; False when a row is longer than the header."""
    columns = {h: "VARCHAR" for h in header} | {f"_x{i}": "VARCHAR" for i in range(EXTRA)}
    cols = "{" + ", ".join(f"'{k}': 'VARCHAR'" for k in columns) + "}"
    src = str(path).replace("'", "''")
    con.execute(f"""CREATE OR REPLACE TABLE {table} AS SELECT * FROM read_csv('{src}', columns={cols},
        header=true, delim=',', quote='"', escape='"', auto_detect=false, null_padding=true, strict_mode=false,
        nullstr='\x01')""")
    extra = " OR ".join(f"_x{i} IS NOT NULL" for i in range(EXTRA))
    return not con.execute(f"SELECT count(*) FROM {table} WHERE {extra}").fetchone()[0]


def _col(header: list[str], name: str) -> str:
    return f'NULLIF("{name}", \'\')' if name in header else "NULL"


def _parts(expr: str, name: str) -> str:
    """SQL: the parts of an instant's text as a struct column `name` (empty strings when it does not match)."""
    return f"regexp_extract({expr}, '{INSTANT}', ['y', 'mo', 'd', 'h', 'mi', 's', 'f', 'tz']) AS {name}"


def _wall(p: str) -> str:
    """SQL: the parts -> the written clock time as us (NULL when not a real time)."""
    day = f"try_cast(concat({p}.y, '-', {p}.mo, '-', {p}.d) AS DATE)"
    digits = f"replace(substr({p}.tz, 2), ':', '')"
    ok = (f"{p}.y <> '' AND {day} IS NOT NULL AND {p}.y::INT BETWEEN {YEARS[0]} AND {YEARS[1]} AND {p}.h::INT < 24 AND {p}.mi::INT < 60 "
          f"AND coalesce(nullif({p}.s, '')::INT, 0) < 60 AND (length({p}.tz) <= 1 OR (left({digits}, 2)::INT < 24 "
          f"AND coalesce(nullif(substr({digits}, 3), '')::INT, 0) < 60 AND length({digits}) IN (2, 4)))")
    return (f"CASE WHEN {ok} THEN ({day} - DATE '1970-01-01')::BIGINT * {london.DAY_US} + {p}.h::BIGINT * 3600000000 "
            f"+ {p}.mi::BIGINT * 60000000 + coalesce(nullif({p}.s, '')::BIGINT, 0) * 1000000 "
            f"+ coalesce(rpad(nullif({p}.f, ''), 6, '0')::BIGINT, 0) END")


def _given(p: str) -> str:
    """SQL: the explicit offset in the parts, as us (0 for Z)."""
    digits = f"replace(substr({p}.tz, 2), ':', '')"
    sign = f"(CASE WHEN left({p}.tz, 1) = '-' THEN -1 ELSE 1 END)"
    return (f"CASE WHEN upper({p}.tz) = 'Z' THEN 0 ELSE {sign} * (left({digits}, 2)::BIGINT * 3600000000 "
            f"+ coalesce(nullif(substr({digits}, 3), '')::BIGINT, 0) * 60000000) END")


def _instants(table: str, columns: list[tuple[str, str]], keep: str, tz: list[tuple[int, int, int]]) -> str:
    """SQL: `table` with each text column of `columns` (source, name) read as an instant in us.

    Three stages, so each part is computed once: the regex parts, the written clock time,
    then London's offset (fold=0) unless the text gives one."""
    parts = ", ".join(_parts(src, f"p_{name}") for src, name in columns)
    walls = ", ".join(f"{_wall(f'p_{name}')} AS w_{name}, p_{name}.tz AS z_{name}, "
                      f"CASE WHEN p_{name}.tz <> '' THEN {_given(f'p_{name}')} END AS g_{name}" for _, name in columns)
    final = ", ".join(f"CASE WHEN z_{name} = '' THEN w_{name} - ({london.offset_case(f'w_{name}', tz, True)}) "
                      f"ELSE w_{name} - g_{name} END AS {name}" for _, name in columns)
    return (f"SELECT {keep}, {final} FROM (SELECT *, {walls} FROM (SELECT *, {parts} FROM {table}))")


def load_folder(con: duckdb.DuckDBPyConnection, folder: str | Path) -> bool:
    """Read a bulk folder straight into the in_* tables. False (nothing usable loaded) when unsure."""
    folder = Path(folder)
    paths = {kind: folder / name for name, kind, _ in (("children.csv", "child", 1), ("episodes.csv", "episode", 1),
                                                        ("actions.csv", "action", 0))}
    if not paths["child"].is_file() or not paths["episode"].is_file():
        return False
    headers = {}
    for kind, path in paths.items():
        if kind == "action" and not path.is_file():
            continue
        h = _header(path, kind)
        if h is None:
            return False
        headers[kind] = h
    try:
        for kind, table in (("child", "raw_c"), ("episode", "raw_e"), ("action", "raw_a")):
            if kind in headers and not _raw(con, paths[kind], headers[kind], table):
                return False
        return _convert(con, headers)
    except (duckdb.Error, UnicodeDecodeError):
        return False


def _convert(con: duckdb.DuckDBPyConnection, headers: dict[str, list[str]]) -> bool:
    hc, he = headers["child"], headers["episode"]
    ha = headers.get("action")
    times = [("raw_e", "reported"), ("raw_e", "returned")] + ([("raw_a", "at")] if ha else [])
    years = " UNION ALL ".join(f"SELECT try_cast(left(\"{c}\", 4) AS INT) AS y FROM {t}" for t, c in times
                               if c in (he if t == "raw_e" else ha))
    lo, hi = con.execute(f"SELECT min(y), max(y) FROM ({years})").fetchone()
    lo, hi = (lo or 2000), (hi or 2000)
    if hi - lo > 150:
        return False
    tz = create_tz(con, max(lo - 1, 1), hi + 1)
    c = lambda h, n: _col(h, n)  # noqa: E731
    items = lambda h, n: (f"list_distinct_ordered(list_filter(list_transform(string_split(coalesce({c(h, n)}, ''), ';'), "  # noqa: E731
                                   f"lambda x: trim(x)), lambda x: x <> ''))")
    con.execute("CREATE OR REPLACE MACRO floor_div(a, b) AS CASE WHEN a >= 0 THEN a // b ELSE -((-a - 1) // b) - 1 END")
    con.execute("CREATE OR REPLACE MACRO list_distinct_ordered(l) AS "
                "list_filter(l, lambda x, i: list_position(l, x) = i)")
    con.execute(f"""CREATE OR REPLACE TABLE in_children AS SELECT {c(hc, 'id')} AS id,
        CASE WHEN regexp_matches({c(hc, 'born')}, '^\\d{{4}}-\\d{{2}}-\\d{{2}}$') THEN try_cast({c(hc, 'born')} AS DATE) END AS born,
        {items(hc, 'statuses')} AS statuses, {items(hc, 'flags')} AS flags,
        coalesce({c(hc, 'responsible_authority')}, 'liverpool') AS responsible_authority,
        coalesce({c(hc, 'placed_in')}, 'liverpool') AS placed_in
        FROM raw_c WHERE NOT ({' AND '.join(f'{c(hc, h)} IS NULL' for h in hc)})""")
    bools = ", ".join(f"CASE WHEN lower({c(he, b)}) IN ('true', 'yes', '1') THEN true "
                      f"WHEN {c(he, b)} IS NULL OR lower({c(he, b)}) IN ('false', 'no', '0') THEN false END AS {b}"
                      for b in BOOLEANS)
    con.execute(f"""CREATE OR REPLACE TABLE cut_e AS SELECT {c(he, 'id')} AS id, {c(he, 'child')} AS child,
        {c(he, 'reported')} AS t_rep, {c(he, 'returned')} AS t_ret, {bools},
        {c(he, 'police_risk')} AS police_risk, {c(he, 'inspector_risk')} AS inspector_risk
        FROM raw_e WHERE NOT ({' AND '.join(f'{c(he, h)} IS NULL' for h in he)})""")
    keep = "id, child, " + ", ".join(BOOLEANS) + ", police_risk, inspector_risk, t_ret IS NOT NULL AS has_ret"
    con.execute("CREATE OR REPLACE TABLE in_episodes AS SELECT id, child, rep, ret, " + ", ".join(BOOLEANS)
                + ", police_risk, inspector_risk, has_ret FROM ("
                + _instants("cut_e", [("t_rep", "rep"), ("t_ret", "ret")], keep, tz) + ")")
    if ha:
        con.execute(f"""CREATE OR REPLACE TABLE cut_a AS SELECT {c(ha, 'action')} AS action, {c(ha, 'child')} AS child,
            {c(ha, 'episode')} AS episode, {c(ha, 'by')} AS actor, {c(ha, 'at')} AS t_at
            FROM raw_a WHERE NOT ({' AND '.join(f'{c(ha, h)} IS NULL' for h in ha)})""")
        con.execute("CREATE OR REPLACE TABLE in_actions AS SELECT action, child, episode, actor, at_us FROM ("
                    + _instants("cut_a", [("t_at", "at_us")], "action, child, episode, actor", tz) + ")")
    else:
        con.execute("CREATE OR REPLACE TABLE in_actions (action VARCHAR, child VARCHAR, episode VARCHAR, actor VARCHAR, "
                    "at_us BIGINT)")
    bad = f"""
      SELECT count(*) FROM in_children WHERE id IS NULL OR born IS NULL OR year(born) NOT BETWEEN {YEARS[0]} AND {YEARS[1]}
        OR NOT list_has_all({sql_list(STATUSES)}, statuses) OR NOT list_has_all({sql_list(FLAGS)}, flags)
        OR placed_in NOT IN ({sql_list(PLACEMENTS)[1:-1]})
      UNION ALL SELECT count(*) - count(DISTINCT id) FROM in_children
      UNION ALL SELECT count(*) FROM in_episodes WHERE id IS NULL OR child IS NULL OR rep IS NULL
        OR (has_ret AND ret IS NULL) OR ret < rep OR {' OR '.join(f'{b} IS NULL' for b in BOOLEANS)}
        OR police_risk NOT IN ({sql_list(RISK_LEVELS)[1:-1]}) OR inspector_risk NOT IN ({sql_list(RISK_LEVELS)[1:-1]})
        OR child NOT IN (SELECT id FROM in_children)
      UNION ALL SELECT count(*) FROM in_episodes e JOIN in_children c ON c.id = e.child
        WHERE DATE '1970-01-01' + floor_div(e.rep + ({london.offset_case('e.rep', tz, False)}), {london.DAY_US})::INTEGER < c.born
      UNION ALL SELECT count(*) FROM in_children WHERE id IN ('True', 'False') OR responsible_authority IN ('True', 'False')
      UNION ALL SELECT count(*) FROM in_episodes WHERE id IN ('True', 'False') OR child IN ('True', 'False')
      UNION ALL SELECT count(*) FROM in_actions WHERE action IN ('True', 'False') OR child IN ('True', 'False')
        OR episode IN ('True', 'False') OR actor IN ('True', 'False')
      UNION ALL SELECT count(*) - count(DISTINCT id) FROM in_episodes
      UNION ALL SELECT count(*) FROM in_actions a WHERE action IS NULL OR child IS NULL OR actor IS NULL OR at_us IS NULL
        OR child NOT IN (SELECT id FROM in_children)
        OR (episode IS NOT NULL AND NOT EXISTS (SELECT 1 FROM in_episodes e WHERE e.id = a.episode AND e.child = a.child))"""
    if any(n for (n,) in con.execute(bad).fetchall()):
        return False
    con.execute("ALTER TABLE in_episodes DROP has_ret")
    return True
