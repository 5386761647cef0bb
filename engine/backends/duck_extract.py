"""An extract (facts/extracts) read straight into DuckDB: its CSV tables through SQL made from the profile.

Input: a connection and an `Extract` (folder + checked profile). Output: the raw tables of the
native fast reader (raw_c: id, born; raw_e: id, child, reported, returned, whereabouts_known;
raw_s: child, status, from, to, as statuses.csv; all text in the native format), then duck_load's `_convert` makes and checks the
in_* tables exactly as for a bulk folder. Every cell goes through the profile's date formats (the
regexes profile.py compiles, which the Python reader runs too), its codes and the id rule of
facts/extracts/mapping.py, in SQL. Like the native fast reader it declines (returns None, having
loaded nothing usable) the moment it is not sure: a file with quotes, a byte-order mark, NUL bytes
or lone carriage returns, a cell with surrounding white space, a date in no format, an unknown code,
a blank required cell, a status row whose child is not a person, an interval ending before it starts
or overlapping the one before; the caller then reads the extract with facts.extracts.read_extract,
which says exactly what is wrong. Otherwise it returns the warnings the Python reader gives (columns
ignored, optional files absent, return interviews offered with no date).
Invariant: whenever it loads, the tables equal load_factset(read_extract(extract)) (tested).
Nothing from the files or the profile is spliced into SQL except as a quoted literal (compiler/sql.py).
"""
from __future__ import annotations

import csv
import mmap
from pathlib import Path

import duckdb

from compiler.core.diagnostics import Diagnostic, Span, warning
from compiler.sql import literal
from engine.backends import duck_load
from facts import limits
from facts.extracts import Extract
from facts.extracts.profile import DateFormat, Table
from facts.extracts.tables import _columns, find_file

# Python's str.strip() removes these; a used cell starting or ending with one is left to the Python reader
WS = r"[\s\x{0b}\x{1c}-\x{1f}\x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}]"
PADDED = f"^{WS}|{WS}$"
BLANK = f"^{WS}*$"
EXTRA = 4


def _plain(path: Path) -> list[str] | None:
    """The header, when the file is plain enough (see the module); None otherwise."""
    st = path.stat()
    if st.st_size == 0 or st.st_size > limits.max_bulk_bytes():
        return None
    with path.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
        if data[:3] == b"\xef\xbb\xbf" or data.find(b'"') >= 0 or data.find(b"\x00") >= 0 or duck_load.LONE_CR.search(data):
            return None
    with path.open(newline="", encoding="utf-8", errors="strict") as fh:
        try:
            return next(csv.reader(fh, strict=True), None)
        except (csv.Error, UnicodeDecodeError):
            return None


def _native_sql(cell: str, formats: tuple[DateFormat, ...]) -> str:
    """SQL: tables.to_native of a cell (NULL when it fits no format as a real date). The format's regex
    decides whether it fits; its parts are then cut at their fixed places (DateFormat.offsets)."""
    whens = []
    for f in formats:
        off = f.offsets
        g = {n: f"substr({cell}, {a}{f', {w}' if w else ''})" for n, (a, w) in off.items()}
        day = f"{g['Y']} || '-' || {g['m']} || '-' || {g['d']}"
        text = day
        if "H" in g:
            text += f" || 'T' || {g['H']} || ':' || {g['M']}"
        if "S" in g:
            text += f" || ':' || {g['S']}"
        if "f" in g:
            text += f" || '.' || {g['f']}"
        whens.append(f"WHEN regexp_full_match({cell}, {literal(f.regex)}) AND try_cast({day} AS DATE) IS NOT NULL "
                     f"AND {g['Y']} <> '0000' THEN {text}")
    return "CASE " + " ".join(whens) + " END"


def _code_sql(cell: str, codes: dict[str, str], values: dict[str, str]) -> str:
    """SQL: the meaning of a code (exact, then without regard to case, as mapping._code), as `values` names it."""
    folded = {k.lower(): v for k, v in codes.items()}
    whens = [f"WHEN {cell} = {literal(k)} THEN {literal(values[v])}" for k, v in codes.items()]
    whens += [f"WHEN lower({cell}) = {literal(k)} THEN {literal(values[v])}" for k, v in folded.items()]
    return "CASE " + " ".join(whens) + " END"


class _Declined(Exception):
    pass


def _read(con: duckdb.DuckDBPyConnection, path: Path, header: list[str], name: str) -> None:
    cols = {f"c{i}": "VARCHAR" for i in range(len(header) + EXTRA)}
    spec = "{" + ", ".join(f"'{k}': 'VARCHAR'" for k in cols) + "}"
    con.execute(f"""CREATE OR REPLACE TABLE {name} AS SELECT * FROM read_csv({literal(str(path))}, columns={spec},
        header=true, delim=',', quote='"', escape='"', auto_detect=false, null_padding=true, strict_mode=false,
        nullstr='\x01')""")
    # a value past the header, or a cell missing (NULL; an empty one reads as ''): the Python reader's F009
    extra = " OR ".join([f"c{len(header) + i} IS NOT NULL" for i in range(EXTRA)]
                        + [f"c{i} IS NULL" for i in range(len(header))])
    blank = " AND ".join(f"regexp_matches(coalesce(c{i}, ''), {literal(BLANK)})" for i in range(len(header)))
    con.execute(f"DELETE FROM {name} WHERE {blank}")
    if con.execute(f"SELECT count(*) FROM {name} WHERE {extra}").fetchone()[0]:
        raise _Declined


def _check(con: duckdb.DuckDBPyConnection, sql: str) -> None:
    if con.execute(f"SELECT count(*) FROM ({sql})").fetchone()[0]:
        raise _Declined


def _table(con, extract: Extract, table: Table, required: bool, name: str, notes: list[Diagnostic]) -> dict | None:
    """Read one table into `name`; {fact: cell SQL}, or None when an optional file is absent."""
    path = find_file(extract.folder, table.file)
    if path is None:
        if required:
            raise _Declined
        what = f"no child is taken to hold {table.status}" if table.status else "it is skipped"
        notes.append(warning("F011", Span(str(extract.folder)), f"folder {extract.folder} has no {table.file}: {what}"))
        return None
    header = _plain(path)
    if not header:
        raise _Declined
    diags: list[Diagnostic] = []
    where = _columns(header, table, str(path), diags)
    if where is None or any(d.severity == "error" for d in diags):
        raise _Declined
    notes.extend(diags)
    _read(con, path, header, name)
    cells = {fact: f"coalesce(c{i}, '')" for fact, i in where.items()}
    padded = " OR ".join(f"regexp_matches({c}, {literal(PADDED)})" for c in cells.values())
    _check(con, f"SELECT 1 FROM {name} WHERE {padded}")
    return cells


def load_extract_sql(con: duckdb.DuckDBPyConnection, extract: Extract) -> list[Diagnostic] | None:
    """The extract -> the in_* tables (see the module); its warnings, or None when declined."""
    try:
        notes: list[Diagnostic] = []
        return _load(con, extract, notes)
    except duckdb.InterruptException:  # Ctrl-C inside a query is a duckdb.Error too: never a reason to decline
        raise
    except (_Declined, duckdb.Error, UnicodeDecodeError, OSError):
        for table in ("x_people", "x_missing", "x_held", *duck_load.SCRATCH):
            con.execute(f"DROP TABLE IF EXISTS {table}")
        return None


def _load(con, extract: Extract, notes: list[Diagnostic]) -> list[Diagnostic] | None:
    p = extract.profile
    fmt = p.formats
    pc = _table(con, extract, p.people, True, "x_people", notes)
    mc = _table(con, extract, p.missing, True, "x_missing", notes)
    assert pc is not None and mc is not None
    # people: id, born (the date of a date and time)
    con.execute(f"""CREATE OR REPLACE TABLE x_p AS SELECT rowid AS r, {pc['id']} AS id, {pc['born']} AS born_cell,
        left({_native_sql(pc['born'], fmt)}, 10) AS born FROM x_people""")
    _check(con, "SELECT 1 FROM x_p WHERE born_cell = '' OR born IS NULL")
    # statuses: one row per interval, checked as mapping._statuses checks them
    held = []
    for k, t in enumerate(p.statuses):
        sc = _table(con, extract, t, t.required, f"x_s{k}", notes)
        if sc is None:
            continue
        end = sc.get("end", "''")
        held.append(f"""SELECT {k} AS k, {literal(t.status or '')} AS status, rowid AS r, {sc['child']} AS child,
            {sc['start']} AS start_cell, {end} AS end_cell, {_native_sql(sc['start'], fmt)} AS s,
            CASE WHEN {end} <> '' THEN {_native_sql(end, fmt)} END AS e FROM x_s{k}""")
    if held:
        con.execute("CREATE OR REPLACE TABLE x_held AS " + " UNION ALL ".join(held))
        _check(con, """SELECT 1 FROM x_held WHERE child = '' OR start_cell = '' OR s IS NULL
            OR (end_cell <> '' AND e IS NULL) OR child NOT IN (SELECT id FROM x_p)""")
        # a bound: its London date, and its instant text when it has a time (mapping._start_key)
        con.execute("""CREATE OR REPLACE TABLE x_bounds AS SELECT *, left(s, 10) AS sd, CASE WHEN length(s) > 10 THEN s END AS st,
            left(e, 10) AS ed, CASE WHEN length(e) > 10 THEN e END AS et FROM x_held""")
        _check(con, """SELECT 1 FROM x_bounds WHERE e IS NOT NULL AND (ed < sd OR (ed = sd AND (st IS NOT NULL OR et IS NOT NULL)))""")
        # two starts on one day with a time: Python orders and compares them as instants; left to it
        _check(con, "SELECT 1 FROM x_bounds GROUP BY k, child, sd HAVING count(*) > 1 AND bool_or(st IS NOT NULL)")
        _check(con, """SELECT 1 FROM (SELECT *, lag(e) OVER w AS pe, lag(r) OVER w AS pr FROM x_bounds
            WINDOW w AS (PARTITION BY k, child ORDER BY sd, r)) WHERE pr IS NOT NULL AND (pe IS NULL OR sd < left(pe, 10)
            OR (sd = left(pe, 10) AND (st IS NOT NULL OR length(pe) > 10)))""")
        # the records as statuses.csv holds them (child, status, from, to: native text); one starting on the day
        # the previous ends continues it (mapping._chains; with times on that day the Python reader decides)
        con.execute("""CREATE OR REPLACE TABLE raw_s AS
            WITH o AS (SELECT *, lag(e) OVER (PARTITION BY k, child ORDER BY sd, r) AS pe FROM x_bounds),
            i AS (SELECT *, sum(CASE WHEN pe IS NOT NULL AND sd = left(pe, 10) THEN 0 ELSE 1 END)
                            OVER (PARTITION BY k, child ORDER BY sd, r ROWS UNBOUNDED PRECEDING) AS isl FROM o)
            SELECT child, any_value(status) AS status, list(s ORDER BY sd, r)[1] AS "from", list(e ORDER BY sd, r)[-1] AS "to"
            FROM i GROUP BY k, child, isl ORDER BY k, child, isl""")
    con.execute("CREATE OR REPLACE TABLE raw_c AS SELECT id, born FROM x_p ORDER BY r")
    # missing episodes
    m = p.missing
    kind = _code_sql(mc["type"], m.codes["type"], {"missing": "false", "absent": "true"}) if "type" in mc else "'false'"
    answer = {"yes": "yes", "no": "no", "none": "none"}
    offered = mc.get("interview_offered")
    offered_sql = (_code_sql(offered, m.codes["interview_offered"], answer) if offered and m.codes.get("interview_offered")
                   else f"CASE WHEN {offered} <> '' THEN 'yes' END" if offered else "NULL")
    accepted = mc.get("interview_accepted")
    accepted_sql = (_code_sql(accepted, m.codes["interview_accepted"], answer) if accepted and m.codes.get("interview_accepted")
                    else "'yes'")
    end = mc.get("end", "''")
    con.execute(f"""CREATE OR REPLACE TABLE x_m AS SELECT rowid AS r, {mc['child']} AS child, {mc['start']} AS start_cell,
        {end} AS end_cell, {_native_sql(mc['start'], fmt)} AS reported,
        CASE WHEN {end} <> '' THEN {_native_sql(end, fmt)} END AS returned,
        {mc.get('type', "''")} AS type_cell, {kind} AS whereabouts_known,
        {offered or "''"} AS offered_cell, {offered_sql} AS offered, {accepted or "''"} AS accepted_cell, {accepted_sql} AS accepted,
        {mc.get('id', 'NULL')} AS given_id FROM x_missing""")
    _check(con, f"""SELECT 1 FROM x_m WHERE child = '' OR start_cell = '' OR reported IS NULL OR (end_cell <> '' AND returned IS NULL)
        OR {"(type_cell = '' OR whereabouts_known IS NULL)" if "type" in mc else "false"}
        OR (offered_cell <> '' AND offered IS NULL) OR (accepted_cell <> '' AND accepted IS NULL)""")
    made = ("given_id" if "id" in mc else
            "child || '-' || replace(left(reported, 10), '-', '') || CASE WHEN row_number() OVER "
            "(PARTITION BY child, left(reported, 10) ORDER BY r) > 1 THEN '-' || row_number() OVER "
            "(PARTITION BY child, left(reported, 10) ORDER BY r) ELSE '' END")
    con.execute(f"""CREATE OR REPLACE TABLE raw_e AS SELECT NULLIF({made}, '') AS id, child, reported,
        NULLIF(returned, '') AS returned, whereabouts_known FROM x_m ORDER BY r""")
    no_date = con.execute("SELECT count(*) FROM x_m WHERE offered = 'yes'").fetchone()[0]
    for t in ("x_people", "x_missing", "x_p", "x_held", "x_bounds", "x_m", *(f"x_s{k}" for k in range(len(p.statuses)))):
        con.execute(f"DROP TABLE IF EXISTS {t}")
    headers = {"child": ["id", "born"], "episode": ["id", "child", "reported", "returned", "whereabouts_known"]}
    if held:
        headers["status"] = ["child", "status", "from", "to"]
    if not duck_load._convert(con, headers):
        raise _Declined
    for t in duck_load.SCRATCH:
        con.execute(f"DROP TABLE IF EXISTS {t}")
    if no_date:
        path = find_file(extract.folder, m.file)
        notes.append(warning("F020", Span(str(path)), f"{no_date} return interview"
                             f"{'s are' if no_date != 1 else ' is'} recorded as offered with no date: "
                             "Clause records none of them as done (their duties stay open or overdue)",
                             "a return interview counts as done once the extract gives when it was held"))
    return notes
