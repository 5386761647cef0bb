"""Mutations shared by every kind: bytes in, bytes out, chosen by a seeded `random.Random`.

Each operator takes (rng, data, other) where `other` is a second seed for splicing and returns
new bytes. `mutate` stacks one to three operators and returns the bytes and the operators'
names (the label the campaign reports). Nothing here knows a file format beyond "text with
lines, tokens, digits and dates in it".
"""
from __future__ import annotations

import random
import re
from typing import Callable

# times and dates that are hard for a London calendar: the spring gap, the repeated autumn hour,
# impossible days, edges of the representable range, offsets and odd spellings
HARD_TIMES = [b"2024-03-31T01:30", b"2024-03-31T01:00", b"2024-03-31T02:00", b"2024-10-27T01:30",
              b"2024-10-27T01:00", b"2024-10-27T02:00", b"2024-02-30", b"2023-02-29", b"2024-02-29T24:00",
              b"2024-13-01", b"2024-04-31T10:00", b"2024-00-10", b"0000-01-01", b"0001-01-01T00:00",
              b"9999-12-31T23:59", b"10000-01-01", b"2024-03-04T08:00:00+01:00", b"2024-03-04T08:00Z",
              b"2024-03-04 08:00", b"2024-3-4T8:0", b"2024-03-04T25:61", b"1970-01-01T00:00", b"2038-01-19T03:14:08",
              b"2024-W10-1", b"20240304T0800", b"-2024-01-01", b"2024-03-04T08:00:60", b"2024-03-04T08:00.5"]
HUGE_NUMBERS = [b"9" * 40, b"-1", b"0", b"-0", b"1e308", b"1e400", b"NaN", b"inf", b"-9223372036854775809",
                b"18446744073709551616", b"0x10", b"1_000", b"00000000000007", b"3.5", b"\xd9\xa3"]
NON_UTF8 = [b"\xff", b"\xfe\xff", b"\xc3\x28", b"\xa0\xa1", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xc0\xaf",
            b"\xe2\x82", b"\x80"]
STRANGE = [b"\x00", b"\r", b"\r\n", b"\t", b"\x0b", b"\x0c", b"\x1b[31m", b"\xe2\x80\xa8", b"\xe2\x80\xae",
           b"\xef\xbb\xbf", b"\xc2\xa0", b"\xf0\x9f\x98\x80", b"<script>alert(1)</script>", b"'; DROP TABLE x; --",
           b"../../etc/passwd", b"%s%n", b"{{7*7}}", b"\\", b'"', b"'"]
BOMS = [b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"\xef\xbb\xbf\xef\xbb\xbf"]
TOKEN = re.compile(rb"\S+")
DIGITS = re.compile(rb"\d+")
DATE = re.compile(rb"\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2})?")


def _pos(rng: random.Random, data: bytes) -> int:
    return rng.randint(0, len(data))


def byte_flip(rng: random.Random, data: bytes, other: bytes) -> bytes:
    if not data:
        return bytes([rng.randrange(256)])
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        i = rng.randrange(len(out))
        out[i] ^= 1 << rng.randrange(8)
    return bytes(out)


def byte_set(rng: random.Random, data: bytes, other: bytes) -> bytes:
    p = _pos(rng, data)
    return data[:p] + bytes([rng.randrange(256)]) + data[p + 1:]


def _tokens(data: bytes) -> list[tuple[int, int]]:
    return [m.span() for m in TOKEN.finditer(data)]


def token_delete(rng: random.Random, data: bytes, other: bytes) -> bytes:
    spans = _tokens(data)
    if not spans:
        return data
    a, b = rng.choice(spans)
    return data[:a] + data[b:]


def token_duplicate(rng: random.Random, data: bytes, other: bytes) -> bytes:
    spans = _tokens(data)
    if not spans:
        return data + data
    a, b = rng.choice(spans)
    return data[:b] + b" " + data[a:b] + data[b:]


def token_swap(rng: random.Random, data: bytes, other: bytes) -> bytes:
    spans = _tokens(data)
    if len(spans) < 2:
        return data
    (a, b), (c, d) = sorted(rng.sample(spans, 2))
    return data[:a] + data[c:d] + data[b:c] + data[a:b] + data[d:]


def token_from_other(rng: random.Random, data: bytes, other: bytes) -> bytes:
    """A token of the other seed put in place of (or before) one of this one's."""
    mine, theirs = _tokens(data), _tokens(other)
    if not mine or not theirs:
        return data
    a, b = rng.choice(mine)
    c, d = rng.choice(theirs)
    return data[:a] + other[c:d] + (b" " + data[a:] if rng.random() < 0.5 else data[b:])


def _lines(data: bytes) -> list[bytes]:
    return data.split(b"\n")


def line_delete(rng: random.Random, data: bytes, other: bytes) -> bytes:
    lines = _lines(data)
    del lines[rng.randrange(len(lines))]
    return b"\n".join(lines)


def line_duplicate(rng: random.Random, data: bytes, other: bytes) -> bytes:
    lines = _lines(data)
    i = rng.randrange(len(lines))
    lines[i:i] = [lines[i]] * rng.choice([1, 1, 2, 50])
    return b"\n".join(lines)


def line_swap(rng: random.Random, data: bytes, other: bytes) -> bytes:
    lines = _lines(data)
    i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
    lines[i], lines[j] = lines[j], lines[i]
    return b"\n".join(lines)


def splice(rng: random.Random, data: bytes, other: bytes) -> bytes:
    """This seed's head and the other's tail, cut at line starts or anywhere."""
    if rng.random() < 0.7:
        a, b = _lines(data), _lines(other)
        return b"\n".join(a[:rng.randint(0, len(a))] + b[rng.randint(0, len(b)):])
    return data[:_pos(rng, data)] + other[_pos(rng, other):]


def truncate(rng: random.Random, data: bytes, other: bytes) -> bytes:
    return data[:_pos(rng, data)]


def _replace_one(rng: random.Random, data: bytes, pattern: re.Pattern[bytes], values: list[bytes]) -> bytes:
    """One match of `pattern` replaced by one of `values` (inserted somewhere when nothing matches)."""
    spans = [m.span() for m in pattern.finditer(data)]
    value = rng.choice(values)
    a, b = rng.choice(spans) if spans else (_pos(rng, data),) * 2
    return data[:a] + value + data[b:]


def huge_number(rng: random.Random, data: bytes, other: bytes) -> bytes:
    return _replace_one(rng, data, DIGITS, HUGE_NUMBERS)


def hard_time(rng: random.Random, data: bytes, other: bytes) -> bytes:
    """A date or time replaced by a DST-gap, repeated-hour, impossible or oddly written one."""
    return _replace_one(rng, data, DATE, HARD_TIMES)


def deep_nesting(rng: random.Random, data: bytes, other: bytes) -> bytes:
    depth = rng.choice([50, 500, 5000, 50000])
    opener, closer = rng.choice([(b"(", b")"), (b"[", b"]"), (b"{", b"}"), (b"- ", b""), (b"{a: ", b"}"),
                                 (b"not ", b""), (b'"', b"")])
    p = _pos(rng, data)
    return data[:p] + opener * depth + (closer * depth if rng.random() < 0.5 else b"") + data[p:]


def non_utf8(rng: random.Random, data: bytes, other: bytes) -> bytes:
    p = _pos(rng, data)
    return data[:p] + rng.choice(NON_UTF8) + data[p:]


def strange(rng: random.Random, data: bytes, other: bytes) -> bytes:
    p = _pos(rng, data)
    return data[:p] + rng.choice(STRANGE) * rng.choice([1, 1, 3]) + data[p:]


def bom(rng: random.Random, data: bytes, other: bytes) -> bytes:
    return rng.choice(BOMS) + data


def crlf(rng: random.Random, data: bytes, other: bytes) -> bytes:
    return data.replace(b"\n", rng.choice([b"\r\n", b"\r", b"\n\n", b"\x85"]))


def nul(rng: random.Random, data: bytes, other: bytes) -> bytes:
    p = _pos(rng, data)
    return data[:p] + b"\x00" * rng.choice([1, 1, 8, 4096]) + data[p:]


def huge_value(rng: random.Random, data: bytes, other: bytes) -> bytes:
    """A very long token (a megabyte at most), in place of one."""
    spans = _tokens(data) or [(0, 0)]
    a, b = rng.choice(spans)
    return data[:a] + rng.choice([b"x", b"9", b"C", b"\xc3\xa9", b" "]) * rng.choice([1000, 100_000, 1_000_000]) + data[b:]


Operator = Callable[[random.Random, bytes, bytes], bytes]
OPERATORS: dict[str, Operator] = {f.__name__: f for f in (
    byte_flip, byte_set, token_delete, token_duplicate, token_swap, token_from_other, line_delete, line_duplicate,
    line_swap, splice, truncate, huge_number, hard_time, deep_nesting, non_utf8, strange, bom, crlf, nul, huge_value)}
# how often each is picked: the cheap local edits most often, the megabyte ones rarely
WEIGHTS = {name: 1.0 for name in OPERATORS} | {"hard_time": 3.0, "token_delete": 2.0, "token_duplicate": 2.0,
                                                "token_from_other": 2.0, "huge_value": 0.3, "deep_nesting": 0.6}


def mutate(rng: random.Random, data: bytes, other: bytes, extra: dict[str, Operator] | None = None) -> tuple[bytes, str]:
    """One to three stacked mutations of `data` -> (bytes, "op+op"). `extra` adds kind-specific operators."""
    ops = OPERATORS | (extra or {})
    names = list(ops)
    weights = [WEIGHTS.get(n, 2.0) for n in names]
    used = []
    for _ in range(rng.choice([1, 1, 1, 2, 2, 3])):
        name = rng.choices(names, weights)[0]
        data = ops[name](rng, data, other)
        used.append(name)
    return data, "+".join(used)
