"""The case reader's two YAML parsers give the same located values (facts/yamlcase.py).

libyaml's parser (C) reads a case first where `reads_fast` (ASCII, no tabs); whenever it finds a YAML
error, PyYAML's pure-Python parser reads the file again and its error is the diagnostic. So a file
libyaml reads must read the same, value for value and position for position, under PyYAML: on every
case file in the repository, and on the fuzz campaign's mutated cases (many more under make fuzz).
Outside `reads_fast` they do differ: libyaml takes tabs inside plain values that PyYAML refuses.
"""
from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest
import yaml

from facts import yamlcase
from tests.loads import LARGE

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
from bench.fuzz.case_kind import seeds  # noqa: E402
from bench.fuzz.mutate import mutate  # noqa: E402

FILES = sorted(p for d in ("tests/cases", "examples", "tests/data") for p in (ROOT / d).rglob("*.y*ml"))
MUTATED = 20_000 if LARGE else 400


def both(text: str) -> tuple[object, object]:
    """(libyaml's reading, PyYAML's): each the root value and the diagnostics, or the error's type."""
    out = []
    for make in (yamlcase._FastLoader, yamlcase.CaseLoader):
        try:
            loader, _, root = yamlcase._compose(make, text, "case.yaml")
            out.append((root, loader.diags))
        except (yaml.YAMLError, RecursionError) as exc:
            out.append(type(exc))
    return out[0], out[1]


def test_the_fast_parser_is_libyamls() -> None:
    assert yaml.__with_libyaml__ and yamlcase._FastLoader is not yamlcase.CaseLoader


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_case_file_reads_the_same_under_both(path: Path) -> None:
    text = path.read_text(encoding="utf-8-sig")
    fast, reference = both(text)
    assert fast == reference or not yamlcase.reads_fast(text)


def test_a_tab_in_a_value_is_read_by_pyyaml_and_refused_as_before(tmp_path: Path) -> None:
    """libyaml would take this file; PyYAML refuses it, and so does the case reader, as it always has."""
    (tmp_path / "c.yaml").write_text("case: a\tb\nas_of: 2024-01-01T00:00\n", encoding="utf-8")
    assert not isinstance(both("case: a\tb\n")[0], type)
    with pytest.raises(yamlcase.ClauseError) as e:
        yamlcase.load_case(tmp_path / "c.yaml")
    assert "F001" in str(e.value) and "YAML syntax error" in str(e.value)


def test_a_mutated_case_libyaml_reads_reads_the_same_under_pyyaml() -> None:
    pool, rng, read = seeds(), random.Random(31337), 0
    for _ in range(MUTATED):
        data, _ = mutate(rng, rng.choice(pool), rng.choice(pool))
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            continue
        if not yamlcase.reads_fast(text):
            continue
        fast, reference = both(text)
        if isinstance(fast, type):  # libyaml refused it: PyYAML reads it again, as the loader does
            continue
        read += 1
        assert fast == reference, text
    assert read > MUTATED // 4
