"""Input size limits: past them a clear error (F013), never memory exhaustion.

Case files are parsed whole, so they are small by nature; bulk CSV files are
streamed row by row but their facts are held for evaluation. Both limits can be
raised with environment variables (bytes): CLAUSE_MAX_CASE_BYTES, CLAUSE_MAX_BULK_BYTES.
"""
from __future__ import annotations

import os

from compiler.core.diagnostics import Diagnostic, Span, error

DEFAULT_CASE_BYTES = 16 * 2**20      # 16 MiB: thousands of episodes in one hand-written case
DEFAULT_BULK_BYTES = 4 * 2**30       # 4 GiB per CSV file


def _limit(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    return int(value) if value.isdigit() and int(value) > 0 else default


def max_case_bytes() -> int:
    return _limit("CLAUSE_MAX_CASE_BYTES", DEFAULT_CASE_BYTES)


def max_bulk_bytes() -> int:
    return _limit("CLAUSE_MAX_BULK_BYTES", DEFAULT_BULK_BYTES)


def too_large(file: str, size: int, limit: int, what: str) -> Diagnostic:
    variable = "CLAUSE_MAX_CASE_BYTES" if "case" in what else "CLAUSE_MAX_BULK_BYTES"
    return error("F013", Span(file), f"{file} is {size:,} bytes, more than the {limit:,} allowed for {what}",
                 f"split the input, or raise the limit with {variable}")
