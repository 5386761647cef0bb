"""Pseudonyms for people in everything Clause prints under `--redact`, diagnostics included.

`pseudonym` is the one keyed HMAC (CLAUSE_REDACT_KEY) that turns an id into `child-` (or
`episode-`) and ten hex digits, the same in every run. `redacting()` says whether the command
being run was given `--redact` (a context variable the CLI sets for the length of one
command); the fact readers then name children and episodes in their diagnostics by pseudonym
and never list the ids they know, so a redacted run's errors carry no real id either.
Imports nothing of ours.
"""
from __future__ import annotations

import hashlib
import hmac
import os
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Iterator

DEFAULT_KEY = "clause-redaction"
_redacting: ContextVar[bool] = ContextVar("clause_redacting", default=False)


def pseudonym(value: str, key: str | None = None, kind: str = "child") -> str:
    secret = (key or os.environ.get("CLAUSE_REDACT_KEY") or DEFAULT_KEY).encode()
    return f"{kind}-" + hmac.new(secret, str(value).encode(), hashlib.sha256).hexdigest()[:10]


def redacting() -> bool:
    return _redacting.get()


@contextmanager
def redaction(on: bool = True) -> Iterator[None]:
    """Within the block, diagnostics name people by pseudonym (`--redact`)."""
    token = _redacting.set(on)
    try:
        yield
    finally:
        _redacting.reset(token)


def quoted(value: object) -> str:
    """A recorded value as a diagnostic may quote it: in quotes, or withheld while redacting (a cell of free
    text can name a person; the span still says where it is)."""
    return "(withheld: --redact)" if redacting() else f"'{value}'"


def shown(value: object, kind: str = "child") -> str:
    """An id as a diagnostic may show it: itself, or its pseudonym while redacting."""
    return pseudonym(str(value), kind=kind) if redacting() else str(value)
