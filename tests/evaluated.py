"""The bundled policy compiled once per test process, and each regression case evaluated once by
pyDatalog, for the tests that read every case.

An `Evaluation` is a plain value (engine/evaluation.py), so tests sharing one cannot see each
other's state; the shared copy saves evaluating the bundled cases again in each such test. The
tests that read every case run in one worker (conftest.py's SHARED), so they share these evaluations.
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


def case_evaluation(path: Path | str) -> tuple[Case, Evaluation]:
    """The case at `path` and its evaluation (one per file, however the path is spelt)."""
    return _case_evaluation(Path(path).resolve())


@cache
def _case_evaluation(path: Path) -> tuple[Case, Evaluation]:
    case = load_case(path)
    return case, evaluate(policy(), case.facts, case.as_of)
