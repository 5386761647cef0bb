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

`choose_engine` is how `clause test` and `clause diff` decide: the one pass costs about one DuckDB
start-up plus its episodes, pyDatalog costs per episode, so the crossover is the same as for one
input (engine.backends.THRESHOLD, measured in bench/).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Sequence

from compiler.policy import CompiledPolicy
from engine.evaluation import EpisodeFacts
from engine.meaning.obligations import Obligation
from facts.model import Case, FactSet


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


def _passes(outcome: Outcome, case: Case) -> bool:
    """Every expectation of the case holds for this outcome (engine.regression.suite's matching)."""
    from engine.regression.suite import check_episodes, matches
    obs = outcome.obligations
    return (all(any(matches(entry, ob) for ob in obs) for entry, _ in case.expect.obligations)
            and not any(matches(entry, ob) for entry, _ in case.expect.not_obligations for ob in obs)
            and not check_episodes(outcome, case))  # type: ignore[arg-type] - reads .at and .episodes only


def run_cases(policy: CompiledPolicy, cases: Sequence[Case], births: bool = True) -> tuple[list, list[str]]:
    """(CaseResults in case order, names of cases where the engines disagreed).

    All cases are evaluated in one DuckDB pass and checked; a case that fails is evaluated again by
    pyDatalog (`suite.run_case`), whose result is reported: the same failures, nearest obligations and
    explanations as the pyDatalog path gives. Should pyDatalog find no failure there, the case is
    named in the second list (the engines disagree, which tests/test_scale_differential.py rules out;
    the caller says so) and pyDatalog's result is kept. A case's `seconds` is its share of the pass
    plus its own checking (and re-evaluation)."""
    from engine.regression.suite import CaseResult, run_case
    start = time.perf_counter()
    outcomes = evaluate_cases(policy, [(c.facts, c.as_of) for c in cases])
    share = (time.perf_counter() - start) / max(1, len(cases))
    results, disagreed = [], []
    for case, outcome in zip(cases, outcomes):
        began = time.perf_counter()
        if _passes(outcome, case):
            results.append(CaseResult(case, outcome, (), share + time.perf_counter() - began))  # type: ignore[arg-type]
            continue
        reference = run_case(policy, case, births=births)
        if reference.passed:
            disagreed.append(case.name)
        results.append(replace(reference, seconds=share + time.perf_counter() - began))
    return results, disagreed


def run_cases_observed(policy: CompiledPolicy, cases: Sequence[Case], observe, births: bool = True) -> tuple[list, list[str]]:
    """As `run_cases`, for coverage (`observe` sees each case's whole Evaluation, derived relations
    included): each case is evaluated by the reference interpreter (engine/backends/reference.py,
    tests/test_reference.py: pyDatalog's exact relations on every regression case, at a fraction of
    its cost), and a case that fails again by pyDatalog, whose report is shown."""
    from engine.backends.reference import evaluate_reference
    from engine.regression.suite import CaseResult, run_case
    results, disagreed = [], []
    for case in cases:
        began = time.perf_counter()
        evaluation = evaluate_reference(policy, case.facts, case.as_of)
        observe(case, evaluation)
        if _passes(evaluation, case):  # type: ignore[arg-type] - an Evaluation has .at, .obligations, .episodes
            results.append(CaseResult(case, evaluation, (), time.perf_counter() - began))
            continue
        reference = run_case(policy, case, births=births)
        if reference.passed:
            disagreed.append(case.name)
        results.append(replace(reference, seconds=time.perf_counter() - began))
    return results, disagreed
