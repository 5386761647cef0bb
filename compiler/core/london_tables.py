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
* `offset_case` and `macros(transitions)`: the clock as SQL over those rows (a flat CASE over
  the changes of a few years; for a long span, constant depth: a bucket found by arithmetic, then
  its few changes): `london_wall(u)` (an instant -> its London clock time as us),
  `london_day(u)` (-> the London day number),
  `london_local(w)` (a clock time read as `parse_instant` reads it, fold=0 -> the instant),
  `london_maybe_repeated(w)` (whether a clock time may be one read twice) and `floor_div`;
  `instants_sql`: ISO 8601 text read as `parse_instant` reads it, in SQL.
Invariants: transitions are found from `zoneinfo` itself (to the microsecond), so
the tables agree with Python's datetime arithmetic for every instant in the range.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from compiler.core.london import LONDON, YEARS, _bank_holidays

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
    while day < end:  # a week at a time: London's clock never changed twice within 27.9 days
        nxt = day + 7 * DAY_US
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


BUCKET_US = 2 ** 41  # 25.4 days: London's clock never changed twice within 27.9 days, so a bucket holds one change
NEVER = 2 ** 62      # an empty bucket's boundary: no instant in YEARS reaches it
_OFF, _AT = 12, 20   # widths of an offset and of a boundary in the fixed-width table text
# up to this many changes (20 years) `offset_case` compares with each: 15 times cheaper than the buckets' text
# lookups (6.2M instants, 11 changes: 0.06 against 0.91 CPU s), and the clock is read on every row many times
FLAT_CHANGES = 40


def _changes(rows: list[tuple[int, int, int]], local: bool) -> list[tuple[int, int]]:
    """Each change as (boundary, offset from it on): the boundary an instant, or for a wall time its local switch."""
    key = 2 if local else 0
    return [(r[key], r[1]) for r in rows[1:]]


def _buckets(rows: list[tuple[int, int, int]], local: bool) -> tuple[int, list[int], list[list[tuple[int, int]]]]:
    """`rows` cut into buckets of BUCKET_US from the first change: (origin, each bucket's starting offset,
    each bucket's changes as (boundary, offset from it on), padded to one length with NEVER)."""
    changes = _changes(rows, local)
    origin = changes[0][0]
    count = (changes[-1][0] - origin) // BUCKET_US + 1
    starts, inside, offset, k = [], [], rows[0][1], 0
    for i in range(count):
        end = origin + (i + 1) * BUCKET_US
        starts.append(offset)
        mine = []
        while k < len(changes) and changes[k][0] < end:
            mine.append(changes[k])
            offset = changes[k][1]
            k += 1
        inside.append(mine)
    width = max(len(b) for b in inside)
    return origin, starts, [b + [(NEVER, b[-1][1] if b else s)] * (width - len(b)) for b, s in zip(inside, starts)]


def offset_case(expr: str, rows: list[tuple[int, int, int]], local: bool) -> str:
    """SQL for London's UTC offset (us) at `expr`: an instant (local=False) or a wall time read with fold=0.

    Up to FLAT_CHANGES changes (the years of one extract or folder), one flat CASE over them, latest first
    (`expr` written once a change, so the size is bounded by FLAT_CHANGES).
    Beyond, constant size and depth whatever the span of years, with `expr` written 2 + 2 * (changes a bucket holds,
    1 for London) times: `expr` picks its bucket by arithmetic (clamped to the first and last), then one
    flat CASE over that bucket's changes, read from one fixed-width text constant (one record a bucket:
    its starting offset, then each change's boundary and offset). A CASE nested once per change, as
    before, grew with the span: 600 levels for 1900-2200, past DuckDB's expression depth; constant lists
    cost DuckDB's planner time in proportion to their length at every use."""
    if len(rows) == 1:
        return f"{rows[0][1]}"
    if len(rows) - 1 <= FLAT_CHANGES:
        whens = " ".join(f"WHEN {expr} >= {at} THEN {off}" for at, off in reversed(_changes(rows, local)))
        return f"CASE {whens} ELSE {rows[0][1]} END"
    origin, starts, inside = _buckets(rows, local)
    width = _OFF + len(inside[0]) * (_AT + _OFF)
    table = "".join(f"{s:+0{_OFF}d}" + "".join(f"{at:+0{_AT}d}{off:+0{_OFF}d}" for at, off in b)
                    for s, b in zip(starts, inside))
    last = origin + len(starts) * BUCKET_US - 1
    at = f"((greatest(least({expr}, {last}), {origin}) - {origin}) // {BUCKET_US}) * {width}"

    def field(pos: int, size: int) -> str:
        return f"substr('{table}', {at} + {pos + 1}, {size})::BIGINT"

    whens = [f"WHEN {expr} >= {field(_OFF + j * (_AT + _OFF), _AT)} THEN {field(_OFF + j * (_AT + _OFF) + _AT, _OFF)}"
             for j in reversed(range(len(inside[0])))]
    return f"CASE {' '.join(whens)} ELSE {field(0, _OFF)} END"


def repeated(rows: list[tuple[int, int, int]]) -> list[tuple[int, int]]:
    """The clock times read twice (each change that puts the clocks back), as [first, end) wall us:
    from the change's instant at the new offset to its `local_switch` (the old offset)."""
    return [(r[2] - (before - r[1]), r[2]) for before, r in zip((x[1] for x in rows), rows[1:]) if r[1] < before]


def _times_of_day(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The times of day (us from midnight, [first, end)) the wall spans cover, merged."""
    parts = []
    for first, end in spans:
        day, start = divmod(first, DAY_US)
        stop = end - day * DAY_US
        parts += [(start, min(stop, DAY_US))] + ([(0, stop - DAY_US)] if stop > DAY_US else [])
    merged: list[tuple[int, int]] = []
    for start, stop in sorted(parts):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], stop))
        else:
            merged.append((start, stop))
    return merged


def macros(rows: list[tuple[int, int, int]]) -> list[str]:
    """The statements that define floor_div, london_wall, london_day, london_local and
    london_maybe_repeated over `transitions` rows. london_maybe_repeated(w) is true for every clock time
    that is read twice (`repeated`), by its time of day alone: a cheap test before london_local.
    The clock macros test for NULL first: DuckDB gives NULL either way, but works through the whole
    table lookup for a vector of NULLs, 40 times slower than for values (seen on a column that is all NULL,
    the date-only readings of a folder that gives every time in full)."""
    spans = _times_of_day(repeated(rows))
    of_day = f"floor_div(w, {DAY_US}) * {DAY_US}"
    maybe = " OR ".join(f"(w - {of_day} BETWEEN {a} AND {b - 1})" for a, b in spans) or "false"
    return ["CREATE OR REPLACE MACRO floor_div(a, b) AS CASE WHEN a >= 0 THEN a // b ELSE -((-a - 1) // b) - 1 END",
            f"CREATE OR REPLACE MACRO london_wall(u) AS CASE WHEN u IS NOT NULL THEN u + ({offset_case('u', rows, False)}) END",
            f"CREATE OR REPLACE MACRO london_day(u) AS floor_div(london_wall(u), {DAY_US})",
            f"CREATE OR REPLACE MACRO london_local(w) AS CASE WHEN w IS NOT NULL THEN w - ({offset_case('w', rows, True)}) END",
            f"CREATE OR REPLACE MACRO london_maybe_repeated(w) AS {maybe}"]


# ---- parse_instant in SQL ----

INSTANT = (r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?"
           r"([Zz]|[+-]\d{2}(?::?\d{2})?)?$")


def _parts(expr: str, name: str) -> str:
    """SQL: the parts of an instant's text as a struct column `p_name` (empty strings when it does not match;
    NULL when the text was read by strptime, column `f_name` or `q_name`)."""
    return (f"CASE WHEN f_{name} IS NULL AND q_{name} IS NULL THEN "
            f"regexp_extract({expr}, '{INSTANT}', ['y', 'mo', 'd', 'h', 'mi', 's', 'f', 'tz']) END AS p_{name}")


def _wall(p: str) -> str:
    """SQL: the parts -> the written clock time as us (NULL when not a real time)."""
    day = f"try_cast(concat({p}.y, '-', {p}.mo, '-', {p}.d) AS DATE)"
    digits = f"replace(substr({p}.tz, 2), ':', '')"
    ok = (f"{p}.y <> '' AND {day} IS NOT NULL AND {p}.y::INT BETWEEN {YEARS[0]} AND {YEARS[1]} AND {p}.h::INT < 24 AND {p}.mi::INT < 60 "
          f"AND coalesce(nullif({p}.s, '')::INT, 0) < 60 AND (length({p}.tz) <= 1 OR (left({digits}, 2)::INT < 24 "
          f"AND coalesce(nullif(substr({digits}, 3), '')::INT, 0) < 60 AND length({digits}) IN (2, 4)))")
    return (f"CASE WHEN {ok} THEN ({day} - DATE '1970-01-01')::BIGINT * {DAY_US} + {p}.h::BIGINT * 3600000000 "
            f"+ {p}.mi::BIGINT * 60000000 + coalesce(nullif({p}.s, '')::BIGINT, 0) * 1000000 "
            f"+ coalesce(rpad(nullif({p}.f, ''), 6, '0')::BIGINT, 0) END")


def _given(p: str) -> str:
    """SQL: the explicit offset in the parts, as us (0 for Z)."""
    digits = f"replace(substr({p}.tz, 2), ':', '')"
    sign = f"(CASE WHEN left({p}.tz, 1) = '-' THEN -1 ELSE 1 END)"
    return (f"CASE WHEN upper({p}.tz) = 'Z' THEN 0 ELSE {sign} * (left({digits}, 2)::BIGINT * 3600000000 "
            f"+ coalesce(nullif(substr({digits}, 3), '')::BIGINT, 0) * 60000000) END")


PLAIN_FORM = "%Y-%m-%dT%H:%M"  # how nearly every extract writes a time: read without the regex


def _plain(expr: str, name: str) -> str:
    """SQL: the clock time (us) of a text written exactly as PLAIN_FORM (a real time in YEARS), else NULL:
    strptime's reading, kept only when writing it back gives the same text (so exactly the texts INSTANT
    reads with two-digit fields, an upper-case T and no seconds or offset, and to the same value)."""
    ts = f"try_strptime({expr}, '{PLAIN_FORM}')"
    return (f"CASE WHEN strftime({ts}, '{PLAIN_FORM}') = {expr} AND year({ts}) BETWEEN {YEARS[0]} AND {YEARS[1]} "
            f"THEN epoch_us({ts}) END AS f_{name}")


FULL_FORM = "%Y-%m-%dT%H:%M:%S.%f"  # then an offset +HH:MM: how a system that records to the microsecond writes


def _full(expr: str, name: str) -> str:
    """SQL: the instant (us) of a text written exactly as FULL_FORM and an offset `+HH:MM` or `-HH:MM` (a
    real time in YEARS, the offset under 24 hours), else NULL: strptime's reading of the first 26 characters,
    kept only when writing it back gives them (so six digits of fraction, an upper-case T), less the offset."""
    ts = f"try_strptime(left({expr}, 26), '{FULL_FORM}')"
    digit = lambda at: f"substr({expr}, {at}, 1) BETWEEN '0' AND '9'"  # noqa: E731 - one character, ASCII
    offset = (f"(CASE WHEN substr({expr}, 27, 1) = '-' THEN -1 ELSE 1 END) * (substr({expr}, 28, 2)::BIGINT * 3600000000 "
              f"+ substr({expr}, 31, 2)::BIGINT * 60000000)")
    return (f"CASE WHEN length({expr}) = 32 AND substr({expr}, 27, 1) IN ('+', '-') AND substr({expr}, 30, 1) = ':' "
            f"AND {digit(28)} AND {digit(29)} AND {digit(31)} AND {digit(32)} AND substr({expr}, 28, 2) < '24' "
            f"AND substr({expr}, 31, 2) < '60' AND strftime({ts}, '{FULL_FORM}') = left({expr}, 26) "
            f"AND year({ts}) BETWEEN {YEARS[0]} AND {YEARS[1]} THEN epoch_us({ts}) - {offset} END AS q_{name}")


def instants_sql(table: str, columns: list[tuple[str, str]], keep: str, tz: list[tuple[int, int, int]]) -> str:
    """SQL: `table` with each text column of `columns` (source, name) read as an instant in us, as
    `compiler.core.london.parse_instant` reads it (NULL when it is not a real time in YEARS).

    Four stages, so each part is computed once: a text in PLAIN_FORM, or FULL_FORM with an offset, read by
    strptime; the regex parts of any other; the written clock time; then London's offset (fold=0) unless
    the text gives one."""
    plain = ", ".join(f"{_plain(src, name)}, {_full(src, name)}" for src, name in columns)
    parts = ", ".join(_parts(src, name) for src, name in columns)
    walls = ", ".join(f"CASE WHEN f_{name} IS NOT NULL THEN f_{name} ELSE {_wall(f'p_{name}')} END AS w_{name}, "
                      f"CASE WHEN f_{name} IS NOT NULL THEN '' ELSE p_{name}.tz END AS z_{name}, "
                      f"CASE WHEN p_{name}.tz <> '' THEN {_given(f'p_{name}')} END AS g_{name}" for _, name in columns)
    final = ", ".join(f"CASE WHEN q_{name} IS NOT NULL THEN q_{name} "
                      f"WHEN z_{name} = '' THEN w_{name} - ({offset_case(f'w_{name}', tz, True)}) "
                      f"ELSE w_{name} - g_{name} END AS {name}" for _, name in columns)
    return (f"SELECT {keep}, {final} FROM (SELECT *, {walls} FROM (SELECT *, {parts} FROM "
            f"(SELECT *, {plain} FROM {table})))")
