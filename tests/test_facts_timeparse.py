"""compiler.core.london: London wall clock, offsets, clock changes, weekends and bank holidays."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from compiler.core.london import LONDON, format_instant, is_weekend_or_bank_holiday, parse_date, parse_instant

UTC = timezone.utc


def test_wall_clock_in_winter_is_gmt():
    t = parse_instant("2024-03-08T17:30")
    assert t.tzinfo is LONDON
    assert t.utcoffset() == timedelta(0)
    assert t.astimezone(UTC) == datetime(2024, 3, 8, 17, 30, tzinfo=UTC)


def test_wall_clock_in_summer_is_bst():
    t = parse_instant("2024-07-08T17:30")
    assert t.utcoffset() == timedelta(hours=1)
    assert t.astimezone(UTC) == datetime(2024, 7, 8, 16, 30, tzinfo=UTC)


@pytest.mark.parametrize("text, utc", [
    ("2024-07-08T17:30Z", datetime(2024, 7, 8, 17, 30, tzinfo=UTC)),
    ("2024-07-08T17:30+02:00", datetime(2024, 7, 8, 15, 30, tzinfo=UTC)),
    ("2024-01-08T17:30:15-05:00", datetime(2024, 1, 8, 22, 30, 15, tzinfo=UTC)),
    ("2024-07-08 17:30+0100", datetime(2024, 7, 8, 16, 30, tzinfo=UTC)),
])
def test_explicit_offset_keeps_the_instant_and_shows_london(text, utc):
    t = parse_instant(text)
    assert t.astimezone(UTC) == utc
    assert t.tzinfo is LONDON


def test_yaml_datetime_objects():
    naive = parse_instant(datetime(2024, 7, 8, 9, 0))
    assert naive.astimezone(UTC) == datetime(2024, 7, 8, 8, 0, tzinfo=UTC)
    aware = parse_instant(datetime(2024, 7, 8, 9, 0, tzinfo=timezone(timedelta(hours=-3))))
    assert aware.astimezone(UTC) == datetime(2024, 7, 8, 12, 0, tzinfo=UTC)
    assert format_instant(aware) == "2024-07-08T13:00"


def test_spring_forward_gap_reads_with_the_offset_before_the_change():
    # 01:30 on 31 March 2024 never shows on London clocks; fold=0 reads it as GMT.
    t = parse_instant("2024-03-31T01:30")
    assert t.astimezone(UTC) == datetime(2024, 3, 31, 1, 30, tzinfo=UTC)
    assert format_instant(t) == "2024-03-31T02:30"


def test_autumn_fold_reads_the_first_occurrence():
    t = parse_instant("2024-10-27T01:30")
    assert t.astimezone(UTC) == datetime(2024, 10, 27, 0, 30, tzinfo=UTC)  # still BST
    second = parse_instant("2024-10-27T01:30+00:00")
    assert second.astimezone(UTC) == datetime(2024, 10, 27, 1, 30, tzinfo=UTC)
    assert format_instant(t) == "2024-10-27T01:30"
    assert format_instant(second) == "2024-10-27T01:30+00:00"  # the repeated hour says which one
    assert parse_instant(format_instant(second)).astimezone(UTC) == second.astimezone(UTC)


@pytest.mark.parametrize("bad, words", [
    ("2024-03-08", "expected a date and time like 2024-03-08T17:30"),
    (date(2024, 3, 8), "expected a date and time like 2024-03-08T17:30"),
    ("8/3/2024 17:30", "expected a date and time"),
    ("2024-02-30T10:00", "not a real date and time"),
    ("2024-03-08T25:00", "not a real date and time"),
    # Python's fromisoformat reads these as +02:00 and +02:39: a time the text does not say
    ("2024-03-08T10:00+01:60", "offset's minutes must be under 60"),
    ("2024-03-08T10:00:05.5+0199", "offset's minutes must be under 60"),
    ("2024-13-01", r"got only a date, and not a real one \('2024-13-01': month must be in 1\.\.12\)"),
    (1200, "expected a date and time"),
    (None, "expected a date and time"),
])
def test_bad_instants_raise_value_error(bad, words):
    with pytest.raises(ValueError, match=words):
        parse_instant(bad)


def test_parse_date():
    assert parse_date("2012-05-01") == date(2012, 5, 1)
    assert parse_date(date(2012, 5, 1)) == date(2012, 5, 1)
    for bad in ("2012-5-1", "2012-02-30", "2012-05-01T10:00", datetime(2012, 5, 1), 2012):
        with pytest.raises(ValueError, match="date"):
            parse_date(bad)


def test_format_instant_adds_seconds_only_when_non_zero():
    assert format_instant(parse_instant("2024-03-08T17:30:00")) == "2024-03-08T17:30"
    assert format_instant(parse_instant("2024-03-08T17:30:05")) == "2024-03-08T17:30:05"
    assert format_instant(datetime(2024, 7, 8, 16, 30, tzinfo=UTC)) == "2024-07-08T17:30"


@pytest.mark.parametrize("text, expected", [
    ("2024-03-08T23:59", False),   # Friday
    ("2024-03-09T00:00", True),    # Saturday
    ("2024-03-10T12:00", True),    # Sunday
    ("2024-03-11T00:00", False),   # Monday
    ("2024-03-29T10:00", True),    # Good Friday
    ("2024-04-01T10:00", True),    # Easter Monday
    ("2024-12-25T10:00", True),    # Christmas Day
    ("2024-12-26T10:00", True),    # Boxing Day
    ("2020-12-28T10:00", True),    # Boxing Day (substitute day; 26th was a Saturday)
    ("2024-03-17T10:00", True),    # St Patrick's Day is a Sunday, not an English bank holiday
    ("2024-03-18T10:00", False),   # ... and there is no English substitute
])
def test_weekend_or_bank_holiday(text, expected):
    assert is_weekend_or_bank_holiday(parse_instant(text)) is expected


def test_calendar_uses_the_london_date():
    # 23:30 UTC on Friday 2024-07-05 is 00:30 BST on Saturday in London.
    assert is_weekend_or_bank_holiday(datetime(2024, 7, 5, 23, 30, tzinfo=UTC)) is True
    assert is_weekend_or_bank_holiday(datetime(2024, 7, 5, 22, 30, tzinfo=UTC)) is False
