"""The bundled policy compiled once per test process, and each regression case evaluated once by
pyDatalog, for the tests that read every case.

An `Evaluation` is a plain value (engine/evaluation.py), so tests sharing one cannot see each
other's state; the shared copy saves evaluating the bundled cases again in each such test. The
tests that read every case run in one worker with the case items (conftest.py's SHARED), and the
policy is the one the plugin compiled for the session, so a case item's own evaluation is the one
these tests read (conftest.py hands it over with `remember`).
"""
from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from compiler.core.diagnostics import ClauseError
from compiler.policy import CompiledPolicy, compile_policy
from engine.evaluation import Evaluation, evaluate
from facts.model import Case
from facts.yamlcase import load_case

SESSION: list[pytest.Config] = []  # the pytest session, when the clause plugin runs in it (conftest.py)
_evaluations: dict[Path, tuple[Case, Evaluation]] = {}


@cache
def policy() -> CompiledPolicy:
    """The plugin's session policy (the repository's policy/, the bundled one), else compiled here."""
    if SESSION and SESSION[0].pluginmanager.has_plugin("clause"):
        from engine.regression.pytest_plugin import session_policy
        compiled = session_policy(SESSION[0])
        if isinstance(compiled, ClauseError):
            raise compiled
        return compiled
    return compile_policy()


def case_evaluation(path: Path | str) -> tuple[Case, Evaluation]:
    """The case at `path` and its evaluation (one per file, however the path is spelt)."""
    key = Path(path).resolve()
    if key not in _evaluations:
        case = load_case(key)
        _evaluations[key] = case, evaluate(policy(), case.facts, case.as_of)
    return _evaluations[key]


def remember(path: Path, case: Case, evaluation: Evaluation) -> None:
    """A case item's evaluation, kept for the tests that read every case (only if by this policy)."""
    if evaluation.policy is policy() and evaluation.action is None:
        _evaluations.setdefault(Path(path).resolve(), (case, evaluation))
