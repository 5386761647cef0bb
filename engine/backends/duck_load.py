"""Facts into DuckDB: a `FactSet`, or a bulk CSV folder read directly.

Output: three tables, times as integer microseconds since the epoch, UTC ("us"):
  in_children(id, born DATE, statuses VARCHAR[], flags VARCHAR[], responsible_authority, placed_in)
  in_episodes(id, child, rep, ret, whereabouts_known, with_parents, safeguarding_concerns,
              police_risk, inspector_risk, victim_of_crime, rep_until, ret_until: the latest readings of a date-only report and return, facts/moments.py)
  in_actions(action, child, episode, actor, at_us)
  in_statuses(child, name, start_us, end_us), in_flags(child, name, start_us, end_us): the records with a
    bound (facts/held.py: [start_us, end_us), NULL open); those in force throughout are in in_children's lists
plus `tz(utc_us, offset_us, local_us)` (compiler/core/london_tables.py) covering every year the facts use.

`load_folder` is a fast reader for a strict subset of the bulk format (facts/bulk.py):
UTF-8 without a byte-order mark, no quotes, known unique columns, no row longer than
the header, no cell with surrounding whitespace, every value valid (by facts/validate.py's `RULES`:
the SQL checks are made from them), every reference resolved. It returns False, having
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
from datetime import datetime, timezone
from dataclasses import MISSING, fields
from pathlib import Path

import duckdb

from compiler.core import london_tables as london
from compiler.core.london import YEARS
from compiler.sql import literal
from facts import limits
from facts.bulk import COLUMNS
from facts.held import bounds, date_end_sql, date_start_sql, us
from facts.model import Child, Episode, FactSet, RecordedAction
from facts.moments import day_range_sql
from facts.validate import FALSE_WORDS, HELD_KINDS, REQUIRED, RULES, TRUE_WORDS, Rule, near_home_sql

INSTANT = Rule("instant")

# Python's str.strip() removes these (as UTF-8 bytes); a cell starting or ending with one is left to the
# reference loader. Without quotes in the file, cells start after a comma or a line break and end before one.
_SPACE = (rb"(?:[ \t\x0b\x0c\x1c-\x1f]|\xc2[\x85\xa0]|\xe1\x9a\x80|\xe2\x80[\x80-\x8a\xa8\xa9\xaf]"
          rb"|\xe2\x81\x9f|\xe3\x80\x80)")
SPACE_BYTES = (b" ", b"\t", b"\x0b", b"\x0c", b"\x1c", b"\x1d", b"\x1e", b"\x1f", b"\xc2\x85", b"\xc2\xa0",
               b"\xe1\x9a\x80", b"\xe2\x80", b"\xe2\x81\x9f", b"\xe3\x80\x80")  # cheap test before PADDED
LONE_CR = re.compile(rb"\r(?!\n)")
PADDED = re.compile(rb"(?:^|[,\n])" + _SPACE + rb"|" + _SPACE + rb"(?:[,\r\n]|$)")
EXTRA = 4  # spare columns that catch rows longer than the header
SQL_NAME = {"reported": "rep", "returned": "ret", "by": "actor", "at": "at_us"}  # fields whose in_* column is renamed
SQL_TYPE = {"date": "DATE", "instant": "BIGINT", "boolean": "BOOLEAN", "choices": "VARCHAR[]"}
TABLES = {"child": "in_children", "episode": "in_episodes", "action": "in_actions"}
HELD_TABLES = {"status": "in_statuses", "flag": "in_flags"}  # and the Child field each is read from
HELD_FIELDS = {"status": "statuses", "flag": "flags"}
HELD_COLUMNS = "child VARCHAR, name VARCHAR, start_us BIGINT, end_us BIGINT"
RAW = {"child": "raw_c", "episode": "raw_e", "action": "raw_a", "status": "raw_s", "flag": "raw_f"}
MODELS = {"child": Child, "episode": Episode, "action": RecordedAction}
SCRATCH = (*RAW.values(), *(f"cut_{kind}" for kind in RAW))  # tables the fast reader leaves for the caller to drop


def column(name: str) -> str:
    """A fact field's column in the in_* tables."""
    return SQL_NAME.get(name, name)


def sql_list(values) -> str:
    return "[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


def create_tz(con: duckdb.DuckDBPyConnection, first_year: int, last_year: int) -> list[tuple[int, int, int]]:
    """London's clock changes for the years, kept within a year of YEARS: an instant outside YEARS is
    refused by the field rules (F005), so no clock is read for it, and a cell such as `.9` or `0001-...`
    read as year 1 must not ask for one (Python's datetime ends there: that was an OverflowError)."""
    rows = london.transitions(max(first_year, YEARS[0] - 1), min(last_year, YEARS[1] + 1))
    con.execute("CREATE OR REPLACE TABLE tz (utc_us BIGINT, offset_us BIGINT, local_us BIGINT)")
    con.execute("INSERT INTO tz SELECT unnest(?::BIGINT[]), unnest(?::BIGINT[]), unnest(?::BIGINT[])",
                [list(column) for column in zip(*rows)])
    return rows


def csv_source(path: str | Path) -> str:
    """A file's path as a SQL string literal for `read_csv`, read as that one file: absolute (so never taken
    for a URL), quotes doubled, and DuckDB's glob characters bracketed (`b[1]` would read `b1`, `*` or
    `?` other folders: `[[]`, `[*]` and `[?]` match only themselves)."""
    text = os.path.abspath(str(path)).replace("[", "[[]").replace("*", "[*]").replace("?", "[?]")
    return "'" + text.replace("'", "''") + "'"


def _line(cells: list[object]) -> str:
    """One row of load_factset's temporary CSV: NULL as an empty unquoted cell, numbers bare, every text
    quoted (so no text, not `\\N` nor an empty one, can be read as NULL)."""
    return ",".join("" if c is None else str(c) if isinstance(c, int) else '"' + str(c).replace('"', '""') + '"'
                    for c in cells) + "\n"


def _tmp_csv(folder: str, name: str, rows) -> str:
    path = os.path.join(folder, name)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        fh.writelines(map(_line, rows))
    return path


def _read(path: str, columns: dict[str, str]) -> str:
    cols = "{" + ", ".join(f"'{k}': '{v}'" for k, v in columns.items()) + "}"
    return (f"read_csv({csv_source(path)}, columns={cols}, header=false, delim=',', quote='\"', "
            f"escape='\"', auto_detect=false, nullstr='', allow_quoted_nulls=false)")


def _cell(rule: Rule, value: object) -> object:
    """A model value as load_factset's temporary CSV holds it (None for NULL)."""
    if value is None:
        return None
    if rule.kind == "instant":
        return london.to_us(value)
    if rule.kind == "boolean":
        return int(value)
    if rule.kind == "choices":
        return ";".join(dict.fromkeys(h.name for h in value if h.throughout))
    return value.isoformat() if rule.kind == "date" else value


# facts/moments.py's `narrow` over in_episodes (every SET sees the old values, as `narrow` reads them)
NARROW_SQL = """rep_until = CASE WHEN rep_until IS NOT NULL AND ret_until IS NULL AND ret >= rep THEN least(rep_until, ret)
                                 ELSE rep_until END,
                ret = CASE WHEN ret_until IS NOT NULL AND ret_until >= rep THEN greatest(ret, rep) ELSE ret END"""


def _until(kind: str) -> list[tuple[str, str]]:
    """(model field, in_* column) of the latest readings a kind's table carries (facts/moments.py)."""
    return [(f"{n}_until", f"{column(n)}_until") for n, r in RULES[kind].items() if r.day_ok]


def load_factset(con: duckdb.DuckDBPyConnection, facts: FactSet) -> None:
    """FactSet -> the in_* tables (through temporary CSV files: DuckDB reads them fastest)."""
    years = [t.year for e in facts.episodes for t in (e.reported, e.returned) if t is not None]
    years += [a.at.year for a in facts.actions]
    held = {kind: [(c.id, h.name, *map(us, bounds(h))) for c in facts.children for h in getattr(c, HELD_FIELDS[kind])
                   if not h.throughout] for kind in HELD_KINDS}
    years += [london.from_us(b).year for rows in held.values() for row in rows for b in row[2:] if b is not None]
    read_as = {"date": "DATE", "instant": "BIGINT", "boolean": "INTEGER"}
    with tempfile.TemporaryDirectory(prefix="clause-duck-") as tmp:
        for kind, objects in (("child", facts.children), ("episode", facts.episodes), ("action", facts.actions)):
            rules = RULES[kind]
            until = _until(kind)
            path = _tmp_csv(tmp, f"{kind}.csv", ([_cell(r, getattr(o, n)) for n, r in rules.items()]
                                                 + [_cell(INSTANT, getattr(o, f)) for f, _ in until] for o in objects))
            types = {column(n): read_as.get(r.kind, "VARCHAR") for n, r in rules.items()} | {c: "BIGINT" for _, c in until}
            values = ", ".join([f"list_filter(string_split({column(n)}, ';'), lambda x: x <> '') AS {column(n)}"
                                if r.kind == "choices" else f"{column(n)} = 1 AS {column(n)}" if r.kind == "boolean"
                                else column(n) for n, r in rules.items()] + [c for _, c in until])
            con.execute(f"CREATE OR REPLACE TABLE {TABLES[kind]} AS SELECT {values} FROM {_read(path, types)}")
        for kind, rows in held.items():
            path = _tmp_csv(tmp, f"{kind}.csv", (list(row) for row in rows))
            types = {"child": "VARCHAR", "name": "VARCHAR", "start_us": "BIGINT", "end_us": "BIGINT"}
            con.execute(f"CREATE OR REPLACE TABLE {HELD_TABLES[kind]} AS SELECT * FROM {_read(path, types)}")
    create_tz(con, min(years, default=2000) - 1, max(years, default=2000) + 1)


# The keys of the ids (compiler/sql_keys.py KEY): each in_* table's id columns and the key column beside each
KEYS = {"in_children": {"id": "ck"}, "in_episodes": {"id": "ek", "child": "ck"},
        "in_actions": {"child": "ck", "episode": "ek"}, "in_statuses": {"child": "ck"}, "in_flags": {"child": "ck"},
        "judged_at": {"child": "ck"}}


def intern_ids(con: duckdb.DuckDBPyConnection) -> None:
    """Give every child and episode id its integer key (compiler/sql_keys.py KEY: its rank in text order, from 1),
    in a column beside it (`KEYS`), and child_names(child, child_id, shown) and episode_names(episode, episode_id,
    shown_episode), the keys' text (episode 0: no episode, ''), `shown` as the output prints it (a pseudonym
    after `rename_children`). Every reference is known to resolve (the readers check), so every key is found."""
    con.execute("CREATE OR REPLACE TABLE in_children AS SELECT *, row_number() OVER (ORDER BY id)::INTEGER AS ck "
                "FROM in_children")
    con.execute("""CREATE OR REPLACE TABLE in_episodes AS SELECT e.*, row_number() OVER (ORDER BY e.id)::INTEGER AS ek,
                   c.ck FROM in_episodes e JOIN in_children c ON c.id = e.child""")
    con.execute("""CREATE OR REPLACE TABLE in_actions AS SELECT a.*, c.ck, e.ek FROM in_actions a
                   JOIN in_children c ON c.id = a.child LEFT JOIN in_episodes e ON e.id = a.episode""")
    for table in ("in_statuses", "in_flags"):
        con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT h.*, c.ck FROM {table} h JOIN in_children c ON c.id = h.child")
    con.execute("CREATE OR REPLACE TABLE child_names AS SELECT ck AS child, id AS child_id, id AS shown FROM in_children")
    con.execute("""CREATE OR REPLACE TABLE episode_names AS SELECT ek AS episode, id AS episode_id, id AS shown_episode
                   FROM in_episodes UNION ALL SELECT 0, '', ''""")


def keyed(table: str, source: str, where: str = "", kind: str = "VIEW") -> str:
    """SQL: a view (or table) `table` of `source` (an in_* table) with each id column's key in its place, as
    the rules read it."""
    keys = KEYS[table]
    own = set(keys.values())
    return (f"CREATE OR REPLACE {kind} {table} AS SELECT * EXCLUDE ({', '.join([*keys, *own])}), "
            f"{', '.join(f'{k} AS {c}' for c, k in keys.items())} FROM {source}{where}")

# ---- the fast reader for bulk folders ----

def _header(path: Path, kind: str) -> list[str] | None:
    """The header's column names, when the file is plain enough for the fast reader: within the
    size limit, UTF-8 without a byte-order mark, no quotes, no NUL or \\x01 bytes (\\x01 is the raw read's
    null string) and no lone carriage returns, known unique columns with the required ones present."""
    if path.stat().st_size > limits.max_bulk_bytes():
        return None
    if path.stat().st_size == 0:
        return None
    with path.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
        if data[:3] == b"\xef\xbb\xbf" or data.find(b'"') >= 0 or data.find(b"\x00") >= 0 or data.find(b"\x01") >= 0:
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
    """The file as text columns; False when a row is longer or shorter than the header (a missing cell reads
    as NULL, an empty one as '') or a cell longer than `limits.MAX_CELL_CHARS` (which the reference loader
    refuses, F009 and F013)."""
    columns = {h: "VARCHAR" for h in header} | {f"_x{i}": "VARCHAR" for i in range(EXTRA)}
    cols = "{" + ", ".join(f"'{k}': 'VARCHAR'" for k in columns) + "}"
    con.execute(f"""CREATE OR REPLACE TABLE {table} AS SELECT * FROM read_csv({csv_source(path)}, columns={cols},
        header=true, delim=',', quote='"', escape='"', auto_detect=false, null_padding=true, strict_mode=false,
        nullstr='\x01')""")
    extra = " OR ".join([f"_x{i} IS NOT NULL" for i in range(EXTRA)] + [f'"{c}" IS NULL' for c in header])
    longest = ", ".join(f'coalesce(length("{c}"), 0)' for c in header)
    return not con.execute(f"SELECT count(*) FROM {table} WHERE {extra} OR greatest({longest}) > "
                           f"{limits.MAX_CELL_CHARS}").fetchone()[0]


def _col(header: list[str], name: str) -> str:
    return f'NULLIF("{name}", \'\')' if name in header else "NULL"


def load_folder(con: duckdb.DuckDBPyConnection, folder: str | Path) -> bool:
    """Read a bulk folder straight into the in_* tables. False (nothing usable loaded) when unsure."""
    folder = Path(folder)
    paths = {kind: folder / name for name, kind, _ in (("children.csv", "child", 1), ("episodes.csv", "episode", 1),
                                                        ("actions.csv", "action", 0), ("statuses.csv", "status", 0),
                                                        ("flags.csv", "flag", 0))}
    if not paths["child"].is_file() or not paths["episode"].is_file():
        return False
    headers = {}
    for kind, path in paths.items():
        if kind not in ("child", "episode") and not path.exists():
            continue
        h = _header(path, kind)
        if h is None:
            return False
        headers[kind] = h
    try:
        for kind, table in RAW.items():
            if kind in headers and not _raw(con, paths[kind], headers[kind], table):
                return False
        return _convert(con, headers)
    except duckdb.InterruptException:  # Ctrl-C inside a query is a duckdb.Error too: never a reason to decline
        raise
    except (duckdb.Error, UnicodeDecodeError):
        return False


def _value(rule: Rule, src: str, default: object) -> str:
    """SQL: a cell's text (NULL when blank) -> the field's value as the Python checks give it, NULL when invalid.
    Instants are read separately (`london_tables.instants_sql`)."""
    if rule.kind == "date":
        return f"CASE WHEN regexp_matches({src}, '^\\d{{4}}-\\d{{2}}-\\d{{2}}$') THEN try_cast({src} AS DATE) END"
    if rule.kind == "boolean":
        return (f"CASE WHEN lower({src}) IN ({sql_list(sorted(TRUE_WORDS))[1:-1]}) THEN true WHEN {src} IS NULL "
                f"OR lower({src}) IN ({sql_list(sorted(FALSE_WORDS))[1:-1]}) THEN false END")
    if rule.kind == "choices":
        return (f"list_distinct_ordered(list_filter(list_transform(string_split(coalesce({src}, ''), ';'), "
                f"lambda x: trim(x)), lambda x: x <> ''))")
    return src if default in (None, MISSING) else f"coalesce({src}, {literal(default)})"


def _invalid(rule: Rule, col: str) -> list[str]:
    """SQL conditions on an in_* row: this field breaks its rule."""
    out = [f"{col} IS NULL"] if rule.required or rule.kind == "boolean" else []
    if not rule.required and rule.kind in ("date", "instant"):
        out.append(f"(has_{col} AND {col} IS NULL)")  # written, but not a real date or time
    if rule.kind in ("id", "authority"):
        out.append(f"{col} IN ('True', 'False')")
    if rule.kind == "authority":
        out.append(near_home_sql(col))
    if rule.kind == "date":
        out.append(f"year({col}) NOT BETWEEN {YEARS[0]} AND {YEARS[1]}")
    if rule.kind == "choice":
        out.append(f"{col} NOT IN ({sql_list(rule.values)[1:-1]})")
    if rule.kind == "choices":
        out.append(f"NOT list_has_all({sql_list(rule.values)}, {col})")
    return out


def _load(con: duckdb.DuckDBPyConnection, kind: str, header: list[str], tz: list[tuple[int, int, int]]) -> str:
    """raw text rows -> the in_* table of `kind` (with has_* columns for optional dates and times);
    returns SQL counting the rows whose fields break `RULES`."""
    defaults = {f.name: f.default for f in fields(MODELS[kind])}
    cut, times, order, days = [], [], [], []
    for name, rule in RULES[kind].items():
        col, src = column(name), _col(header, name)
        order.append(col)
        if rule.kind == "instant":
            cut.append(f"{src} AS t_{col}")
            times.append((f"t_{col}", col))
            if rule.day_ok:  # a date alone: the whole day (facts/moments.py), in YEARS as parse_date reads it
                cut.append(f"CASE WHEN regexp_matches({src}, '^[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}$') "
                           f"AND year(try_cast({src} AS DATE)) BETWEEN {YEARS[0]} AND {YEARS[1]} "
                           f"THEN try_cast({src} AS DATE) END AS d_{col}")
                days.append(col)
        else:
            cut.append(f"{_value(rule, src, defaults.get(name))} AS {col}")
        if not rule.required and rule.kind in ("date", "instant"):
            cut.append(f"{src} IS NOT NULL AS has_{col}")
            order.append(f"has_{col}")
    blank = " AND ".join(f"{_col(header, h)} IS NULL" for h in header)
    con.execute(f"CREATE OR REPLACE TABLE cut_{kind} AS SELECT {', '.join(cut)} FROM {RAW[kind]} WHERE NOT ({blank})")
    keep = ", ".join([c for c in order if c not in {name for _, name in times}] + [f"d_{c}" for c in days])
    source = london.instants_sql(f"cut_{kind}", times, keep, tz) if times else f"SELECT * FROM cut_{kind}"
    selected = [f"coalesce({c}, {day_range_sql(f'd_{c}')[0]}) AS {c}" if c in days else c for c in order]
    selected += [f"{day_range_sql(f'd_{c}')[1]} AS {c}_until" for c in days]
    con.execute(f"CREATE OR REPLACE TABLE {TABLES[kind]} AS SELECT {', '.join(selected)} FROM ({source})")
    if days:
        con.execute(f"UPDATE {TABLES[kind]} SET {NARROW_SQL}")
    conds = [c for name, rule in RULES[kind].items() for c in _invalid(rule, column(name))]
    return f"SELECT count(*) FROM {TABLES[kind]} WHERE " + " OR ".join(conds)


def _convert(con: duckdb.DuckDBPyConnection, headers: dict[str, list[str]]) -> bool:
    """The raw tables -> in_* tables; False when any row breaks a field rule (`RULES`) or one of the
    rules across records facts/collect.py's FactCollector checks: unique ids, references, returned >= reported, reported
    on or after the child's birth (the London date)."""
    ha = headers.get("action")
    times = [("raw_e", "reported"), ("raw_e", "returned")] + ([("raw_a", "at")] if ha else [])
    of_table = {RAW[k]: h for k, h in headers.items()}
    years = " UNION ALL ".join(f"SELECT try_cast(left(\"{c}\", 4) AS INT) AS y FROM {t}" for t, c in times
                               if c in of_table[t])
    lo, hi = con.execute(f"SELECT min(y), max(y) FROM ({years})").fetchone()
    lo, hi = (lo or 2000), (hi or 2000)
    tz = create_tz(con, lo - 1, hi + 1)
    for statement in london.macros(tz):
        con.execute(statement)
    con.execute("CREATE OR REPLACE MACRO list_distinct_ordered(l) AS "
                "list_filter(l, lambda x, i: list_position(l, x) = i)")
    field_checks = [_load(con, kind, headers[kind], tz) for kind in ("child", "episode", "action") if kind in headers]
    if not ha:
        columns = ", ".join(f"{column(n)} {SQL_TYPE.get(r.kind, 'VARCHAR')}" for n, r in RULES["action"].items())
        con.execute(f"CREATE OR REPLACE TABLE in_actions ({columns})")
    clock = _held_clock(con, headers)
    if clock is None:
        return False
    field_checks += [_load_held(con, kind, headers.get(kind), clock) for kind in HELD_KINDS]
    bad = " UNION ALL ".join(field_checks) + """
      UNION ALL SELECT count(*) - count(DISTINCT id) FROM in_children
      UNION ALL SELECT count(*) - count(DISTINCT id) FROM in_episodes
      UNION ALL SELECT count(*) FROM in_episodes WHERE ret < rep OR child NOT IN (SELECT id FROM in_children)
      UNION ALL SELECT count(*) FROM in_episodes e JOIN in_children c ON c.id = e.child
        WHERE DATE '1970-01-01' + london_day(e.rep)::INTEGER < c.born
      UNION ALL SELECT count(*) FROM in_actions a WHERE child NOT IN (SELECT id FROM in_children)
        OR (episode IS NOT NULL AND NOT EXISTS (SELECT 1 FROM in_episodes e WHERE e.id = a.episode AND e.child = a.child))"""
    if any(n for (n,) in con.execute(bad).fetchall()):
        return False
    for kind in HELD_KINDS:
        _settle_held(con, kind)
    for kind in ("child", "episode", "action"):
        for name, rule in RULES[kind].items():
            if not rule.required and rule.kind in ("date", "instant") and kind in headers:
                con.execute(f"ALTER TABLE {TABLES[kind]} DROP has_{column(name)}")
    return True


# ---- statuses.csv, flags.csv: records of a status or flag in force over time ----

DATE_TEXT = "'^\\d{4}-\\d{2}-\\d{2}$'"


MAX_HELD_YEARS = 60  # distinct years of status/flag bounds the fast reader keeps a clock for


def _held_clock(con: duckdb.DuckDBPyConnection, headers: dict[str, list[str]]) -> list[tuple[int, int, int]] | None:
    """The macro `held_local(w)`: London's offset for wall times in just the years the bounds of
    statuses.csv/flags.csv name (and the year after each: a date `to` ends at the next midnight),
    so a bound far from the episodes needs no clock for the years between. Returns those transition
    rows (for times of day without an offset too), None when there are too many years."""
    cells = [f'SELECT "{c}" AS t FROM {RAW[k]}' for k in HELD_KINDS if k in headers for c in ("from", "to")
             if c in headers[k]]
    years: set[int] = set()
    if cells:
        rows = con.execute(f"""SELECT DISTINCT try_cast(left(t, 4) AS INT) AS y FROM ({' UNION ALL '.join(cells)})
                               WHERE y BETWEEN {YEARS[0]} AND {YEARS[1]}""").fetchall()
        years = {y for (y,) in rows if y is not None}
    years |= {y + 1 for y in years}
    if len(years) > 2 * MAX_HELD_YEARS:
        return None
    rows = [london.transitions(2000, 2000)[0]]
    for y in sorted(years):
        start = london.to_us(datetime(y, 1, 1, tzinfo=timezone.utc))
        year = london.transitions(y, y)
        rows.append((start, year[0][1], start + year[0][1]))
        rows += year[1:]
    con.execute(f"CREATE OR REPLACE MACRO held_local(w) AS w - ({london.offset_case('w', rows, True)})")
    return rows


def _bound(text: str, instant: str, to_us) -> str:
    """SQL: a from/to cell as facts/validate.py `moment` reads it -> a bound in us (NULL: blank or invalid).
    Ten characters: a date (a whole London day, facts/held.py); otherwise a date and time."""
    day = f"try_cast({text} AS DATE)"
    as_date = (f"CASE WHEN regexp_matches({text}, {DATE_TEXT}) AND year({day}) BETWEEN {YEARS[0]} AND {YEARS[1]} "
               f"THEN {to_us(day)} END")
    return f"CASE WHEN {text} IS NULL THEN NULL WHEN length({text}) = 10 THEN {as_date} ELSE {instant} END"


def _load_held(con: duckdb.DuckDBPyConnection, kind: str, header: list[str] | None,
               tz: list[tuple[int, int, int]]) -> str:
    """raw rows of statuses.csv (flags.csv) -> in_statuses (in_flags) with the row number `rn`; returns SQL
    counting the rows that break a rule: a field's (RULES), an unknown child, an end at or before its
    start, or two records of one name of one child in force at the same time (with in_children's lists)."""
    table = HELD_TABLES[kind]
    if header is None:
        con.execute(f"CREATE OR REPLACE TABLE {table} ({HELD_COLUMNS}, rn BIGINT, bad BOOLEAN)")
    else:
        blank = " AND ".join(f"{_col(header, h)} IS NULL" for h in header)
        con.execute(f"""CREATE OR REPLACE TABLE cut_{kind} AS SELECT row_number() OVER () AS rn,
            {_col(header, "child")} AS child, {_col(header, kind)} AS name, {_col(header, "from")} AS t_from,
            {_col(header, "to")} AS t_to FROM {RAW[kind]} WHERE NOT ({blank})""")
        timed = london.instants_sql(f"cut_{kind}", [("t_from", "i_from"), ("t_to", "i_to")], "rn, child, name, t_from, t_to", tz)
        con.execute(f"""CREATE OR REPLACE TABLE {table} AS SELECT child, name, start_us, end_us, rn,
            (t_from IS NOT NULL AND start_us IS NULL) OR (t_to IS NOT NULL AND end_us IS NULL) AS bad FROM (
              SELECT *, {_bound("t_from", "i_from", lambda d: date_start_sql(d, "held_local"))} AS start_us,
                        {_bound("t_to", "i_to", lambda d: date_end_sql(d, "held_local"))} AS end_us FROM ({timed}))""")
    rule = RULES[kind][kind]
    field = HELD_FIELDS[kind]
    every = f"""(SELECT row_number() OVER () AS k, * FROM (
                  SELECT id AS child, unnest({field}) AS name, NULL::BIGINT AS start_us, NULL::BIGINT AS end_us
                  FROM in_children UNION ALL SELECT child, name, start_us, end_us FROM {table}))"""
    return f"""SELECT count(*) FROM {table} WHERE bad OR child IS NULL OR child IN ('True', 'False') OR name IS NULL
                 OR name NOT IN ({sql_list(rule.values)[1:-1]}) OR child NOT IN (SELECT id FROM in_children)
                 OR end_us <= start_us
               UNION ALL SELECT count(*) FROM {every} a JOIN {every} b ON a.k < b.k AND a.child = b.child
                 AND a.name = b.name AND (a.start_us IS NULL OR b.end_us IS NULL OR a.start_us < b.end_us)
                 AND (b.start_us IS NULL OR a.end_us IS NULL OR b.start_us < a.end_us)"""


def _settle_held(con: duckdb.DuckDBPyConnection, kind: str) -> None:
    """As load_factset holds them: a record open both ways joins its child's list (after the list's own
    names, in file order); in_statuses (in_flags) keeps the bounded ones."""
    table, field = HELD_TABLES[kind], HELD_FIELDS[kind]
    con.execute(f"""UPDATE in_children SET {field} = list_concat(in_children.{field}, x.names) FROM (
        SELECT child, list(name ORDER BY rn) AS names FROM {table} WHERE start_us IS NULL AND end_us IS NULL
        GROUP BY child) x WHERE x.child = in_children.id""")
    con.execute(f"DELETE FROM {table} WHERE start_us IS NULL AND end_us IS NULL")
    con.execute(f"ALTER TABLE {table} DROP rn")
    con.execute(f"ALTER TABLE {table} DROP bad")
