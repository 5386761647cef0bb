"""The pytest plugin (`pytest -p clause`): regression-case YAML files collected as test items.

Installed with Clause as the `pytest11` entry point `clause`, so plain `pytest` in any folder
(an authority's own repository of cases) runs its cases against the policy it names.

Input: pytest's collection. A file is a case when it is a `.yaml`/`.yml` file under one of
the ini option `clause_cases` paths (relative to the rootdir), or, with no such option, any
such file with a top-level `case:` line; hidden files and folders are skipped. Output: one
item per case, named after it, checked by engine/regression/suite.py against the policy
(`--clause-policy DIR`, else the ini option `clause_policy`, else the nearest `policy/` folder
from the rootdir upwards, else the bundled policy: compiler.policy.discover_policy, as the
commands find it), compiled once per session. A failing item lists each
failed expectation with its file and line and the nearest derived obligations; a case file
that cannot be run (bad YAML, an unknown name in an expectation, with `--clause-strict` a
case that expects nothing) fails with its diagnostics.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Iterator

import pytest

CASE_SUFFIXES = (".yaml", ".yml")
_POLICY = pytest.StashKey[Any]()
_CASE_LINE = re.compile(r"^case\s*:", re.M)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("clause", "Clause regression cases")
    group.addoption("--clause-policy", metavar="DIR", help="policy folder the cases are checked against")
    group.addoption("--clause-strict", action="store_true", help="a case that expects nothing is an error")
    parser.addini("clause_cases", "folders holding case files (default: any YAML file with a 'case:' line)",
                  type="paths", default=[])
    parser.addini("clause_policy", "policy folder the cases are checked against", default="")


def policy_dir(config: pytest.Config) -> Path:
    """The policy the cases are checked against: the option, the ini value, else the one discovered."""
    from compiler.policy import discover_policy
    given = config.getoption("clause_policy") or config.getini("clause_policy")
    if given:
        path = Path(given)
        return path if path.is_absolute() else Path(config.invocation_params.dir if config.getoption("clause_policy")
                                                    else config.rootpath) / path
    return discover_policy(config.rootpath)[0]


def session_policy(config: pytest.Config) -> Any:
    """The policy, compiled on first use and kept for the session (or its ClauseError)."""
    if _POLICY not in config.stash:
        from compiler.core.diagnostics import ClauseError
        from compiler.policy import compile_policy
        try:
            config.stash[_POLICY] = compile_policy(policy_dir(config))
        except ClauseError as e:
            config.stash[_POLICY] = e
    return config.stash[_POLICY]


def _is_case_file(config: pytest.Config, file_path: Path) -> bool:
    if file_path.suffix.lower() not in CASE_SUFFIXES or file_path.name.startswith("."):
        return False
    roots = config.getini("clause_cases")
    if roots:
        for root in roots:
            try:
                rel = file_path.resolve().relative_to(Path(root).resolve())
            except ValueError:
                continue
            return not any(part.startswith(".") for part in rel.parts)
        return False
    try:
        rel = file_path.resolve().relative_to(config.rootpath.resolve())
        if any(part.startswith(".") for part in rel.parts):
            return False
        with open(file_path, encoding="utf-8", errors="replace") as fh:
            return bool(_CASE_LINE.search(fh.read(65536)))
    except (OSError, ValueError):
        return False


def pytest_collect_file(parent: pytest.Collector, file_path: Path) -> pytest.Collector | None:
    if _is_case_file(parent.config, file_path):
        return CaseFile.from_parent(parent, path=file_path)
    return None


class CaseProblem(Exception):
    """The case file or the policy is invalid: carries the rendered diagnostics."""


class CaseFailed(Exception):
    """The case ran and some expectations failed: carries the `CaseResult`."""

    def __init__(self, result: Any) -> None:
        super().__init__(result.case.name)
        self.result = result


class CaseFile(pytest.File):
    """One case file -> one `CaseItem` named after its case (after the file if it cannot be run)."""

    def collect(self) -> Iterator[pytest.Item]:
        from compiler.core.diagnostics import ClauseError, render_text
        from engine.regression.suite import load_suite_cases
        from facts.yamlcase import InvalidCase
        policy = session_policy(self.config)
        if isinstance(policy, ClauseError):
            yield CaseItem.from_parent(self, name=self.path.name, case=None,
                                       problem=f"the policy does not compile:\n{render_text(policy.diagnostics)}")
            return
        [item] = load_suite_cases(policy, [str(self.path)], strict=self.config.getoption("clause_strict"))
        if isinstance(item, InvalidCase):
            yield CaseItem.from_parent(self, name=self.path.name, case=None,
                                       problem=f"invalid case file:\n{render_text(list(item.diagnostics))}")
            return
        yield CaseItem.from_parent(self, name=item.name, case=item)


class CaseItem(pytest.Item):
    def __init__(self, *, case: Any, problem: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.case = case
        self.problem = problem
        self.result: Any = None  # the CaseResult, once run (with its evaluation), for hooks that report on it

    def runtest(self) -> None:
        from engine.regression.suite import run_case
        if self.problem is not None:
            raise CaseProblem(self.problem)
        self.result = result = run_case(session_policy(self.config), self.case)
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
