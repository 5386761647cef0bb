"""The London clock and calendar as tables, for set-at-a-time (SQL) evaluation.

Input: a range of years. Output: rows for DuckDB tables, all times as integer
microseconds since 1970-01-01 UTC ("us"), all days as days since 1970-01-01:
* `transitions(years)`: (utc_us, offset_us, local_switch_us): from `utc_us` on the
  London offset is `offset_us`; a wall-clock time `w` is read (fold=0, as
  `compiler.core.london.parse_instant` reads it) with the offset of the last row whose
  `local_switch_us <= w`: the offset before a change for a time in the spring gap or
  the autumn overlap, the new one from the end of the gap or overlap on.
* `bank_holidays(years)`: England's bank holidays (the same `holidays` calendar as
  `compiler.core.london.is_weekend_or_bank_holiday`) as day numbers.
* `offset_case` and `macros(transitions)`: the clock as SQL over those rows: `london_wall(u)`
  (an instant -> its London clock time as us), `london_day(u)` (-> the London day number),
  `london_local(w)` (a clock time read as `parse_instant` reads it, fold=0 -> the instant),
  and `floor_div`.
Invariants: transitions are found from `zoneinfo` itself (to the microsecond), so
the tables agree with Python's datetime arithmetic for every instant in the range.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from compiler.core.london import LONDON, _bank_holidays

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
US = timedelta(microseconds=1)
DAY_US = 86_400_000_000
MINUTE_US = 60_000_000


def to_us(moment: datetime) -> int:
    """An aware datetime -> microseconds since the epoch (exact)."""
    return (moment - EPOCH) // US


def from_us(us: int) -> datetime:
    """Microseconds since the epoch -> aware London datetime (the fold set as Python sets it)."""
    return (EPOCH + timedelta(microseconds=us)).astimezone(LONDON)


def _offset(us: int) -> int:
    """London's UTC offset at an instant, in microseconds."""
    return (EPOCH + timedelta(microseconds=us)).astimezone(LONDON).utcoffset() // US


def transitions(first_year: int, last_year: int) -> list[tuple[int, int, int]]:
    """(utc_us, offset_us, local_switch_us) for every change in [first_year, last_year], after a start row."""
    start = to_us(datetime(first_year, 1, 1, tzinfo=timezone.utc))
    end = to_us(datetime(last_year + 1, 1, 1, tzinfo=timezone.utc))
    before = _offset(start)
    rows = [(-(2 ** 62), before, -(2 ** 62))]
    day = start
    while day < end:
        nxt = day + DAY_US
        after = _offset(nxt)
        if after != before:
            lo, hi = day, nxt  # offset(lo) == before, offset(hi) == after
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if _offset(mid) == before:
                    lo = mid
                else:
                    hi = mid
            rows.append((hi, after, hi + max(before, after)))
            before = after
        day = nxt
    return rows


def bank_holidays(first_year: int, last_year: int) -> list[int]:
    """England's bank holidays in [first_year, last_year] as days since 1970-01-01."""
    epoch = date(1970, 1, 1)
    return sorted((d - epoch).days for y in range(first_year, last_year + 1) for d in _bank_holidays(y))


def offset_case(expr: str, rows: list[tuple[int, int, int]], local: bool) -> str:
    """SQL for London's UTC offset (us) at `expr`: an instant (local=False) or a wall time read with fold=0."""
    out = f"{rows[0][1]}"
    for utc_us, offset, local_us in rows[1:]:
        out = f"CASE WHEN {expr} >= {local_us if local else utc_us} THEN {offset} ELSE {out} END"
    return out


def macros(rows: list[tuple[int, int, int]]) -> list[str]:
    """The statements that define floor_div, london_wall, london_day and london_local over `transitions` rows."""
    return ["CREATE OR REPLACE MACRO floor_div(a, b) AS CASE WHEN a >= 0 THEN a // b ELSE -((-a - 1) // b) - 1 END",
            f"CREATE OR REPLACE MACRO london_wall(u) AS u + ({offset_case('u', rows, False)})",
            f"CREATE OR REPLACE MACRO london_day(u) AS floor_div(london_wall(u), {DAY_US})",
            f"CREATE OR REPLACE MACRO london_local(w) AS w - ({offset_case('w', rows, True)})"]
