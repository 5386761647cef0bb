"""Shared pytest configuration: a private cache folder, the hypothesis profiles, and which tests share
a worker (SHARED) and the case items' evaluations (tests/evaluated.py).

Regression cases (tests/cases/**/*.yaml) are collected by Clause's own pytest plugin
(engine/regression/pytest_plugin.py, loaded with `-p clause` from pyproject's addopts),
exactly as an authority's repository of cases would use it; `clause_cases` in pyproject
limits it to tests/cases, so the fact fixtures under tests/data are not collected.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from tests import evaluated

CASES = Path(__file__).parent / "cases"


def pytest_configure(config: pytest.Config) -> None:
    """The caches (compiled policy, grammar, bank holidays) live in a folder of this session's own,
    never in the user's: every test sees them as a fresh machine would at first."""
    os.environ["CLAUSE_CACHE_DIR"] = tempfile.mkdtemp(prefix="clause-test-cache-")
    evaluated.SESSION.append(config)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):  # noqa: ANN201 - a hook wrapper
    """A regression-case item's evaluation is the one the every-case tests read (tests/evaluated.py)."""
    try:
        return (yield)
    finally:
        result = getattr(item, "result", None)
        if result is not None and item.path.is_relative_to(CASES):
            evaluated.remember(item.path, result.case, result.evaluation)


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(os.environ.get("CLAUSE_CACHE_DIR", ""), ignore_errors=True)


# HYPOTHESIS_PROFILE=fuzz (make fuzz) runs the property and fuzz tests with many more examples.
settings.register_profile("fuzz", max_examples=5000, deadline=None, suppress_health_check=list(HealthCheck))
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


# Tests sharing a process's state run in one worker, each set whole: the case items and the every-case
# tests share tests/evaluated.py's evaluations (the items, collected first, run first); a module with a
# costly module-scoped fixture (a browser, a served report, a synthetic year) builds it once. xdist's
# own `xdist_group` marks cannot do this here: xdist 3.8 tags `Item._nodeid`, which pytest 9.2 no
# longer reads, so its scheduler never sees the marks. A key ending in "/" is a folder.
SHARED = {
    "tests/cases/": "bundled_cases",
    "tests/test_explain.py": "bundled_cases",
    "tests/test_explain_data.py": "bundled_cases",
    "tests/test_reference.py": "bundled_cases",
    "tests/test_handwritten.py": "bundled_cases",
    "tests/test_onepass.py::test_every_bundled_case_both_paths_exactly": "bundled_cases",
    "tests/test_serve_browser.py": "browser",
    "tests/test_report.py": "report",
    "tests/test_determinism.py": "determinism",
    "tests/test_scale_differential.py": "scale_differential",
    "tests/test_fuzz_slice.py::test_slice_has_no_crash_or_hang[http]": "fuzz_http",
    "tests/test_fuzz_slice.py::test_http_inputs_answer_the_same_over_a_real_socket": "fuzz_http",
}


def shared_set(nodeid: str) -> str:
    """The set a test belongs to: its SHARED name, or the test alone."""
    for where, name in SHARED.items():
        if nodeid == where or nodeid.startswith(where if where.endswith("/") else where + "::"):
            return name
    return nodeid


def pytest_xdist_make_scheduler(config: pytest.Config, log):  # noqa: ANN201 - xdist's Scheduling
    """`-n N`: every test load-balanced on its own, but each SHARED set sent to one worker whole."""
    if config.getvalue("dist") not in ("load", "loadgroup"):
        return None
    from xdist.scheduler import LoadScopeScheduling

    class Shared(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return shared_set(nodeid)
    return Shared(config, log)
