"""Writing files so that an interrupted run never leaves half a file; where caches live.

Every file Clause writes (reports, JUnit XML, bulk CSV, cache entries) goes through
`atomic`: a temporary file beside the target, flushed to disk, given the usual
permissions (0666 less the umask) or those asked for, then renamed over the target
in one step.

The cache folder (`cache_dir`): $CLAUSE_CACHE_DIR, else $XDG_CACHE_HOME/clause, else
~/.cache/clause; CLAUSE_CACHE=0 turns every cache off. It is created private (0700)
and used only while it belongs to this user and no one else can write it.
"""
from __future__ import annotations

import os
import stat
import tempfile
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO, Iterator


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def atomic(path: Path, binary: bool = False, mode: int | None = None) -> Iterator[IO]:
    """A text (or binary) handle whose content replaces `path` only if the block completes;
    the file gets permissions `mode`, by default the usual ones."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with (os.fdopen(fd, "wb") if binary else os.fdopen(fd, "w", newline="", encoding="utf-8")) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask() if mode is None else mode)
        os.replace(tmp, path)
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


@contextmanager
def atomic_path(path: Path, mode: int | None = None) -> Iterator[str]:
    """`atomic` for a writer that opens the file itself (DuckDB's COPY): the temporary file's path,
    an empty file beside `path`; once the block completes it is flushed to disk, given permissions
    and renamed over `path`, as `atomic` does."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        yield tmp
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask() if mode is None else mode)
        os.replace(tmp, path)
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_atomic(path: Path, text: str) -> None:
    with atomic(path) as fh:
        fh.write(text)


def atomic_bytes(path: Path, data: bytes, mode: int | None = None) -> None:
    with atomic(path, binary=True, mode=mode) as fh:
        fh.write(data)


def private(path: Path) -> bool:
    """Owned by this user and writable by no one else: a cache entry anyone else wrote is never read."""
    st = path.stat()
    return (not hasattr(os, "getuid") or st.st_uid == os.getuid()) and not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def cache_dir() -> Path | None:
    """The cache folder, created private; None when caching is off or the folder is unusable."""
    if os.environ.get("CLAUSE_CACHE", "1") == "0":
        return None
    if os.environ.get("CLAUSE_CACHE_DIR"):
        folder = Path(os.environ["CLAUSE_CACHE_DIR"])
    else:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        folder = Path(base) / "clause"
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        return folder if private(folder) else None
    except OSError:
        return None
