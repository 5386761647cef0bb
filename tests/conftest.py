"""Shared pytest configuration: a private cache folder and the hypothesis profiles.

Regression cases (tests/cases/**/*.yaml) are collected by Clause's own pytest plugin
(engine/regression/pytest_plugin.py, loaded with `-p clause` from pyproject's addopts),
exactly as an authority's repository of cases would use it; `clause_cases` in pyproject
limits it to tests/cases, so the fact fixtures under tests/data are not collected.
"""
from __future__ import annotations

import os
import shutil
import tempfile

import pytest
from hypothesis import HealthCheck, settings


def pytest_configure(config: pytest.Config) -> None:
    """The caches (compiled policy, grammar, bank holidays) live in a folder of this session's own,
    never in the user's: every test sees them as a fresh machine would at first."""
    os.environ["CLAUSE_CACHE_DIR"] = tempfile.mkdtemp(prefix="clause-test-cache-")


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(os.environ.get("CLAUSE_CACHE_DIR", ""), ignore_errors=True)


# HYPOTHESIS_PROFILE=fuzz (make fuzz) runs the property and fuzz tests with many more examples.
settings.register_profile("fuzz", max_examples=5000, deadline=None, suppress_health_check=list(HealthCheck))
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


def pytest_collection_finish(session: pytest.Session) -> None:
    import gc
    gc.collect()
    gc.freeze()
