"""Each regression case evaluated once per test process by pyDatalog, for the tests that read every case.

An `Evaluation` is a plain value (engine/evaluation.py), so tests sharing one cannot see each
other's state; the shared copy saves evaluating the bundled cases again in each such test.
"""
from __future__ import annotations

from functools import cache
from pathlib import Path

from compiler.policy import CompiledPolicy, compile_policy
from engine.evaluation import Evaluation, evaluate
from facts.model import Case
from facts.yamlcase import load_case


@cache
def policy() -> CompiledPolicy:
    return compile_policy()


@cache
def case_evaluation(path: Path) -> tuple[Case, Evaluation]:
    case = load_case(Path(path).resolve())
    return case, evaluate(policy(), case.facts, case.as_of)
