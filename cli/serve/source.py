"""What `clause serve` serves: the input evaluated, re-read whenever its files change.

Input: a path (case file, folder of cases, bulk folder), a compiled policy, an optional fixed
evaluation time (default: now, per evaluation) and whether to pseudonymise. Output: a
`Snapshot` per request: the loaded facts (children already pseudonymised when redacting, so
nothing later sees a real id), every case's obligations and episodes. Invariants: a snapshot
is rebuilt, and the child pages derived from it forgotten, when any file's size or
modification time under the path changes, and, for a bulk folder judged "now", when it is a
minute old (so "now" moves on); a failed reload keeps no stale answer (the error is served
until the files are fixed); one lock serialises evaluations and explanations (pyDatalog
holds one loaded program per thread, and DuckDB uses both cores).
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Callable, TypeVar

from compiler.core.diagnostics import ClauseError
from compiler.core.privacy import redaction
from compiler.policy import CompiledPolicy
from engine.backends import evaluate_case
from engine.backends.cases import evaluate_each
from engine.backends.batch import now
from engine.evaluation import EpisodeFacts
from engine.meaning.obligations import Obligation
from engine.output.redact import case_pseudonym, pseudonymise
from facts.loader import LoadedInput, load_path
from facts.model import Case, FactSet

REFRESH_SECONDS = 60
T = TypeVar("T")


@dataclass(frozen=True)
class Part:
    """One case (or the bulk extract) as evaluated."""
    name: str
    case: Case | None
    facts: FactSet
    at: datetime
    obligations: tuple[Obligation, ...]
    episodes: tuple[EpisodeFacts, ...]


@dataclass(frozen=True)
class Snapshot:
    parts: tuple[Part, ...]
    at: datetime  # the latest evaluation time (each case is judged at its own as_of unless --at)
    loaded_at: float
    live: bool  # judged "now" (a bulk folder without --at): re-evaluated as time passes

    def pairs(self) -> list[tuple[str, Obligation]]:
        return [(p.name, o) for p in self.parts for o in p.obligations]

    def child_parts(self, child: str) -> list[Part]:
        return [p for p in self.parts if any(c.id == child for c in p.facts.children)]


def signature(path: Path) -> tuple:
    """(name, size, mtime) of every file the input is read from: any edit changes it."""
    files = sorted(f for f in path.rglob("*") if f.is_file()) if path.is_dir() else [path]
    out = []
    for f in files:
        try:
            st = f.stat()
        except OSError:  # removed while listing: the next request sees the new listing
            continue
        out.append((str(f), st.st_size, st.st_mtime_ns))
    return tuple(out)


class Source:
    def __init__(self, path: str | Path, policy: CompiledPolicy, at: datetime | None = None, redact: bool = False):
        self.path, self.policy, self.fixed_at, self.redact = Path(path), policy, at, redact
        self.lock = threading.RLock()
        self._sig: tuple | None = None
        self._snap: Snapshot | None = None
        self._error: ClauseError | None = None
        self.loads = 0  # how many times the input was evaluated (for tests and the page footer)
        self._memo: dict[object, object] = {}  # answers derived from the current snapshot (a child's page)

    def snapshot(self) -> Snapshot:
        """The current snapshot; raises the input's ClauseError while the files are invalid."""
        with self.lock:
            sig = signature(self.path)
            stale = self._snap is not None and self._snap.live and time.time() - self._snap.loaded_at > REFRESH_SECONDS
            if sig != self._sig or stale:
                self._sig = sig
                try:
                    self._memo.clear()
                    with redaction(self.redact):  # diagnostics name children by pseudonym too
                        self._snap, self._error = self._load(), None
                except ClauseError as e:
                    self._snap, self._error = None, e
            if self._error is not None:
                raise self._error
            assert self._snap is not None
            return self._snap

    def memo(self, key: object, make: Callable[[], T]) -> T:
        """`make()`, kept until the data change (a busy child's explanations take seconds)."""
        self.snapshot()
        with self.lock:
            if key not in self._memo:
                self._memo[key] = make()
            return self._memo[key]  # type: ignore[return-value]

    def _load(self) -> Snapshot:
        loaded: LoadedInput = load_path(self.path)
        items = ([(c.name, c, c.facts, self.fixed_at or c.as_of) for c in loaded.cases]
                 or [("bulk", None, loaded.bulk, self.fixed_at or now())])
        if self.redact:  # the children, their episodes, and a case's name (it may name the child)
            items = [(name if case is None else case_pseudonym(name), case, pseudonymise(facts), at)
                     for name, case, facts, at in items]
        if loaded.cases:  # many cases: one DuckDB pass above the crossover (engine/backends/cases.py)
            evaluations = evaluate_each(self.policy, [(facts, at) for _, _, facts, at in items], "auto")
        else:
            evaluations = [evaluate_case(self.policy, items[0][2], items[0][3], "auto")]
        parts = []
        for (name, case, facts, at), ev in zip(items, evaluations):
            try:
                parts.append(Part(name, case, facts, at, tuple(ev.obligations), tuple(ev.episodes)))
            finally:
                getattr(ev, "close", lambda: None)()
        self.loads += 1
        return Snapshot(tuple(parts), max(p.at for p in parts), time.time(), self.fixed_at is None and not loaded.cases)
