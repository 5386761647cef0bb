"""Evaluate whatever the user pointed at: cases (each at its own as_of) or a bulk extract.

Input: a compiled policy, a `LoadedInput`, an optional evaluation time (which
overrides each case's as_of; a bulk extract needs one, default now). Output:
one `Run` per case (or one for the bulk extract), in input order.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Iterable

from compiler.policy import CompiledPolicy
from engine.backends.partition import MergedEvaluation
from engine.evaluation import Evaluation, evaluate
from engine.meaning.obligations import Obligation
from facts.loader import LoadedInput
from facts.model import Case
from compiler.core.london import LONDON


@dataclass(frozen=True)
class Run:
    name: str
    case: Case | None
    evaluation: Evaluation

    def for_child(self, child: str | None) -> "Run":
        """The run as `--child` shows it: only that child's obligations and episodes, so the heading and the
        JSON, which list the episodes, do not show the rest of the input's (on a bulk folder, a whole authority's)."""
        if child is None:
            return self
        ev = self.evaluation
        return Run(self.name, self.case, MergedEvaluation(ev.at, tuple(o for o in ev.obligations if o.child == child),
                                                          tuple(e for e in ev.episodes if e.child == child)))

    def obligations(self, child: str | None = None, status: str | None = None,
                    action: str | None = None) -> list[Obligation]:
        return [o for o in self.evaluation.obligations
                if (child is None or o.child == child) and (status is None or o.status == status)
                and (action is None or o.action == action)]


def now() -> datetime:
    return datetime.now(LONDON).replace(second=0, microsecond=0)


def run_input(policy: CompiledPolicy, loaded: LoadedInput, at: datetime | None = None) -> Iterable[Run]:
    """Lazily, one run per case, so long inputs stream."""
    if loaded.bulk is not None:
        yield Run("bulk", None, evaluate(policy, loaded.bulk, at or now()))
        return
    for case in loaded.cases:
        yield Run(case.name, case, evaluate(policy, case.facts, at or case.as_of))
