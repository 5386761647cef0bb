"""A moment known only by its date: what Clause reads it as, in Python and in SQL side by side.

Extracts (and case files) often give the day a child went missing or came back, not the time.
Clause never makes such a day silently midnight. A date-only moment is read as a range on the
London clock: from the first minute of the day (00:00) to its last minute (23:59), narrowed by
the other facts of the same episode (a return is never before its report). The earliest reading
is the moment the engine evaluates with (a duty shows from the first moment it can have arisen);
the latest is kept beside it, so every duty whose moments depend on it carries the range
(`triggered_latest`, `due_latest`, `time: approximate`: engine/meaning/obligations.py).

Input: a London date (Python) or a DATE expression (SQL). Output: the earliest and latest
instants (aware London datetimes; in SQL, us since the epoch, UTC, via the `london_local` macro
of compiler/core/london_tables.py). Invariant: both sides give the same instants (tested).
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

from compiler.core.london import LONDON, utc

LAST_MINUTE = timedelta(hours=23, minutes=59)


def day_range(day: date) -> tuple[datetime, datetime]:
    """The first and the last minute of `day` on the London clock (both exist on every day: the
    clocks change at 01:00 and 02:00)."""
    first = datetime.combine(day, time(0, 0), LONDON)
    last = datetime.combine(day, time(23, 59), LONDON)
    return first, last


def day_range_sql(day: str) -> tuple[str, str]:
    """SQL: `day_range` of a DATE expression, as instants in us (needs the london_local macro)."""
    wall = f"(epoch_us(({day})::TIMESTAMP))"
    return f"london_local({wall})", f"london_local({wall} + {int(LAST_MINUTE.total_seconds()) * 1_000_000})"


def narrow(reported: tuple[datetime, datetime | None], returned: tuple[datetime, datetime | None] | None
           ) -> tuple[tuple[datetime, datetime | None], tuple[datetime, datetime | None] | None]:
    """(earliest, latest or None when exact) of the report and of the return, narrowed so that the return
    is never before the report: a date-only return on the day of an exact report starts at the report;
    a date-only report on the day of an exact return ends at the return. A return whose whole range is
    before the report is left as it is (the validator reports it)."""
    if returned is None:
        return reported, None
    (rep, rep_until), (ret, ret_until) = reported, returned
    if rep_until is not None and ret_until is None and utc(ret) >= utc(rep):
        rep_until = min(rep_until, ret, key=utc)
    if ret_until is not None and utc(ret_until) >= utc(rep):
        ret = max(ret, rep, key=utc)
    return (rep, rep_until), (ret, ret_until)
