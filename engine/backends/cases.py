"""Many cases in one DuckDB evaluation, each case's results given back apart.

Input: a compiled policy and (facts, as_of) per case. Output: one `Outcome` per case, in input
order: its evaluation time, obligations and episodes exactly as `engine.evaluation.evaluate`
(pyDatalog) gives them for that case alone (tests/test_onepass.py compares every bundled case,
every field, in order).

How: every id of case i (children, episodes, the child and episode of an action) is prefixed with
`k{i}/`, so no two cases share an id; each child is judged at its own case's as_of
(`evaluate_duck_cases`: per-child `judged_at`, so times are exact, not approximated); rules only
ever join facts of one child, so a case's rows are those of its children. The rows come back in
DuckDB's output order, which sorts by child id after the times: one common prefix keeps a case's
order what it is alone. The prefix is stripped from the rows before they are returned.

`choose_engine` is how `clause obligations` (on case files), `clause test` and `clause diff` decide:
the one pass costs about one DuckDB start-up plus its episodes, pyDatalog costs per episode, so the
crossover is the same as for one input (engine.backends.THRESHOLD, measured in bench/).
`evaluate_each` gives every case's evaluation by the engine so chosen.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Sequence

from compiler.policy import CompiledPolicy
from engine.evaluation import EpisodeFacts, Evaluation
from engine.meaning.obligations import Obligation
from facts.model import FactSet


@dataclass(frozen=True)
class Outcome:
    """What checking a case's expectations reads: the time, the obligations, the episodes."""

    at: datetime
    obligations: tuple[Obligation, ...]
    episodes: tuple[EpisodeFacts, ...]


def choose_engine(engine: str, facts: Sequence[FactSet]) -> str:
    """`auto`: DuckDB when all the cases together hold more episodes than the measured crossover."""
    from engine.backends import choose
    return choose(engine, sum(len(f.episodes) for f in facts))


def _prefix(i: int) -> str:
    return f"k{i}/"


def prefixed(facts: FactSet, p: str) -> FactSet:
    """The same facts with every child and episode id (and every reference to one) prefixed by `p`."""
    return FactSet(tuple(replace(c, id=p + c.id) for c in facts.children),
                   tuple(replace(e, id=p + e.id, child=p + e.child) for e in facts.episodes),
                   tuple(replace(a, child=p + a.child, episode=None if a.episode is None else p + a.episode)
                         for a in facts.actions))


def _case_of(child: str) -> tuple[int, int]:
    """(case index, prefix length) of a prefixed child id."""
    cut = child.index("/")
    return int(child[1:cut]), cut + 1


def evaluate_cases(policy: CompiledPolicy, cases: Sequence[tuple[FactSet, datetime]]) -> list[Outcome]:
    """Each case's outcome, all derived in one DuckDB evaluation (see the module docstring)."""
    if not cases:
        return []
    from engine.backends.duck import evaluate_duck_cases
    duck = evaluate_duck_cases(policy, [(prefixed(facts, _prefix(i)), at) for i, (facts, at) in enumerate(cases)])
    try:
        obligations: list[list[Obligation]] = [[] for _ in cases]
        episodes: list[list[EpisodeFacts]] = [[] for _ in cases]
        for ob in duck.iter_obligations():
            i, n = _case_of(ob.child)
            obligations[i].append(replace(ob, child=ob.child[n:], episode=ob.episode and ob.episode[n:]))
        for e in duck.episodes:
            i, n = _case_of(e.child)
            episodes[i].append(replace(e, id=e.id[n:], child=e.child[n:]))
    finally:
        duck.close()
    return [Outcome(at, tuple(obs), tuple(eps)) for (_, at), obs, eps in zip(cases, obligations, episodes)]


def evaluate_each(policy: CompiledPolicy, cases: Sequence[tuple[FactSet, datetime]],
                  engine: str) -> Sequence[Evaluation | Outcome]:
    """Each case's evaluation: pyDatalog case by case, or DuckDB in one pass when `engine` (auto:
    by all the cases' episodes together) says DuckDB. Both give `at`, `obligations` and `episodes`."""
    if choose_engine(engine, [facts for facts, _ in cases]) == "duckdb":
        return evaluate_cases(policy, cases)
    from engine.evaluation import evaluate
    return [evaluate(policy, facts, at) for facts, at in cases]
