"""Obligations held in DuckDB, written as they are read: table, JSON or CSV, a batch at a time.

Input: a `DuckEvaluation`, the run's name, optional filters, a text sink. Output: exactly
the text `engine.output.render.table`, `as_json` and `as_csv` give for the same run (tested), but
produced row by row: times are formatted in SQL (London clock, as `_when` and
`format_instant` do), table columns are padded in SQL to widths computed first, so a
national year is never held in memory as Python objects or as one string.
"""
from __future__ import annotations

import csv
import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator, TextIO

from engine.backends.duck import DuckEvaluation
import duckdb

from engine.meaning.lifecycle import RESULT
from engine.meaning.obligations import FIELDS
from engine.output.render import COLUMNS, _when

Write = Callable[[str], object]

# SQL over occ `o` and heads `h`; the table's cells, in COLUMNS order.
CELLS = (
    "coalesce(strftime(make_timestamp(o.due_wall), '%a %d %b %Y %H:%M'), '-')"
    " || CASE WHEN o.due IS NOT NULL AND h.standard IS NOT NULL THEN ' (' || h.standard || ')' ELSE '' END",
    "CASE WHEN o.status = 'overdue' THEN 'OVERDUE' WHEN o.status = 'open' AND o.open_for IS NOT NULL "
    "THEN 'open ' || span_words(o.open_for) ELSE coalesce(o.status, '') END",
    "o.shown",
    "CASE WHEN o.episode = '' THEN '-' ELSE o.episode END",
    "h.action || CASE WHEN o.occurrence > 0 THEN ' #' || o.occurrence ELSE '' END",
    "h.actor", "h.modality",
    "coalesce(strftime(make_timestamp(o.triggered_wall), '%a %d %b %Y %H:%M'), '-')",
    "h.clause || CASE WHEN h.exception <> '' THEN ' (via ' || h.exception || ')' ELSE '' END"
    " || CASE WHEN contains(o.clauses, ';') THEN ', ' || replace(substr(o.clauses, strpos(o.clauses, ';') + 1), ';', ', ') "
    "ELSE '' END",
)


def span_macro(con: duckdb.DuckDBPyConnection) -> None:
    """span_words(minutes): render.span_words in SQL."""
    plural = lambda n, w: f"({n})::VARCHAR || ' {w}' || CASE WHEN ({n}) = 1 THEN '' ELSE 's' END"  # noqa: E731
    d, h, mi = "m // 1440", "m % 1440 // 60", "m % 60"
    con.execute(f"""CREATE OR REPLACE MACRO span_words(m) AS CASE
        WHEN {d} > 0 THEN {plural(d, 'day')} || CASE WHEN {h} > 0 THEN ' ' || {plural(h, 'hour')} ELSE '' END
        WHEN {h} > 0 THEN {plural(h, 'hour')} || CASE WHEN {mi} > 0 THEN ' ' || {plural(mi, 'minute')} ELSE '' END
        ELSE {plural(mi, 'minute')} END""")


def iso(expr: str, wall: str) -> str:
    """SQL: `format_instant` of an instant in us, given its London clock time (NULL stays NULL):
    seconds when not zero, and the offset when the clock time would read back as another
    instant (the second 01:xx of an autumn clock change)."""
    offset = f"({wall} - {expr})"
    return (f"strftime(make_timestamp({wall}), '%Y-%m-%dT%H:%M') || CASE WHEN floor_div({wall}, 1000000) % 60 <> 0 "
            f"THEN strftime(make_timestamp({wall}), ':%S') ELSE '' END || CASE WHEN london_local({wall}) <> {expr} "
            f"THEN (CASE WHEN {offset} < 0 THEN '-' ELSE '+' END) || lpad((abs({offset}) // 3600000000)::VARCHAR, 2, '0') "
            f"|| ':' || lpad((abs({offset}) // 60000000 % 60)::VARCHAR, 2, '0') ELSE '' END")


JSON_COLUMNS_LIST = ("o.shown", "CASE WHEN o.episode = '' THEN NULL ELSE o.episode END", "h.action", "h.actor",
                     "h.modality", iso("o.triggered", "o.triggered_wall"), iso("o.due", "o.due_wall"), "h.clause",
                     "coalesce(o.clauses, h.clause)", "CASE WHEN h.exception = '' THEN NULL ELSE h.exception END", "o.status",
                     "o.open_for", "CASE WHEN o.due IS NOT NULL THEN h.standard END")
JSON_COLUMNS = ", ".join(JSON_COLUMNS_LIST) + ", o.occurrence"
KEYS = ("child", "episode", "action", "actor", "modality", "triggered", "due", "clause", "clauses", "exception", "status",
        "open_for", "standard")


def _widths(ev: DuckEvaluation, child: str | None, status: str | None) -> tuple[list[int], bool, int, bool]:
    """Column widths (header included), whether any obligation has a status, the count, whether all is ASCII."""
    where, params = ev.where(child, status)
    cols = ", ".join(f"max(length({c})), max(strlen({c}))" for c in CELLS)
    row = ev.con.execute(f"SELECT count(*), bool_or(o.status IS NOT NULL), {cols} FROM occ o JOIN heads h USING (hid){where}",
                         params).fetchone()
    count, any_status, sizes = row[0], bool(row[1]), row[2:]
    chars, nbytes = sizes[0::2], sizes[1::2]
    ascii_only = all(c == b for c, b in zip(chars, nbytes))
    if not ascii_only:  # measure as Python does
        widths = [0] * len(CELLS)
        for r in ev.rows(", ".join(CELLS), child, status):
            widths = [max(w, len(x)) for w, x in zip(widths, r)]
    else:
        widths = [c or 0 for c in chars]
    return [max(w, len(h)) for w, h in zip(widths, COLUMNS)], any_status, count, ascii_only


def _episodes_phrase(ev: DuckEvaluation) -> str:
    return ", ".join(f"{e.id} {e.category or '?'}{', risk ' + e.risk if e.risk else ''}" for e in ev.episodes)


def write_table(ev: DuckEvaluation, name: str, write: Write, child: str | None = None, status: str | None = None) -> None:
    span_macro(ev.con)
    widths, any_status, count, ascii_only = _widths(ev, child, status)
    ep = _episodes_phrase(ev)
    write(f"{name}: as at {_when(ev.at)} - {count} obligation{'s' * (count != 1)}" + (f"; episodes: {ep}" if ep else "") + "\n")
    keep = list(range(len(COLUMNS)))
    head = [COLUMNS[i] for i in keep]
    w = [widths[i] for i in keep]
    write(("  " + "  ".join(c.ljust(n) for c, n in zip(head, w))).rstrip() + "\n")
    write(("  " + "  ".join("-" * n for n in w)).rstrip() + "\n")
    if not ascii_only:  # pad as Python does
        for r in ev.rows(", ".join(CELLS), child, status):
            write(("  " + "  ".join(r[i].ljust(n) for i, n in zip(keep, w))).rstrip() + "\n")
        return
    line = " || '  ' || ".join(f"rpad({CELLS[i]}, {n}, ' ')" for i, n in zip(keep, w))
    for (text,) in ev.rows(f"rtrim('  ' || {line}, ' ')", child, status):
        write(text + "\n")


def _indent(text: str, prefix: str) -> str:
    return "\n".join(prefix + line for line in text.split("\n"))


def write_json(ev: DuckEvaluation, name: str, write: Write, child: str | None = None, status: str | None = None) -> None:
    dump = lambda x: json.dumps(x, indent=2, ensure_ascii=False)  # noqa: E731
    write("[\n  {\n" + f'    "case": {dump(name)},\n    "as_of": {dump(_iso_at(ev))},\n')
    episodes = [e.to_json() for e in ev.episodes]
    write('    "episodes": ' + ("[]" if not episodes else "[\n" + ",\n".join(_indent(dump(e), "      ") for e in episodes)
                                + "\n    ]") + ",\n")
    write('    "obligations": ')
    first = True
    n = len(KEYS)
    for r in ev.rows(JSON_COLUMNS, child, status):
        d = dict(zip(KEYS, r))
        d["clauses"] = d["clauses"].split(";")
        if r[n]:
            d["occurrence"] = r[n]
        write(("[\n" if first else ",\n") + _indent(dump(d), "      "))
        first = False
    write("[]\n  }\n]\n" if first else "\n    ]\n  }\n]\n")


def _iso_at(ev: DuckEvaluation) -> str:
    from compiler.core.london import format_instant
    return format_instant(ev.at)


def _safe_ids(ev: DuckEvaluation, name: str, pattern: str) -> bool:
    """True when no child or episode id (nor the run's name) holds a character matching `pattern`."""
    import re
    if re.search(pattern, name):
        return False
    found = ev.con.execute(f"SELECT bool_or(regexp_matches(id, '{pattern}')) FROM "
                           "(SELECT id FROM in_children UNION ALL SELECT id FROM in_episodes)").fetchone()[0]
    return not found


CSV_SPECIAL = r"[,\"\r\n]"
JSON_SPECIAL = r"[\"\\\x00-\x1f]"


def write_csv(ev: DuckEvaluation, name: str, write: Write, child: str | None = None, status: str | None = None) -> None:
    if _safe_ids(ev, name, CSV_SPECIAL):  # nothing needs quoting: DuckDB writes the file itself
        _copy_csv(ev, name, write, child, status)
        return

    class Sink:
        def write(self, s: str) -> None:
            write(s)

    writer = csv.writer(Sink(), lineterminator="\n")
    writer.writerow(("case", *FIELDS, "occurrence"))
    batch = []
    for r in ev.rows(JSON_COLUMNS, child, status):
        batch.append((name, *("" if v is None else v for v in r[:len(KEYS)]), r[len(KEYS)] or ""))
        if len(batch) >= 10_000:
            writer.writerows(batch)
            batch = []
    writer.writerows(batch)


def _copy_csv(ev: DuckEvaluation, name: str, write: Write, child: str | None, status: str | None) -> None:
    """COPY the ordered rows to a temporary file (empty text as NULL, so nothing is quoted), then pass it on."""
    from compiler.sql import literal
    conds = [f"{c} = {literal(v)}" for c, v in (("o.child", child), ("o.status", status)) if v is not None]
    cols = [f"{literal(name)} AS \"case\""] + [
        (f"{expr} AS \"{f}\"" if f == "open_for" else f"nullif({expr}, '') AS \"{f}\"")
        for expr, f in zip(JSON_COLUMNS_LIST, FIELDS)] + [
        "nullif(o.occurrence, 0) AS occurrence"]
    query = RESULT.format(columns=", ".join(cols), where=" WHERE " + " AND ".join(conds) if conds else "")
    with tempfile.TemporaryDirectory(prefix="clause-csv-") as tmp:
        path = os.path.join(tmp, "out.csv")
        ev.con.execute(f"COPY ({query}) TO {literal(path)} (FORMAT csv, HEADER true, DELIMITER ',', QUOTE '\"')")
        with open(path, encoding="utf-8", newline="") as fh:
            while chunk := fh.read(1 << 20):
                write(chunk)


WRITERS = {"table": write_table, "json": write_json, "csv": write_csv}


@contextmanager
def sink(output: str | None, stdout: TextIO) -> Iterator[Write]:
    """stdout, or a file written beside its final path and renamed into place when complete."""
    if output is None:
        yield stdout.write
        stdout.flush()
        return
    path = Path(output)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            yield fh.write
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
