"""Europe/London times: parse instants and dates, format them, test the calendar.

Input: ISO 8601 text (`2024-03-08T17:30`, optionally `:SS`, fractions, and an
explicit offset or `Z`) or the `date`/`datetime` objects a YAML parser may produce.
Output: aware datetimes whose tzinfo is `LONDON`; dates for `parse_date`.

Invariants:
* A time without an offset is a London wall-clock time. A time with an offset
  keeps that instant and is shown in London.
* A wall time in the spring-forward gap (e.g. 2024-03-31T01:30, which never
  appears on London clocks) is read with fold=0, i.e. with the offset in force
  *before* the change (GMT), and then normalised: it becomes 01:30 UTC, shown as
  02:30 BST. An ambiguous autumn wall time (e.g. 2024-10-27T01:30, which happens
  twice) is read with fold=0: the *first* occurrence (BST, 00:30 UTC). Write an
  explicit offset (`+00:00`) to mean the second one.
* A bare date is never an instant: it is an error, not midnight.
* Calendar tests use the London local date; "weekend" is Saturday or Sunday and
  bank holidays are England's (the `holidays` package, GB subdivision ENG).
"""
from __future__ import annotations

import json
import re
import threading
from datetime import date, datetime, timezone
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")

INSTANT_EXAMPLE = "2024-03-08T17:30"
DATE_EXAMPLE = "2012-05-01"

_INSTANT = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:[Zz]|[+-]\d{2}(?::?\d{2})?)?"
)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_OFFSET = re.compile(r"[+-]\d{2}:?(\d{2})$")  # an instant's written offset, its minutes the group


def _show(value: Any) -> str:
    """A value, cut to 40 characters for a message; a list or mapping is named, never printed
    (a few YAML aliases can make one that would take gigabytes to print)."""
    if isinstance(value, (list, tuple, dict, set)):
        return f"a {type(value).__name__}"
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


YEARS = (1900, 2200)  # wide enough for any child's record; keeps all time arithmetic in range


def utc(moment: datetime) -> datetime:
    """Aware datetimes in one zone subtract and compare by wall clock in Python; UTC gives real time."""
    return moment.astimezone(timezone.utc)


def _in_range(moment: date, text: str) -> None:
    if not YEARS[0] <= moment.year <= YEARS[1]:
        raise ValueError(f"'{text}' is outside the years {YEARS[0]} to {YEARS[1]}")


def to_london(moment: datetime) -> datetime:
    """An aware datetime as London time; a naive one is a London wall time (fold=0)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        moment = moment.replace(tzinfo=LONDON, fold=0)
    # Round trip through UTC: normalises gap times and fixes the fold of the result.
    return moment.astimezone(timezone.utc).astimezone(LONDON)


class NotReal(ValueError):
    """Text of the right shape that names no real date or time (month 13, 30 February, 25:00)."""


def parse_instant(value: Any) -> datetime:
    """Text or date/datetime -> aware London datetime. Raises ValueError saying what was expected."""
    expected = f"expected a date and time like {INSTANT_EXAMPLE}"
    if isinstance(value, datetime):
        _in_range(value, value.isoformat())
        return to_london(value)
    if isinstance(value, date):
        raise ValueError(f"{expected}, got only a date ({value.isoformat()})")
    if not isinstance(value, str):
        raise ValueError(f"{expected}, got {_show(value)}")
    text = value.strip()
    if _DATE.fullmatch(text):
        try:
            date.fromisoformat(text)
        except ValueError as exc:
            raise NotReal(f"{expected}, got only a date, and not a real one ('{text}': {exc})") from None
        raise ValueError(f"{expected}, got only a date ({text})")
    if not _INSTANT.fullmatch(text):
        raise ValueError(f"{expected}, got '{_show(text)}'")
    iso = text.replace("t", "T").replace("z", "Z")
    if iso[-3] in "+-" and iso[-6] not in "+-":  # "+01" -> "+01:00"
        iso += ":00"
    offset = _OFFSET.search(iso)
    if offset and int(offset.group(1)) >= 60:  # fromisoformat reads "+01:99" as +02:39, a time the text does not say
        raise NotReal(f"'{text}' is not a real date and time (the offset's minutes must be under 60)")
    try:
        parsed = datetime.fromisoformat(iso)
    except ValueError as exc:
        raise NotReal(f"'{text}' is not a real date and time ({exc})") from None
    _in_range(parsed, text)
    return to_london(parsed)


def parse_date(value: Any) -> date:
    """`YYYY-MM-DD` text or a date object -> date. Raises ValueError saying what was expected."""
    expected = f"expected a date like {DATE_EXAMPLE}"
    if isinstance(value, datetime):
        raise ValueError(f"{expected}, got a date and time ({_show(value.isoformat())})")
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        raise ValueError(f"{expected}, got {_show(value)}")
    text = value.strip()
    if not _DATE.fullmatch(text):
        raise ValueError(f"{expected}, got '{_show(text)}'")
    try:
        parsed = date.fromisoformat(text)
    except ValueError as exc:
        raise NotReal(f"'{text}' is not a real date ({exc})") from None
    _in_range(parsed, text)
    return parsed


def format_instant(moment: datetime) -> str:
    """London local `YYYY-MM-DDTHH:MM` (`:SS` only when the seconds are not zero).

    Always reads back as the same instant: in the repeated hour of an autumn clock
    change the second occurrence carries its offset (`2024-10-27T01:30+00:00`).
    """
    local = to_london(moment)
    text = local.strftime("%Y-%m-%dT%H:%M") + (local.strftime(":%S") if local.second else "")
    if local.replace(tzinfo=None).replace(tzinfo=LONDON, fold=0).utcoffset() != local.utcoffset():
        text += local.strftime("%z")[:3] + ":" + local.strftime("%z")[3:]
    return text


HOLIDAY_YEARS = range(1900, 2202)  # parse_instant's years, and a little past them for offsets


@lru_cache(maxsize=1)
def _calendar() -> "holidays.HolidayBase":
    import holidays
    return holidays.country_holidays("GB", subdiv="ENG")


def _holidays_release() -> str:
    """The installed `holidays` release, from its dist-info folder's name (importlib.metadata, the
    usual way, costs a command a twentieth of a second to import); that way when there is no such folder."""
    import importlib.util
    from pathlib import Path
    spec = importlib.util.find_spec("holidays")
    if spec is not None and spec.origin:
        site = Path(spec.origin).resolve().parent.parent
        found = sorted(p.name[len("holidays-"):-len(".dist-info")] for p in site.glob("holidays-*.dist-info"))
        if len(found) == 1:
            return found[0]
    from importlib.metadata import version
    return version("holidays")


@lru_cache(maxsize=1)
def _holiday_table() -> dict[int, frozenset[date]]:
    """England's bank holidays for HOLIDAY_YEARS. Building the calendar costs a fifth of a second
    (the `holidays` package imports every country), so the table is kept in the cache folder
    (compiler.core.files.cache_dir), one file per release of `holidays`."""
    from compiler.core import sealed
    from compiler.core.files import cache_dir
    folder = cache_dir()
    path = folder / f"bank-holidays-england-{_holidays_release()}.json" if folder else None
    try:
        raw = sealed.read(path) if path is not None else None
        if raw is not None:
            data = json.loads(raw.decode("utf-8"))
            table = {int(y): frozenset(map(date.fromisoformat, days)) for y, days in data.items()}
            if set(table) == set(HOLIDAY_YEARS):
                return table
    except (ValueError, TypeError, AttributeError):
        pass  # damaged: build it again
    import holidays
    days: dict[int, set[date]] = {y: set() for y in HOLIDAY_YEARS}
    for day in holidays.country_holidays("GB", subdiv="ENG", years=HOLIDAY_YEARS):
        days[day.year].add(day)
    table = {y: frozenset(ds) for y, ds in days.items()}
    if path is not None:
        text = json.dumps({y: sorted(d.isoformat() for d in ds) for y, ds in table.items()})
        sealed.write(path, text.encode("utf-8"))
    return table


_calendar_lock = threading.Lock()


@lru_cache(maxsize=256)
def _bank_holidays(year: int) -> frozenset[date]:
    """England's bank holidays of one year (the shared calendar fills years lazily, so lock)."""
    if year in HOLIDAY_YEARS:
        return _holiday_table()[year]
    with _calendar_lock:
        cal = _calendar()
        _ = date(year, 1, 1) in cal  # makes the calendar populate `year`
        return frozenset(d for d in list(cal.keys()) if d.year == year)


def falls_off(instant: datetime, holidays_too: bool) -> bool:
    """On a Saturday or Sunday (London date), or also an England bank holiday when asked."""
    return is_weekend_or_bank_holiday(instant) if holidays_too else instant.astimezone(LONDON).weekday() >= 5


def is_weekend_or_bank_holiday(instant: datetime) -> bool:
    """True when the London local date of `instant` is a Saturday, Sunday or England bank holiday."""
    day = to_london(instant).date()
    return day.weekday() >= 5 or day in _bank_holidays(day.year)
