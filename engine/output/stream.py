"""Obligations held in DuckDB, written as they are read: table, JSON or CSV, a batch at a time.

Input: a `DuckEvaluation`, the run's name, optional filters, a text sink. Output: exactly
the text `engine.output.render.table`, `as_json` and `as_csv` give for the same run (tested), but
produced row by row from the `sql` side of engine/output/columns.py (the cells formatted in
SQL, table columns padded in SQL to widths computed first), so a national year is never held
in memory as Python objects or as one string. A file goes through the one atomic writer.
"""
from __future__ import annotations

import errno
import json
import os
import re
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator, TextIO

import duckdb

from compiler.core.files import atomic, atomic_path
from compiler.core.london import format_instant
from compiler.sql import literal
from engine.backends.duck import DuckEvaluation
from engine.meaning.lifecycle import NAMED, RESULT
from engine.meaning.obligations import HEAD_TEXTS
from engine.output.columns import (APPROX, CSV_HEADER, DATA, FORMULA_SQL, HEAD_TEXT, HEADERS, HEADING_EPISODES, ID_TEXT,
                                   LISTS, NUMBERS, OCCURRENCE, PLAIN, TABLE, csv_line, csv_text, csv_text_sql,
                                   heading)
from engine.meaning.lifecycle import span_macro

Write = Callable[[str], object]

CELLS = tuple(c.sql for c in TABLE)  # the table's cells, in its column order
JSON_COLUMNS_LIST = tuple(c.sql for c in DATA)
JSON_COLUMNS = ", ".join(JSON_COLUMNS_LIST) + ", " + OCCURRENCE.sql + ", " + ", ".join(c.sql for c in APPROX)


def _widths(ev: DuckEvaluation, child: str | None, status: str | None) -> tuple[list[int], int, bool]:
    """Column widths (header included), the count, whether all is ASCII."""
    where, params = ev.where(child, status)
    cols = ", ".join(f"max(length({c})), max(strlen({c}))" for c in CELLS)
    row = ev.con.execute(f"SELECT count(*), {cols} FROM {NAMED}{where}",
                         params).fetchone()
    count, sizes = row[0], row[1:]
    chars, nbytes = sizes[0::2], sizes[1::2]
    ascii_only = all(c == b for c, b in zip(chars, nbytes))
    if not ascii_only:  # measure as Python does
        widths = [0] * len(CELLS)
        for r in ev.rows(", ".join(CELLS), child, status):
            widths = [max(w, len(x)) for w, x in zip(widths, r)]
    else:
        widths = [c or 0 for c in chars]
    return [max(w, len(h)) for w, h in zip(widths, HEADERS)], count, ascii_only


def write_table(ev: DuckEvaluation, name: str, write: Write, child: str | None = None, status: str | None = None) -> None:
    span_macro(ev.con)
    widths, count, ascii_only = _widths(ev, child, status)
    many = ev.episode_count(child)  # beyond HEADING_EPISODES only their number is shown: not built
    write(heading(name, ev.at, count, many if many > HEADING_EPISODES else ev.episodes_of(child)) + "\n")
    write(("  " + "  ".join(c.ljust(n) for c, n in zip(HEADERS, widths))).rstrip() + "\n")
    write(("  " + "  ".join("-" * n for n in widths)).rstrip() + "\n")
    if not ascii_only:  # pad as Python does
        for r in ev.rows(", ".join(CELLS), child, status):
            write(("  " + "  ".join(x.ljust(n) for x, n in zip(r, widths))).rstrip() + "\n")
        return
    line = " || '  ' || ".join(f"rpad({cell}, {n}, ' ')" for cell, n in zip(CELLS, widths))
    for (text,) in ev.rows(f"rtrim('  ' || {line}, ' ')", child, status):
        write(text + "\n")


def _indent(text: str, prefix: str) -> str:
    return "\n".join(prefix + line for line in text.split("\n"))


def write_json(ev: DuckEvaluation, name: str, write: Write, child: str | None = None, status: str | None = None) -> None:
    dump = lambda x: json.dumps(x, indent=2, ensure_ascii=False)  # noqa: E731
    write("[\n  {\n" + f'    "case": {dump(name)},\n    "as_of": {dump(_iso_at(ev))},\n')
    episodes = [e.to_json() for e in ev.episodes_of(child)]
    write('    "episodes": ' + ("[]" if not episodes else "[\n" + ",\n".join(_indent(dump(e), "      ") for e in episodes)
                                + "\n    ]") + ",\n")
    write('    "obligations": ')
    first = True
    keys = tuple(c.name for c in DATA)
    for r in ev.rows(JSON_COLUMNS, child, status):
        d = dict(zip(keys, r))
        for k in LISTS:
            d[k] = d[k].split(";")
        if r[len(keys)]:
            d["occurrence"] = r[len(keys)]
        if r[len(keys) + 1] == "approximate":
            d.update(zip((c.name for c in APPROX), r[len(keys) + 1:]))
        write(("[\n" if first else ",\n") + _indent(dump(d), "      "))
        first = False
    write("[]\n  }\n]\n" if first else "\n    ]\n  }\n]\n")


def _iso_at(ev: DuckEvaluation) -> str:
    return format_instant(ev.at)


SHOWN_IDS = "SELECT shown AS t FROM child_names UNION ALL SELECT shown_episode FROM episode_names"  # as printed


def _safe_ids(ev: DuckEvaluation, name: str, pattern: str) -> bool:
    """True when no child or episode id as printed (a pseudonym where the run renames them: `rename_children`),
    nor the run's name, holds a character matching `pattern`."""
    if re.search(pattern, name):
        return False
    return not ev.con.execute(f"SELECT bool_or(regexp_matches(t, '{pattern}')) FROM ({SHOWN_IDS})").fetchone()[0]


CSV_SPECIAL = r"[,\"\r\n]"


def write_csv(ev: DuckEvaluation, name: str, write: Write, child: str | None = None, status: str | None = None) -> None:
    if _safe_ids(ev, name, CSV_SPECIAL):  # nothing needs quoting: DuckDB writes the file itself
        _copy_csv(ev, name, write, child, status)
        return

    write(csv_line(CSV_HEADER))
    batch = []
    for r in ev.rows(JSON_COLUMNS, child, status):
        batch.append(csv_line((csv_text(name), *("" if v is None else csv_text(v) for v in r[:len(DATA)]),
                               r[len(DATA)] or "", *("" if v is None else csv_text(v) for v in r[len(DATA) + 1:]))))
        if len(batch) >= 10_000:
            write("".join(batch))
            batch = []
    write("".join(batch))


def _need_guard(ev: DuckEvaluation, texts: str) -> bool:
    """Whether some text of `texts` (SQL giving a column t) starts with a formula character."""
    return bool(ev.con.execute(f"SELECT bool_or(regexp_matches(t, '{FORMULA_SQL}')) FROM ({texts})").fetchone()[0])


def _copy_to(ev: DuckEvaluation, name: str, path: str, child: str | None, status: str | None) -> None:
    """COPY the ordered rows to `path` (empty text as NULL, so nothing is quoted)."""
    where, params = ev.where(child, status)
    plain = PLAIN | (frozenset() if _need_guard(ev, HEAD_TEXTS) else HEAD_TEXT) | (
        frozenset() if _need_guard(ev, SHOWN_IDS) else ID_TEXT)
    cols = [f"{literal(csv_text(name))} AS \"case\""] + [
        f"{c.sql} AS \"{c.name}\"" if c.name in NUMBERS else
        f"nullif({c.sql if c.name in plain else csv_text_sql(c.sql)}, '') AS \"{c.name}\"" for c in DATA] + [
        f"nullif({OCCURRENCE.sql}, 0) AS {OCCURRENCE.name}"] + [f"{c.sql} AS \"{c.name}\"" for c in APPROX]
    query = RESULT.format(columns=", ".join(cols), where=where)
    ev.con.execute(f"COPY ({query}) TO {literal(path)} (FORMAT csv, HEADER true, DELIMITER ',', QUOTE '\"', USE_TMP_FILE false)",
                   params)


def _copy_csv(ev: DuckEvaluation, name: str, write: Write, child: str | None, status: str | None) -> None:
    """COPY the ordered rows to a temporary file, then pass it on (to stdout; a file is written in place:
    `write_file`)."""
    with tempfile.TemporaryDirectory(prefix="clause-csv-") as tmp:
        path = os.path.join(tmp, "out.csv")
        _copy_to(ev, name, path, child, status)
        with open(path, encoding="utf-8", newline="") as fh:
            while chunk := fh.read(1 << 20):
                write(chunk)


def write_file(ev: DuckEvaluation, fmt: str, name: str, output: str | None, stdout: TextIO,
               child: str | None = None, status: str | None = None) -> None:
    """WRITERS[fmt] to `output` (or stdout), through the one atomic writer. CSV with nothing to quote goes
    from DuckDB's COPY straight into the atomic writer's temporary file: no second copy of the text."""
    if fmt == "csv" and output is not None and _safe_ids(ev, name, CSV_SPECIAL):
        with atomic_path(Path(output)) as tmp:
            try:
                _copy_to(ev, name, tmp, child, status)
            except duckdb.IOException as e:  # DuckDB's own write failed (a full disk): the writer's O002
                code = re.search(r'"errno":"(\d+)"', str(e))
                raise OSError(int(code.group(1)) if code else errno.EIO, "DuckDB could not write the file") from None
        return
    with sink(output, stdout) as write:
        WRITERS[fmt](ev, name, write, child, status)


WRITERS = {"table": write_table, "json": write_json, "csv": write_csv}


@contextmanager
def sink(output: str | None, stdout: TextIO) -> Iterator[Write]:
    """stdout, or a file through the one atomic writer (compiler/core/files.py): written beside its
    final path, flushed to disk, given the usual permissions and renamed into place when complete."""
    if output is None:
        yield stdout.write
        stdout.flush()
        return
    with atomic(Path(output)) as fh:
        yield fh.write
