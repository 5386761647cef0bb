"""Whatever is in a case file, loading ends in a Case or a ClauseError, never another exception."""
from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings, strategies as st

from compiler.diagnostics import ClauseError
from facts.model import Case
from facts.yamlcase import load_case

GOOD = (Path(__file__).parent / "data" / "facts" / "cases" / "cp-plan-missing-with-parents.yaml").read_bytes()
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def case_file():
    with tempfile.TemporaryDirectory() as tmp:
        yield Path(tmp) / "fuzz.yaml"


def outcome(path: Path, data: bytes) -> Case | ClauseError:
    path.write_bytes(data)
    try:
        case = load_case(path)
    except ClauseError as exc:
        assert exc.diagnostics, "a ClauseError always carries its diagnostics"
        for d in exc.diagnostics:
            assert d.code.startswith("F") and d.span.file == str(path) and d.message
        str(exc)  # renders without failing
        return exc
    assert isinstance(case, Case)
    return case


@FUZZ
@given(st.text())
def test_random_text(case_file, text):
    outcome(case_file, text.encode("utf-8"))


@FUZZ
@given(st.binary())
def test_random_bytes(case_file, data):
    outcome(case_file, data)


@FUZZ
@given(st.integers(0, len(GOOD)), st.integers(0, 40), st.binary(max_size=12) | st.sampled_from(
    [b"\n", b"  ", b"- ", b": ", b"[", b"]", b"{", b"&a ", b"*a", b"!!int ", b"~", b"'", b"\t", b"007", b"yes"]))
def test_mutated_good_case(case_file, at, cut, insert):
    outcome(case_file, GOOD[:at] + insert + GOOD[at + cut:])


KEYS = ["case", "description", "as_of", "children", "episodes", "actions", "expect", "obligations",
        "not_obligations", "id", "born", "statuses", "flags", "child", "episode", "reported", "returned",
        "with_parents", "police_risk", "action", "by", "at", "modality", "status", "due", "category", "risk", "x"]
SCALARS = (st.none() | st.booleans() | st.integers(-5, 5000) | st.floats(allow_nan=False) | st.text(max_size=8)
           | st.sampled_from(["C1", "E1", "2024-03-04T08:00", "2012-05-01", "2024-02-30T10:00", "high", "must",
                              "child_protection_plan", "cse", "missing", "pending", "2024-03-04T08:00:00+01:00"]))
TREES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4)
                     | st.dictionaries(st.sampled_from(KEYS), inner, max_size=6), max_leaves=40)


@FUZZ
@given(st.dictionaries(st.sampled_from(KEYS), TREES, max_size=8))
def test_random_structures_with_real_field_names(case_file, tree):
    outcome(case_file, yaml.safe_dump(tree, allow_unicode=True).encode("utf-8"))
