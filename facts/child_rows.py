"""One child's lines of a bulk CSV file, found without parsing the rest (what `clause why` needs).

Input: the file's bytes (a `bytes` or an `mmap`: the file need not be read into memory) and a child
id. Output: the header line and every other line that holds the id anywhere (a superset of the
child's rows: the caller parses each and keeps those whose child column equals the id), each with
its 1-based line number, or None when lines are not rows: the file holds a double quote (a quoted
cell may span lines) or a carriage return, or the id is empty. The search is `find` over the whole
file and the line numbers come from counting newlines between hits, both in C: a 60 MB national
extract takes tens of milliseconds, not a second. Lines are decoded on their own (UTF-8, a leading
byte-order mark dropped), so a line that is not UTF-8 is reported by the caller at its own line
number; bytes of other children's lines are not looked at: checking them is `clause obligations`'
job (the caller says so).
"""
from __future__ import annotations

import mmap
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Union

BOM = b"\xef\xbb\xbf"
Bytes = Union[bytes, mmap.mmap]


@contextmanager
def mapped(path: Path) -> Iterator[Bytes]:
    """The file's bytes as a read-only memory map (b"" for an empty file), unmapped on leaving."""
    with path.open("rb") as fh:
        if os.fstat(fh.fileno()).st_size == 0:
            yield b""
            return
        with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
            yield data


def child_lines(data: Bytes, child: str) -> list[tuple[int, bytes]] | None:
    """[(line number, line bytes without its newline)]: line 1 (the header) first, then each line
    holding `child`, in file order; None when the file cannot be read line by line (see above)."""
    needle = child.encode("utf-8")
    if not needle or data.find(b'"') >= 0 or data.find(b"\r") >= 0:
        return None
    begin = len(BOM) if data[:len(BOM)] == BOM else 0
    end = data.find(b"\n", begin)
    out = [(1, data[begin:] if end < 0 else data[begin:end])]
    line, counted = 1, begin  # the line number of offset `counted`
    pos = data.find(needle, end) if end >= 0 else -1
    while pos >= 0:
        start = data.rfind(b"\n", 0, pos) + 1
        stop = data.find(b"\n", pos)
        stop = len(data) if stop < 0 else stop
        line += data[counted:start].count(b"\n")
        counted = start
        out.append((line, data[start:stop]))
        pos = data.find(needle, stop)
    return out
