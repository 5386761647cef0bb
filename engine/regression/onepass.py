"""`clause test` on DuckDB: every case checked from one DuckDB pass, pyDatalog only for the failures.

Input: a compiled policy and cases. Output: `CaseResult`s in case order (engine/regression/suite.py),
the same report as the pyDatalog path gives, and the names of cases where the engines disagreed.
The one pass itself (ids prefixed per case, each child judged at its case's as_of) is
engine/backends/cases.py.
"""
from __future__ import annotations

import time
from dataclasses import replace
from typing import Sequence

from compiler.policy import CompiledPolicy
from engine.backends.cases import Outcome, evaluate_cases
from facts.model import Case


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
