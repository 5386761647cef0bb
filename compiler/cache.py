"""The compiled policy, kept on disk between runs, so a command on one case starts in well under a second.

Input: a policy folder. Output: the `CompiledPolicy` that `compile_policy` gives for it,
read back from the cache when nothing it was built from has changed, else compiled
(and, when it compiles without errors, stored).

What an entry depends on, all checked before it is used: the compiler itself (the
bytes of every file in compiler/ and its sub-packages, grammar included), the Python version, the working
directory (messages name files relative to it), the folder as given, the path and
bytes of every `.clause` file in it (these name the key), and the text of every
source document the policy quotes (stored in the entry and compared on every read).

Where: compiler.core.files.cache_dir. Entries are pickles, sealed (compiler/core/sealed.py): an
entry is unpickled only when it belongs to this user, no one else can write it, and its HMAC
under this user's cache key verifies, so neither another user nor a damaged disk can change
an answer or run code; a damaged entry is deleted and recompiled. A cache that cannot be read
or written is simply not used. Entries are written atomically.
Policy text is never executed: a pickle here holds only the compiler's own dataclasses.
A dataclass whose fields are all `__init__` arguments is stored as a call of its class, so it is
read back through its `__init__`, in C, not by dataclasses' `__setstate__` (a Python loop over its
fields for each of the policy's 6,000 nodes): about 2.5x faster to read.
"""
from __future__ import annotations

import dataclasses
import hashlib
import io
import pickle
import sys
from functools import lru_cache
from pathlib import Path

from compiler.policy import CompiledPolicy, compile_policy, policy_files
from compiler.core import sealed
from compiler.core.files import cache_dir

FORMAT = 3  # 2: sealed entries; 3: dataclasses stored as calls of their class
COMPILER = Path(__file__).resolve().parent


@lru_cache(maxsize=1)
def compiler_digest() -> str:
    h = hashlib.sha256(f"{FORMAT} {sys.version}".encode())
    for path in sorted(p for p in COMPILER.rglob("*") if p.suffix in (".py", ".lark") and p.is_file()):
        h.update(path.relative_to(COMPILER).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _key(root: Path) -> str:
    h = hashlib.sha256(f"{compiler_digest()}\0{Path.cwd()}\0{root}\0".encode())
    for name in policy_files(root):
        h.update(name.encode() + b"\0" + Path(name).read_bytes() + b"\0")
    return h.hexdigest()


def _sources(policy: CompiledPolicy) -> dict[str, str]:
    return {text.path: _digest(text.text.encode("utf-8")) for text in policy.sources.values()}


def _unchanged(sources: dict[str, str]) -> bool:
    try:
        return all(_digest(Path(path).read_text(encoding="utf-8").encode()) == digest for path, digest in sources.items())
    except (OSError, ValueError):
        return False


def _read(entry: Path) -> CompiledPolicy | None:
    data = sealed.read(entry)
    if data is None:
        return None
    try:
        policy, sources = pickle.loads(data)
        return policy if isinstance(policy, CompiledPolicy) and _unchanged(sources) else None
    except Exception:  # noqa: BLE001 - an entry of an older format is only a cache miss
        return None


@lru_cache(maxsize=None)
def _arguments(cls: type) -> tuple[str, ...] | None:
    """The fields that rebuild an instance of `cls` through `cls(*values)`; None when `__init__` would
    not give back exactly the stored state (a field it does not set, a keyword-only one, `__post_init__`)."""
    if not dataclasses.is_dataclass(cls) or hasattr(cls, "__post_init__"):
        return None
    fields = dataclasses.fields(cls)
    return None if any(not f.init or f.kw_only for f in fields) else tuple(f.name for f in fields)


class _Pickler(pickle.Pickler):
    def reducer_override(self, obj: object) -> object:
        names = _arguments(type(obj))
        return NotImplemented if names is None else (type(obj), tuple(getattr(obj, n) for n in names))


def _pickled(value: object) -> bytes:
    out = io.BytesIO()
    _Pickler(out, protocol=pickle.HIGHEST_PROTOCOL).dump(value)
    return out.getvalue()


def _write(entry: Path, policy: CompiledPolicy) -> None:
    try:
        sealed.write(entry, _pickled((policy, _sources(policy))))
    except pickle.PicklingError:
        pass  # an unwritable cache only costs the next run the compile


# The policy this process last used, by key: the same object again keeps everything built from
# it (the pyDatalog rules, the SQL) warm for the next command in the process.
_recent: dict[str, tuple[CompiledPolicy, dict[str, str]]] = {}


def load_policy_cached(root: Path) -> CompiledPolicy:
    """`compile_policy(root)`, from this process or the cache folder when nothing changed.
    Raises ClauseError as compile_policy does."""
    folder = cache_dir()
    if folder is None or not root.is_dir():
        return compile_policy(root)
    try:
        key = _key(root)
    except OSError:
        return compile_policy(root)  # an unreadable file: compile_policy says which
    hit = _recent.get(key)
    if hit is not None and _unchanged(hit[1]):
        return hit[0]
    entry = folder / f"policy-{key}.pickle"
    policy = _read(entry)
    if policy is None:
        policy = compile_policy(root)
        _write(entry, policy)
    _recent.clear()
    _recent[key] = (policy, _sources(policy))
    return policy
