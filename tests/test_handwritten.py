"""bench/handwritten.py, the benchmark's hand-written Python reference, is the whole bundled policy:
its clauses are exactly the policy's (every clause and exception, none left out), each duty's timing is
the compiled clause's, and it derives pyDatalog's `obligation` tuples and gives `engine.evaluation.evaluate`'s
obligations and CSV bytes on every regression case (every fourth in make test, all in make fuzz) and on small synthetic years
(16 children in make test, 30 in make fuzz; statuses and flags changing during the year), judged at the year's end,
in the middle of it and in the autumn clock change's repeated hour."""
from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from compiler import ast
from compiler.core.london import parse_instant
from engine.evaluation import evaluate
from engine.meaning.obligations import timing_rows
from engine.output import render
from engine.backends.batch import Run
from engine.backends.partition import MergedEvaluation
from tests.evaluated import case_evaluation, policy
from facts.synth import synthesize
from facts.yamlcase import case_files
from tests.loads import LARGE

sys.path.append(str(Path(__file__).resolve().parent.parent / "bench"))
from handwritten import evaluate_handwritten, handwritten_csv, obligation_heads  # noqa: E402
from handwritten_timing import CLAUSES, DECIDING, TIMINGS  # noqa: E402

CASES = case_files([Path("tests/cases")])
# make test: every fourth case, item by item (all of them still feed the clause-reach test below);
# make fuzz (CLAUSE_TEST_LOAD=large): every case
EACH = CASES if LARGE else CASES[::4]
# One pyDatalog evaluation of a synthetic year costs more than linearly in its children (30: seconds in
# make test's busy worker); 16 still gives every seed statuses that change during the year and hundreds of duties.
YEAR_CHILDREN = 30 if LARGE else 16


def test_the_hand_written_clauses_are_the_policys_clauses() -> None:
    clauses = policy().program.clauses
    assert not set(TIMINGS) & set(DECIDING)
    assert set(TIMINGS) | set(DECIDING) == set(clauses), "a clause of the policy not written by hand, or one too many"
    assert len(clauses) == 93
    for cid, clause in clauses.items():
        actions = {c.action.value for c in clause.then if isinstance(c, ast.Obligation)}
        assert actions == set(TIMINGS.get(cid, {})), cid


def _typed_in() -> dict:
    """The hand-typed timings as the clauses `timing_rows` reads: one obligation per action."""
    span = ast.Span("")
    return {cid: SimpleNamespace(then=tuple(ast.Obligation((), ast.Name("x", span), None, ast.Name(action, span), t, span)
                                            for action, t in by_action.items()))
            for cid, by_action in TIMINGS.items()}


def test_every_duty_has_the_compiled_clauses_timing() -> None:
    assert timing_rows(_typed_in()) == timing_rows(policy().program.clauses)
    assert all(CLAUSES[c].obligation(a).timing is t for c, ts in TIMINGS.items() for a, t in ts.items())


def _csv(obligations, at) -> str:
    return render.as_csv([(Run("bulk", None, MergedEvaluation(at, tuple(obligations), ())), list(obligations))])


@pytest.mark.parametrize("path", EACH, ids=lambda p: p.stem)
def test_each_case_gives_pydatalogs_duties(path: Path) -> None:
    case, ev = case_evaluation(path)
    assert obligation_heads(case.facts, case.as_of) == set(ev.derived.tuples["obligation"])
    assert evaluate_handwritten(case.facts, case.as_of) == list(ev.obligations)
    assert handwritten_csv(case.facts, case.as_of) == _csv(ev.obligations, case.as_of)


def test_the_cases_reach_every_hand_written_clause() -> None:
    """So the comparison above is not vacuous for any clause: each one decides something in some case
    (a duty, a duty's actor, a category or a risk level)."""
    seen = set()
    for path in CASES:
        derived = case_evaluation(path)[1].derived.tuples
        seen |= {t[5] for t in derived["obligation"]} | {t[6] for t in derived["obligation"]}
        seen |= {t[2] for t in derived["category_by"]} | {t[2] for t in derived["risk_by"]}
    assert set(TIMINGS) | set(DECIDING) <= seen


@pytest.mark.parametrize("seed, at_text", [(1, "2025-01-01T00:00"), (2, "2024-07-15T09:30"), (3, "2024-10-27T01:30")])
def test_a_synthetic_year_gives_pydatalogs_duties_and_csv_bytes(seed: int, at_text: str) -> None:
    facts, at = synthesize(YEAR_CHILDREN, seed), parse_instant(at_text)
    assert any(not h.throughout for c in facts.children for h in c.statuses)  # statuses over time
    ev = evaluate(policy(), facts, at)
    assert obligation_heads(facts, at) == set(ev.derived.tuples["obligation"])
    mine = evaluate_handwritten(facts, at)
    assert mine == list(ev.obligations) and len(mine) > 300
    assert handwritten_csv(facts, at) == _csv(ev.obligations, at)
