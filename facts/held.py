"""When a status or flag record (`Held`) is in force: its bounds as instants, in Python and SQL side by side.

Input: a `Held` (facts/model.py) and a moment. Output: whether it is in force then.
Invariants (both sides; tests/test_held.py and tests/test_scale_differential.py check they agree):
* a date `start` is in force from 00:00 London on that day; a date `end` through the end of that
  London day, so as an instant the end is 00:00 London on the next day; datetimes are exact;
* the record is in force over the half-open [start, end): `start <= moment < end`, None open;
* the SQL side holds the bounds as integer microseconds since the epoch, UTC (`start_us`, `end_us`,
  NULL = open) and the clock macros of compiler/core/london_tables.py (`london_local`).
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

from compiler.core import london_tables
from compiler.core.london import LONDON, utc
from facts.model import Held

DAY_US = 86_400_000_000


def start_instant(value: date | datetime | None) -> datetime | None:
    """A `from` as the instant the record comes into force (None: open)."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.combine(value, time(0), tzinfo=LONDON)


def end_instant(value: date | datetime | None) -> datetime | None:
    """A `to` as the first instant the record is no longer in force (None: open)."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.combine(value + timedelta(days=1), time(0), tzinfo=LONDON)


def bounds(h: Held) -> tuple[datetime | None, datetime | None]:
    """[start, end) as UTC instants."""
    s, e = start_instant(h.start), end_instant(h.end)
    return (None if s is None else utc(s)), (None if e is None else utc(e))


def in_force(h: Held, moment: datetime) -> bool:
    s, e = bounds(h)
    m = utc(moment)
    return (s is None or s <= m) and (e is None or m < e)


def ends_before_start(h: Held) -> bool:
    """True when the record is in force at no moment (its end is at or before its start)."""
    s, e = bounds(h)
    return s is not None and e is not None and e <= s


def overlap(a: Held, b: Held) -> bool:
    """Two records of one name that are both in force at some moment."""
    (s1, e1), (s2, e2) = bounds(a), bounds(b)
    return (s1 is None or e2 is None or s1 < e2) and (s2 is None or e1 is None or s2 < e1)


def date_start_sql(day: str, local: str = "london_local") -> str:
    """SQL: a DATE expression -> start_us (00:00 London that day); `local` is the macro reading a
    London wall time (us) as an instant (compiler/core/london_tables.py `london_local`, or one like it)."""
    return f"{local}(({day} - DATE '1970-01-01')::BIGINT * {DAY_US})"


def date_end_sql(day: str, local: str = "london_local") -> str:
    """SQL: a DATE expression -> end_us (00:00 London the next day)."""
    return f"{local}((({day} - DATE '1970-01-01')::BIGINT + 1) * {DAY_US})"


def in_force_sql(table: str, moment: str) -> str:
    """SQL condition: the held row `table` (start_us, end_us) is in force at `moment` (microseconds, UTC)."""
    return (f"({table}.start_us IS NULL OR {table}.start_us <= {moment}) "
            f"AND ({table}.end_us IS NULL OR {moment} < {table}.end_us)")


def us(moment: datetime | None) -> int | None:
    """A bound as integer microseconds since the epoch, UTC (what the SQL side holds)."""
    return None if moment is None else london_tables.to_us(moment)
