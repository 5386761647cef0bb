"""The reference interpreter (engine/backends/reference.py) is an oracle for pyDatalog: the same
derived relations, tuple for tuple, on every regression case and on random stratified programs, and
the worked-out fixpoint of a cycle through several predicates; evaluations built on it give the
same obligations and episodes."""
from __future__ import annotations

import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from compiler.codegen import DERIVED_PREDICATES
from compiler.policy import compile_policy
from engine import evaluate
from engine.backends.reference import derive, evaluate_reference
from facts.yamlcase import case_files, load_case
from test_sql_programs import by_pydatalog, cycle_program, random_facts, random_program
from tests.evaluated import case_evaluation, policy as bundled_policy

POLICY = bundled_policy()
CASES = case_files([Path("tests/cases")])


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_the_interpreter_derives_pydatalogs_relations_on_every_case(path: Path) -> None:
    case, ev = case_evaluation(path)
    oracle = evaluate_reference(POLICY, case.facts, case.as_of)  # its own base facts, then `derive`
    assert oracle.base == ev.base
    mine = oracle.derived.tuples
    assert set(mine) == set(DERIVED_PREDICATES)
    for pred in DERIVED_PREDICATES:
        assert mine[pred] == ev.derived.tuples[pred], pred
    assert (oracle.obligations, oracle.episodes) == (ev.obligations, ev.episodes)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**32))
def test_random_programs_give_pydatalogs_relations(seed: int) -> None:
    rng = random.Random(seed)
    program, facts = random_program(rng), random_facts(rng)
    mine = derive(program, facts)
    expected = by_pydatalog(program, facts)
    assert {p: {tuple(map(str, t)) for t in mine[p]} for p in expected} == expected, "\n".join(map(str, program.rules))
    assert all(not mine[p] for p in DERIVED_PREDICATES if p not in expected)


def test_a_cycle_through_several_predicates_reaches_its_common_fixpoint() -> None:
    """category <- category_by <- obligation <- category, one level of three recursive groups: each
    alone stops before the next has fed it, so the level repeats until a whole round adds nothing."""
    program, facts, expected = cycle_program()
    mine = derive(program, facts)
    assert {p: set(ts) for p, ts in mine.items() if ts} == expected


def test_the_interpreter_follows_clauses_in_force_by_date() -> None:
    """A policy with two editions in force on different days (law_day comparisons in the rules)."""
    policy = compile_policy(Path("tests/data/policy_versions"))
    paths = case_files([Path("tests/data/policy_versions_cases")])
    assert paths
    for path in paths:
        case = load_case(path)
        ev = evaluate(policy, case.facts, case.as_of)
        assert derive(policy.program, ev.base) == dict(ev.derived.tuples), path.name
