"""Shared pytest configuration.

Regression cases: every `tests/cases/**/*.yaml` (or `.yml`) file is collected as
one test item, checked against the bundled policy (compiled once per session) by
engine/regression/suite.py. A failing item reports each failed expectation with its file
and line and the nearest derived obligations; an invalid case file or policy
fails with its diagnostics. Other YAML under tests/ (fact fixtures) is not collected.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Iterator

import pytest

CASES_DIR = Path(__file__).resolve().parent / "cases"
CASE_SUFFIXES = (".yaml", ".yml")
_POLICY_KEY = pytest.StashKey[Any]()


def pytest_configure(config: pytest.Config) -> None:
    """The caches (compiled policy, grammar, bank holidays) live in a folder of this session's own,
    never in the user's: every test sees them as a fresh machine would at first."""
    os.environ["CLAUSE_CACHE_DIR"] = tempfile.mkdtemp(prefix="clause-test-cache-")


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(os.environ.get("CLAUSE_CACHE_DIR", ""), ignore_errors=True)


def _is_case_file(file_path: Path) -> bool:
    """A YAML file under tests/cases, with no hidden folder or file name on the way."""
    if file_path.suffix.lower() not in CASE_SUFFIXES:
        return False
    try:
        rel = file_path.resolve().relative_to(CASES_DIR)
    except ValueError:
        return False
    return not any(part.startswith(".") for part in rel.parts)


def pytest_collect_file(parent: pytest.Collector, file_path: Path) -> pytest.Collector | None:
    if _is_case_file(file_path):
        return CaseFile.from_parent(parent, path=file_path)
    return None


class CaseProblem(Exception):
    """The case file or the policy is invalid: carries the rendered diagnostics."""


class CaseFailed(Exception):
    """The case ran and some expectations failed: carries the `CaseResult`."""

    def __init__(self, result: Any) -> None:
        super().__init__(result.case.name)
        self.result = result


def session_policy(config: pytest.Config) -> Any:
    """The bundled policy, compiled on first use and kept for the session (or its ClauseError)."""
    if _POLICY_KEY not in config.stash:
        from compiler.core.diagnostics import ClauseError
        from compiler.policy import compile_policy
        try:
            config.stash[_POLICY_KEY] = compile_policy()
        except ClauseError as e:
            config.stash[_POLICY_KEY] = e
    return config.stash[_POLICY_KEY]


class CaseFile(pytest.File):
    """One case file -> one `CaseItem` named after its case (after the file if it cannot be read)."""

    def collect(self) -> Iterator[pytest.Item]:
        from compiler.core.diagnostics import ClauseError, render_text
        from facts.yamlcase import load_case
        try:
            case = load_case(self.path)
        except ClauseError as e:
            yield CaseItem.from_parent(self, name=self.path.name, case=None, problem=render_text(e.diagnostics))
            return
        yield CaseItem.from_parent(self, name=case.name, case=case)


class CaseItem(pytest.Item):
    def __init__(self, *, case: Any, problem: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.case = case
        self.problem = problem

    def runtest(self) -> None:
        from compiler.core.diagnostics import ClauseError, render_text
        from engine.regression.suite import run_case
        if self.problem is not None:
            raise CaseProblem(f"invalid case file:\n{self.problem}")
        policy = session_policy(self.config)
        if isinstance(policy, ClauseError):
            raise CaseProblem(f"the bundled policy does not compile:\n{render_text(policy.diagnostics)}")
        result = run_case(policy, self.case)
        if not result.passed:
            raise CaseFailed(result)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        from engine.regression.suite import case_text
        if isinstance(excinfo.value, CaseFailed):
            r = excinfo.value.result
            n = len(r.failures)
            return f"{n} expectation{'s' * (n != 1)} failed\n{case_text(r)}"
        if isinstance(excinfo.value, CaseProblem):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Path, int, str]:
        line = max(self.case.span.line - 1, 0) if self.case is not None else 0
        return self.path, line, f"case: {self.name}"


# Hypothesis profiles: HYPOTHESIS_PROFILE=fuzz runs the fuzz tests with many more examples.
import os  # noqa: E402

from hypothesis import HealthCheck, settings  # noqa: E402

settings.register_profile("fuzz", max_examples=5000, deadline=None, suppress_health_check=list(HealthCheck))
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
