"""Writing files so that an interrupted run never leaves half a file; where caches live.

Every file Clause writes (reports, JUnit XML, bulk CSV, cache entries) goes through
`atomic`: a temporary file beside the target (`.NAME.clause-PID-XXXXXXXX.tmp`; those of a
writer that was killed are swept by the next one), flushed to disk, given the usual
permissions (0666 less the umask) or those asked for, then renamed over the target in one
step. A target that is a link, pipe, device or folder is refused (O001), never replaced; a
full disk or a read-only folder is O002, naming the file (the old one is intact).
`atomic_group` does the same for several files at once (none replaced unless all are
written), `atomic_folder` for a whole folder (`clause synth`).

The cache folder (`cache_dir`): $CLAUSE_CACHE_DIR, else $XDG_CACHE_HOME/clause, else
~/.cache/clause; CLAUSE_CACHE=0 turns every cache off. It is created private (0700)
and used only while it belongs to this user and no one else can write it.
"""
from __future__ import annotations

import errno
import os
import re
import stat
import tempfile
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO, Iterator

from compiler.core.diagnostics import ClauseError, Span, error

TEMP = ".clause-{pid}-"  # in every temporary name: `.NAME.clause-PID-XXXXXXXX.tmp`, beside NAME
_TEMP_RE = re.compile(r"\.clause-(\d+)-[a-z0-9_]+\.tmp$")
_FULL = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC), errno.EFBIG}
_DENIED = {errno.EROFS: "the file system is read-only", errno.EACCES: "permission denied",
           errno.EPERM: "permission denied"}


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process (PermissionError): alive
        return True
    return True


def sweep(folder: Path, name: str) -> None:
    """Delete the temporary files an earlier writer of `folder/name` left when it was killed (its pid no
    longer runs): a SIGKILL or power cut mid-write leaves `.NAME.clause-PID-....tmp`, never a half file."""
    prefix = f".{name}.clause-"
    with suppress(OSError), os.scandir(folder) as entries:
        for entry in entries:
            if entry.name.startswith(prefix) and (m := _TEMP_RE.search(entry.name)) and \
                    entry.name[:m.start()] == f".{name}" and not _alive(int(m.group(1))):
                with suppress(OSError):
                    if entry.is_dir(follow_symlinks=False):
                        for inner in Path(entry.path).iterdir():
                            inner.unlink()
                        os.rmdir(entry.path)
                    else:
                        os.unlink(entry.path)


def refuse_target(path: Path) -> None:
    """ClauseError (O001) unless `path` is absent or a regular file: writing would replace a link, a pipe
    or a device with a plain file (and a link's target would stay as it was)."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    except OSError as e:
        raise cannot_write(path, e) from None
    if stat.S_ISREG(st.st_mode):
        return
    kind = ("a symbolic link" if stat.S_ISLNK(st.st_mode) else "a folder" if stat.S_ISDIR(st.st_mode)
            else "a pipe" if stat.S_ISFIFO(st.st_mode) else "a socket" if stat.S_ISSOCK(st.st_mode) else "a device")
    raise ClauseError([error("O001", Span(str(path)), f"{path} is {kind}, not a file Clause will replace",
                             "give the path of a regular file (or of one that does not exist yet)"
                             + ("; to write where the link points, give that path" if kind == "a symbolic link" else ""))])


def cannot_write(path: Path, e: OSError) -> ClauseError:
    """O002: `path` could not be written; says why in words and what to do. The old file, if any, is intact."""
    if e.errno in _FULL:
        why, hint = "the disk is full (no space left on the device)", "free some space there, or write the file elsewhere"
    elif e.errno in _DENIED:
        why, hint = _DENIED[e.errno], "write the file to a folder you can write to"
    else:
        why, hint = e.strerror or str(e), "check the folder exists and can be written"
    return ClauseError([error("O002", Span(str(path)), f"cannot write {path}: {why}; nothing was written "
                              "(any file already there is as it was)", hint)])


class _Pending:
    """One file being written: a recognisable temporary beside `path`."""

    def __init__(self, path: Path, binary: bool, mode: int | None):
        self.path, self.mode = path, mode
        refuse_target(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        sweep(path.parent, path.name)
        fd, self.tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}{TEMP.format(pid=os.getpid())}",
                                        suffix=".tmp")
        self.fh = os.fdopen(fd, "wb") if binary else os.fdopen(fd, "w", newline="", encoding="utf-8")

    def finish(self) -> None:
        """Flushed, fsynced, given its permissions; not yet in place."""
        with self.fh:
            self.fh.flush()
            os.fsync(self.fh.fileno())
        os.chmod(self.tmp, 0o666 & ~_umask() if self.mode is None else self.mode)

    def commit(self) -> None:
        refuse_target(self.path)  # nothing put a link or pipe there while we wrote
        os.replace(self.tmp, self.path)

    def discard(self) -> None:
        with suppress(OSError):
            self.fh.close()
        with suppress(FileNotFoundError):
            os.unlink(self.tmp)


@contextmanager
def atomic_group(paths: list[Path], binary: bool = False, mode: int | None = None) -> Iterator[list[IO]]:
    """Handles for several files that replace theirs only if the block completes and every one of them
    is flushed to disk: a full disk or an error in any of them leaves all as they were. They are
    renamed into place in the order given, at the end. Raises ClauseError: O001 for a target that is
    not a regular file, O002 when the disk or folder refuses the writing."""
    pending: list[_Pending] = []
    current = paths[0] if paths else Path(".")
    try:
        for path in paths:
            current = path
            pending.append(_Pending(path, binary, mode))
        current = paths[0] if len(paths) == 1 else paths[0].parent  # a write failed: the file, or the folder
        yield [p.fh for p in pending]
        for p in pending:
            current = p.path
            p.finish()
        for p in pending:
            current = p.path
            p.commit()
    except OSError as e:
        for p in pending:
            p.discard()
        raise cannot_write(current, e) from None
    except BaseException:
        for p in pending:
            p.discard()
        raise


@contextmanager
def atomic(path: Path, binary: bool = False, mode: int | None = None) -> Iterator[IO]:
    """A text (or binary) handle whose content replaces `path` only if the block completes;
    the file gets permissions `mode`, by default the usual ones. ClauseError as `atomic_group`.
    (An OSError raised by the block itself, e.g. a full disk on a write, is reported against `path`.)"""
    with atomic_group([path], binary, mode) as (fh,):
        yield fh


@contextmanager
def atomic_folder(folder: Path) -> Iterator[Path]:
    """A folder to fill that appears at `folder` only complete: a new folder is filled as a hidden
    sibling and renamed into place; an existing one is filled in the sibling, then its files are moved in
    (each rename atomic; the folder then holds the new files with any others it had). Interrupted, the
    sibling is removed (or swept by the next writer once its pid is gone)."""
    if folder.is_symlink():
        refuse_target(folder)
    if folder.exists() and not folder.is_dir():
        raise ClauseError([error("O001", Span(str(folder)), f"{folder} is not a folder", "give a folder's path")])
    parent = folder.absolute().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        sweep(parent, folder.name)
        tmp = Path(tempfile.mkdtemp(dir=parent, prefix=f".{folder.name}{TEMP.format(pid=os.getpid())}", suffix=".tmp"))
    except OSError as e:
        raise cannot_write(folder, e) from None
    try:
        yield tmp
        os.chmod(tmp, 0o777 & ~_umask())
        if not folder.exists():
            os.rename(tmp, folder)
            return
        for name in sorted(os.listdir(tmp)):
            refuse_target(folder / name)
            os.replace(tmp / name, folder / name)
        os.rmdir(tmp)
    except OSError as e:
        _remove(tmp)
        raise cannot_write(folder, e) from None
    except BaseException:
        _remove(tmp)
        raise


def _remove(tmp: Path) -> None:
    with suppress(OSError):
        for inner in tmp.iterdir():
            inner.unlink()
        tmp.rmdir()


@contextmanager
def atomic_path(path: Path, mode: int | None = None) -> Iterator[str]:
    """`atomic` for a writer that opens the file itself (DuckDB's COPY): the path of the temporary file
    (named, swept, flushed, given permissions and renamed into place as `atomic`'s are) for it to write.
    ClauseError as `atomic_group`."""
    pending: _Pending | None = None
    try:
        pending = _Pending(path, True, mode)
        yield pending.tmp
        pending.finish()  # fsync through our descriptor flushes what the writer put in the file
        pending.commit()
    except OSError as e:
        if pending is not None:
            pending.discard()
        raise cannot_write(path, e) from None
    except BaseException:
        if pending is not None:
            pending.discard()
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
