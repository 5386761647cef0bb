"""Whatever is in a case file, loading ends in a Case or a ClauseError, never another exception."""
from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import example, HealthCheck, given, settings, strategies as st

from compiler.core.diagnostics import ClauseError
from facts.model import Case
from facts.yamlcase import load_case

GOOD = (Path(__file__).parent / "data" / "facts" / "cases" / "cp-plan-missing-with-parents.yaml").read_bytes()
FUZZ = settings(max_examples=max(100, settings().max_examples // 2), deadline=None,  # 2,500 under make fuzz
                suppress_health_check=[HealthCheck.too_slow])


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
@example(at=905, cut=14, insert=b"!!int")  # `!!int` with an empty value: PyYAML's IndexError, now a diagnostic
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


GOOD_CSV = {
    "children.csv": "id,born,statuses,flags,responsible_authority,placed_in\nC1,2012-05-01,looked_after;child_in_need,cse,liverpool,merseyside\n",
    "episodes.csv": "id,child,reported,returned,whereabouts_known,police_risk\nE1,C1,2024-03-04T08:00,2024-03-05T09:00,false,high\n",
    "actions.csv": "action,child,episode,by,at\nreturn_interview,C1,E1,protect_team,2024-03-06T10:00\n",
}


@FUZZ
@given(st.sampled_from(sorted(GOOD_CSV)), st.integers(0, 400), st.integers(0, 20),
       st.one_of(st.binary(max_size=30), st.text(max_size=30).map(str.encode),
                 st.sampled_from([b",", b"\n", b'"', b"\x00", b"\xff\xfe", b"9999-99-99T99:99", b"2024-02-30", b";;;", b"\r"])))
def test_mutated_bulk_csv(name: str, at: int, cut: int, insert: bytes) -> None:
    """Cut and insert anything anywhere in one CSV file: a FactSet or diagnostics naming that folder."""
    from facts.bulk import load_bulk
    from facts.model import FactSet
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for file, text in GOOD_CSV.items():
            data = text.encode()
            if file == name:
                at_ = min(at, len(data))
                data = data[:at_] + insert + data[at_ + cut:]
            (folder / file).write_bytes(data)
        try:
            assert isinstance(load_bulk(folder), FactSet)
        except ClauseError as exc:
            assert exc.diagnostics and all(d.code.startswith("F") and d.span.file.startswith(tmp) for d in exc.diagnostics)
            str(exc)
