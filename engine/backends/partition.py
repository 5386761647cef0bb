"""Partitioned evaluation: a large input evaluated in chunks of children, then merged.

Input: a compiled policy, a `FactSet`, the evaluation time, a chunk size (children), an
engine ("pydatalog" or "duckdb") and an optional progress callback. Output: a
`MergedEvaluation` with the same `obligations` (every field, same order) and `episodes`
as one evaluation of the whole input.

Why it is exact: every condition of the language is about one child (its statuses,
flags, fields) or one of its episodes (times, windows over that child's own episodes,
derived category and risk), and every rule joins on the child, so a child's obligations
(their states too: a duty is discharged by its own child's actions) depend on its facts
alone. Merging: a child's obligations all come from one chunk, and the sort key
names the child, so merging the chunks' sorted lists by that key gives the whole
order. tests/test_scale_differential.py checks all of this against whole evaluations.
"""
from __future__ import annotations

import heapq
from dataclasses import dataclass
from datetime import datetime
from typing import Callable, Iterator

from compiler.policy import CompiledPolicy
from engine.evaluation import EpisodeFacts, evaluate
from engine.meaning.episodes import order_key
from engine.meaning.obligations import Obligation
from facts.model import FactSet


@dataclass(frozen=True)
class MergedEvaluation:
    """What `engine.backends.batch.Run` and `engine.output.render` read: the time, obligations, episodes."""

    at: datetime
    obligations: tuple[Obligation, ...]
    episodes: tuple[EpisodeFacts, ...]


def chunks(facts: FactSet, size: int) -> Iterator[FactSet]:
    """The facts split by child, `size` children at a time, in the input's child order."""
    episodes: dict[str, list] = {}
    actions: dict[str, list] = {}
    for e in facts.episodes:
        episodes.setdefault(e.child, []).append(e)
    for a in facts.actions:
        actions.setdefault(a.child, []).append(a)
    for i in range(0, len(facts.children), max(1, size)):
        part = facts.children[i:i + size]
        yield FactSet(part, tuple(e for c in part for e in episodes.get(c.id, ())),
                      tuple(a for c in part for a in actions.get(c.id, ())))


def evaluate_partitioned(policy: CompiledPolicy, facts: FactSet, at: datetime, size: int = 100,
                         engine: str = "pydatalog", progress: Callable[[int], None] | None = None) -> MergedEvaluation:
    """Evaluate chunk by chunk; `progress(n)` is told the number of children done after each chunk."""
    obligations: list[list[Obligation]] = []
    episodes: list[list[EpisodeFacts]] = []
    for part in chunks(facts, size):
        if engine == "duckdb":
            from engine.backends.duck import evaluate_duck
            ev = evaluate_duck(policy, part, at)
            obligations.append(list(ev.obligations))
            episodes.append(list(ev.episodes))
            ev.close()
        else:
            ev = evaluate(policy, part, at)
            obligations.append(list(ev.obligations))
            episodes.append(list(ev.episodes))
        if progress is not None:
            progress(len(part.children))
    by_id = {e.id: e for e in facts.episodes}
    return MergedEvaluation(
        at, tuple(heapq.merge(*obligations, key=Obligation.sort_key)),
        tuple(heapq.merge(*episodes, key=lambda e: order_key(by_id[e.id]))))
