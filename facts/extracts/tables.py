"""An extract's CSV tables, read as a profile says: located cells of the columns it names.

Input: a folder and a `Profile` (profile.py). Output: for each table, its header check and
its rows as {fact: (cell text, Span)}; plus diagnostics: F011 a required file missing, F004 a
column the profile names missing, F008 a column twice, F001 unreadable CSV, F013 too large;
one warning (F019) per table listing the columns the profile does not use (they are ignored).
Invariants: every span names the file, the CSV line (the header is line 1) and the column;
a cell's content is never put in a message; files are matched by name without regard to case.
Dates: `to_native` turns a cell into the native text facts/validate.py reads, by the profile's
formats (the same regexes engine/backends/duck_extract.py runs in SQL).
"""
from __future__ import annotations

import csv
import re
from datetime import date
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from compiler.core.diagnostics import Diagnostic, Span, error, warning
from facts import limits
from facts.csv_problems import row_width, syntax, unclosed
from facts.extracts.profile import DateFormat, Profile, Table

Cell = tuple[str, Span]


@dataclass
class TableRows:
    table: Table
    path: Path | None
    rows: list[dict[str, Cell]] = field(default_factory=list)
    complete: bool = False  # every row could be read


def find_file(folder: Path, name: str) -> Path | None:
    """The file in `folder` called `name`, without regard to case (an exact match first)."""
    exact = folder / name
    if exact.is_file():
        return exact
    try:
        for p in sorted(folder.iterdir()):
            if p.name.lower() == name.lower():
                return p
    except OSError:
        return None
    return None


def _columns(header: list[str], table: Table, file: str, diags: list[Diagnostic]) -> dict[str, int] | None:
    """fact -> column index, matched exactly or else without regard to case; None when unusable."""
    names = [h.strip() for h in header]
    where: dict[str, int] = {}
    usable = True
    wanted = {col.lower(): fact for fact, col in table.columns.items()}
    used: set[int] = set()
    for fact, col in table.columns.items():
        hits = [i for i, n in enumerate(names) if n == col] or [i for i, n in enumerate(names) if n.lower() == col.lower()]
        if len(hits) > 1:
            diags.append(error("F008", Span(file, 1, hits[1] + 1), f"column '{col}' appears twice in {Path(file).name}",
                               "keep one of them", (Span(file, 1, hits[0] + 1),)))
            usable = False
        elif hits:
            where[fact] = hits[0]
            used.add(hits[0])
    for fact, col in table.columns.items():
        # every column the profile names must be there: a renamed end date or episode type read as absent
        # would make every episode open or missing without a word (a profile leaves out what an export lacks)
        if fact not in where and (table.kind != "missing" or fact != "id"):
            diags.append(error("F004", Span(file, 1, 1), f"{Path(file).name} has no '{col}' column (the profile reads "
                               f"'{fact}' from it)", "the file's columns: " + ", ".join(n or "(unnamed)" for n in names[:30])
                               + "; if yours is named otherwise, change a copy of the profile (or leave the line out "
                               "of your copy when your export has no such column)"))
            usable = False
    extra = [n for i, n in enumerate(names) if i not in used and n.lower() not in wanted]
    if extra:
        shown = ", ".join(n or f"(column {names.index(n) + 1}, unnamed)" for n in extra[:20])
        diags.append(warning("F019", Span(file, 1, 1),
                             f"{Path(file).name}: {len(extra)} column{'s' * (len(extra) != 1)} the profile does not use, "
                             f"ignored: {shown}{', ...' if len(extra) > 20 else ''}"))
    return where if usable else None


def read_table(folder: Path, table: Table, required: bool, diags: list[Diagnostic], child: str | None = None) -> TableRows:
    """One table's rows (only `child`'s, when given). A missing optional file is a warning (F011): no row."""
    path = find_file(folder, table.file)
    out = TableRows(table, path)
    if path is None:
        if required:
            diags.append(error("F011", Span(str(folder)), f"folder {folder} has no {table.file}",
                               f"export {table.file}, or give the profile that names your file"))
        else:
            what = f"no child is taken to hold {table.status}" if table.status else "it is skipped"
            diags.append(warning("F011", Span(str(folder)), f"folder {folder} has no {table.file}: {what}"))
            out.complete = True
        return out
    file = str(path)
    try:
        refused = limits.refuse(path, file, limits.max_bulk_bytes(), "an extract CSV file")
        if refused is not None:
            diags.append(refused)
            return out
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh, strict=True)
            line = 1  # the first line of the row being read
            try:
                header = next(reader, None)
                if header is None or not any(h.strip() for h in header):
                    diags.append(error("F010", Span(file, 1, 1), f"{path.name} is empty; expected a header row",
                                       "first row: " + ",".join(table.columns.values())))
                    return out
                where = _columns(header, table, file, diags)
                if where is None:
                    return out
                key = where.get("id" if table.kind == "people" else "child")
                line = reader.line_num + 1
                for row in reader:
                    if any(c.strip() for c in row) and (child is None or (key is not None and key < len(row)
                                                                            and row[key].strip() == child)):
                        if (wrong := row_width(file, line, len(row), len(header))) is not None:
                            diags.append(wrong)
                        out.rows.append({fact: (row[i].strip() if i < len(row) else "", Span(file, line, i + 1))
                                         for fact, i in where.items()})
                    line = reader.line_num + 1
            except UnicodeDecodeError:
                diags.append(error("F001", Span(file, reader.line_num + 1, 1), f"{path.name} is not UTF-8 text",
                                   "save the file as UTF-8"))
                return out
            except csv.Error as exc:
                diags.append(syntax(file, line if unclosed(exc) else reader.line_num, exc))
                return out
    except OSError as exc:
        diags.append(error("F011", Span(file), f"cannot read {file}: {exc.strerror or exc}"))
        return out
    out.complete = True
    return out


def read_tables(folder: Path, profile: Profile, diags: list[Diagnostic], child: str | None = None) -> Iterator[TableRows]:
    yield read_table(folder, profile.people, True, diags, child)
    yield read_table(folder, profile.missing, True, diags, child)
    for t in profile.statuses:
        yield read_table(folder, t, t.required, diags, child)


# ---- dates: the profile's formats -> the native text ----

def native(m: re.Match) -> str:
    """A format's match -> `YYYY-MM-DD` (a date alone) or `YYYY-MM-DDTHH:MM[:SS[.f]]`."""
    g = m.groupdict()
    text = f"{g['Y']}-{g['m']}-{g['d']}"
    if g.get("H") is not None:
        text += f"T{g['H']}:{g['M']}"
        if g.get("S") is not None:
            text += f":{g['S']}" + (f".{g['f']}" if g.get("f") is not None else "")
    return text


def to_native(cell: str, formats: tuple[DateFormat, ...], compiled: list[re.Pattern]) -> str | None:
    """The cell in the native text by the first format it fits as a real date, or None."""
    for pattern in compiled:
        m = pattern.match(cell)
        if m is not None and _real(m):
            return native(m)
    return None


def _real(m: re.Match) -> bool:
    try:
        date(int(m["Y"]), int(m["m"]), int(m["d"]))
    except ValueError:
        return False
    return True


def swapped(cell: str, formats: tuple[DateFormat, ...]) -> str | None:
    """When the cell fits a format only with day and month the other way round, that reading's name
    (e.g. 'mm/dd/yyyy'), so the message can state it; None otherwise."""
    for f in formats:
        if "%d" not in f.text or "%m" not in f.text:
            continue
        other = f.regex.replace("(?P<d>", "(?P<x>").replace("(?P<m>", "(?P<d>").replace("(?P<x>", "(?P<m>")
        m = re.match(other, cell)
        if m is not None and _real(m):
            return f.text.replace("%d", "\0").replace("%m", "dd").replace("\0", "mm").replace("%Y", "yyyy") \
                .replace("%H", "HH").replace("%M", "MM").replace("%S", "SS").replace("%f", "fff")
    return None
