"""Cache entries sealed with a key only this user holds: read back only if untouched, else repaired.

A cache entry (the compiled policy, the grammar's tables, the bank-holiday table) changes
answers or runs code if it is altered: a pickle is code, and one flipped bit in a loadable
policy pickle gave twelve extra strategy discussions. So every entry is written as
HMAC-SHA256(key, data) + data, where the key is 32 random bytes in the cache folder
(`seal.key`, mode 0600, created once, atomically: concurrent first runs agree on one key).

Input: a path in the cache folder (compiler.core.files.cache_dir) and bytes. Output: the bytes
back, or None. Invariants: nothing is returned unless the file is a regular file (a FIFO or
device in its place would hang or flood the reader), belongs to this user, is writable by no
one else, is no larger than `MAX_BYTES`, and its seal verifies; an entry that fails is
deleted, so the next run rebuilds it (self-repair). Imports nothing of ours but the bottom layer.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
from contextlib import suppress
from pathlib import Path

from compiler.core.diagnostics import ClauseError
from compiler.core.files import atomic_bytes, private

KEY_FILE = "seal.key"
MAX_BYTES = 256 * 2**20  # a compiled policy is a few MB; nothing in the cache is near this
_MAC = hashlib.sha256().digest_size


def _regular(path: Path) -> bool:
    """A regular file, not followed through a link, that is private to this user."""
    st = os.lstat(path)
    return stat.S_ISREG(st.st_mode) and st.st_size <= MAX_BYTES + _MAC and private(path)


def _key(folder: Path) -> bytes | None:
    """This cache folder's key, made on first use; None when it cannot be had safely."""
    path = folder / KEY_FILE
    for _ in range(2):
        try:
            if _regular(path):
                key = path.read_bytes()
                if len(key) == 32:
                    return key
                path.unlink()  # ours but damaged (keys are made whole, then linked): a new key, and
                continue       # every entry sealed with the old one is then rebuilt
            return None  # present but not ours or not private: use no cache
        except FileNotFoundError:
            tmp = folder / f".{KEY_FILE}.{secrets.token_hex(8)}"
            try:
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "wb") as fh:
                    fh.write(secrets.token_bytes(32))
                    fh.flush()
                    os.fsync(fh.fileno())
                with suppress(FileExistsError):
                    os.link(tmp, path)  # the first run to get here wins; the others read its key
            except OSError:
                return None
            finally:
                with suppress(OSError):
                    os.unlink(tmp)
        except OSError:
            return None
    return None


def read(path: Path) -> bytes | None:
    """The entry's data if its seal verifies; a damaged or foreign entry is removed and None returned."""
    try:
        if not _regular(path):
            path.unlink()  # a FIFO, a link or someone else's file where an entry should be
            return None
        key = _key(path.parent)
        blob = path.read_bytes()
    except OSError:
        return None
    if key is not None and len(blob) >= _MAC:
        mac, data = blob[:_MAC], blob[_MAC:]
        if hmac.compare_digest(mac, hmac.new(key, data, hashlib.sha256).digest()):
            return data
    with suppress(OSError):
        path.unlink()  # self-repair: the next run writes a good one
    return None


def write(path: Path, data: bytes) -> None:
    """Seal and write atomically (mode 0600); a cache that cannot be written is simply not used."""
    key = _key(path.parent)
    if key is None or len(data) > MAX_BYTES:
        return
    with suppress(OSError, ClauseError):  # ClauseError: a full disk (O002), a link or pipe in its place (O001)
        atomic_bytes(path, hmac.new(key, data, hashlib.sha256).digest() + data, 0o600)
