"""The CSV problems both fact readers report alike (bulk folders, facts/bulk.py; extracts,
facts/extracts/tables.py): a row whose width is not its header's (F009) and a syntax error (F001).

Input: a file, a line and what csv.reader saw. Output: one `Diagnostic`, or None for a row of the
right width. A missing cell is never read as an empty one: a row cut short would silently lose a
return or a flag. Imports nothing of ours but the diagnostics.
"""
from __future__ import annotations

import csv
from pathlib import Path

from compiler.core.diagnostics import Diagnostic, Span, error


def row_width(file: str, line: int, values: int, width: int) -> Diagnostic | None:
    """F009 at the first value past the header's columns, or at the first missing one."""
    if values == width:
        return None
    return error("F009", Span(file, line, min(values, width) + 1),
                 f"this row has {values} values but the header names {width} columns",
                 "quote values that contain commas" if values > width else
                 "write every column, an empty value (a comma) for one not known")


def unclosed(exc: csv.Error) -> bool:
    """Whether csv.reader met the end of the file inside a quoted value: the row it was reading starts
    at the quote's line, the place to report."""
    return "unexpected end of data" in str(exc)


def syntax(file: str, line: int, exc: csv.Error) -> Diagnostic:
    """F001 at `line` (the row's first line for an `unclosed` quote, else the line csv.reader stopped at)."""
    name = Path(file).name
    message = (f"a quoted value in {name} opened in the row starting here is never closed" if unclosed(exc)
               else f"CSV syntax error in {name}: {exc}")
    return error("F001", Span(file, max(line, 1), 1), message, "check the quotes on this line")
