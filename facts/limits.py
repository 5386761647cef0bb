"""Input size limits: past them a clear error (F013), never memory exhaustion.

Case files are parsed whole, so they are small by nature; bulk CSV files are
streamed row by row but their facts are held for evaluation. Both limits can be
raised with environment variables (bytes): CLAUSE_MAX_CASE_BYTES, CLAUSE_MAX_BULK_BYTES.
"""
from __future__ import annotations

import os
import re
import stat
from pathlib import Path

from compiler.core.diagnostics import ClauseError, Diagnostic, Span, error

DEFAULT_CASE_BYTES = 16 * 2**20      # 16 MiB: thousands of episodes in one hand-written case
DEFAULT_BULK_BYTES = 4 * 2**30       # 4 GiB per CSV file
MAX_CELL_CHARS = 131_072             # characters in one CSV cell (Python's csv default), on both engines (F013)


def _limit(name: str, default: int, unit: str = "bytes") -> int:
    """The limit set in the environment variable `name` (in `unit`), else `default`; a value that is not
    a positive whole number is an error (F013), never silently replaced by the default."""
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    if value.isdigit() and int(value) > 0:
        return int(value)
    shown = value if len(value) <= 40 else value[:37] + "..."
    raise ClauseError([error("F013", Span(name), f"{name}={shown!r} is not a positive whole number of {unit}",
                             f"set it to a number of {unit} such as {default}, or unset it for that default")])


def max_case_bytes() -> int:
    return _limit("CLAUSE_MAX_CASE_BYTES", DEFAULT_CASE_BYTES)


def max_bulk_bytes() -> int:
    return _limit("CLAUSE_MAX_BULK_BYTES", DEFAULT_BULK_BYTES)


def duckdb_memory(default: str) -> str:
    """DuckDB's memory limit (CLAUSE_DUCKDB_MEMORY): a size such as 600MB or 4GB, else F013 (DuckDB's own
    parser error was a traceback)."""
    value = os.environ.get("CLAUSE_DUCKDB_MEMORY", "").strip()
    if not value:
        return default
    if re.fullmatch(r"\d+(\.\d+)?\s*(B|[KMGT]i?B)", value, re.IGNORECASE):
        return value
    shown = value if len(value) <= 40 else value[:37] + "..."
    raise ClauseError([error("F013", Span("CLAUSE_DUCKDB_MEMORY"), f"CLAUSE_DUCKDB_MEMORY={shown!r} is not a size",
                             f"set it to a size such as {default} or 4GB, or unset it for {default}")])


def out_of_memory(default: str) -> ClauseError:
    """F013 for DuckDB running out of memory (it raised its own error, a traceback): the limit it ran into
    and the two ways past it."""
    value = os.environ.get("CLAUSE_DUCKDB_MEMORY", "").strip()
    limit = f"CLAUSE_DUCKDB_MEMORY={value}" if value else f"the default of {default}"
    return ClauseError([error("F013", Span("CLAUSE_DUCKDB_MEMORY"),
                              f"DuckDB ran out of memory within its limit ({limit})",
                              "set CLAUSE_DUCKDB_MEMORY to a larger size such as 4GB, or CLAUSE_DUCKDB_CHUNK to "
                              "fewer children so that fewer are evaluated at a time")])


def duckdb_chunk(default: int) -> int:
    """How many children DuckDB evaluates at a time (CLAUSE_DUCKDB_CHUNK), checked as the other limits are."""
    return _limit("CLAUSE_DUCKDB_CHUNK", default, "children")


def refuse(path: Path, file: str, limit: int, what: str) -> Diagnostic | None:
    """Why `path` cannot be read as an input file, or None: it must be a regular file (a FIFO would
    block for ever and /dev/zero never ends, and both report size 0) within the size limit.
    Raises OSError (FileNotFoundError...) as `stat` does."""
    st = path.stat()
    if not stat.S_ISREG(st.st_mode):
        kind = "a folder" if stat.S_ISDIR(st.st_mode) else "a pipe" if stat.S_ISFIFO(st.st_mode) else \
            "a device" if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode) else "not a regular file"
        return error("F011", Span(file), f"{file} is {kind}, not a file Clause can read as {what}",
                     "give a regular file")
    return too_large(file, st.st_size, limit, what) if st.st_size > limit else None


def cell_too_long(file: str, line: int) -> Diagnostic:
    """F013 for a CSV cell past MAX_CELL_CHARS (what csv.reader raises at its field_size_limit)."""
    return error("F013", Span(file, line, 1), f"a cell on this line of {Path(file).name} is longer than "
                 f"{MAX_CELL_CHARS:,} characters, the most Clause reads in one cell",
                 "an id, date or list of statuses is short: check the quotes on this line (an unclosed quote "
                 "runs on to the end of the file)")


def too_large(file: str, size: int, limit: int, what: str) -> Diagnostic:
    variable = "CLAUSE_MAX_CASE_BYTES" if "case" in what else "CLAUSE_MAX_BULK_BYTES"
    return error("F013", Span(file), f"{file} is {size:,} bytes, more than the {limit:,} allowed for {what}",
                 f"split the input, or raise the limit with {variable}")
