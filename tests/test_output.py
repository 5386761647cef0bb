"""The output: one definition of its columns (engine/output/columns.py), and files through the one
atomic writer (compiler/core/files.py) on both back-ends: the same permissions under a given umask,
and a failed write leaves the old file as it was. (tests/test_scale_io.py compares the text byte for byte.)"""
from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import main
from compiler.core.files import atomic
from compiler.core.london import parse_instant
from engine.evaluation import evaluate
from engine.meaning.obligations import FIELDS
from engine.output.columns import DATA, data
from engine.output.stream import sink
from facts.bulk import write_bulk
from facts.synth import synthesize
from tests.evaluated import policy as bundled_policy


@pytest.fixture
def umask_027():
    old = os.umask(0o027)
    yield 0o640
    os.umask(old)


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("bulk")
    write_bulk(synthesize(5, 3), out)  # about 200 obligations: each format has rows of every kind to write
    return out


def test_the_data_columns_are_the_obligation_fields_and_give_its_json():
    assert tuple(c.name for c in DATA) == FIELDS
    facts = synthesize(5, 3)  # the smallest synthetic year found with both a repeated duty and an exception
    obligations = evaluate(bundled_policy(), facts, parse_instant("2025-01-01T00:00")).obligations
    assert any(o.occurrence for o in obligations) and any(o.exception for o in obligations)
    assert [data(o) for o in obligations] == [o.to_json() for o in obligations]


@pytest.mark.parametrize("fmt", ["table", "json", "csv"])
def test_same_mode_on_both_backends(folder, tmp_path, umask_027, fmt):
    modes, texts = {}, {}
    for engine in ("duckdb", "pydatalog"):
        out = tmp_path / f"{engine}.{fmt}"
        result = CliRunner().invoke(main, ["obligations", str(folder), "--at", "2025-01-01T00:00", "--engine", engine,
                                           "--format", fmt, "--output", str(out)])
        assert result.exit_code == 0, result.output
        modes[engine], texts[engine] = stat.S_IMODE(out.stat().st_mode), out.read_bytes()
    assert modes == {"duckdb": umask_027, "pydatalog": umask_027}
    assert texts["duckdb"] == texts["pydatalog"]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"{e}.{fmt}" for e in ("duckdb", "pydatalog"))


def test_a_failed_stream_leaves_the_old_file(tmp_path, umask_027):
    out = tmp_path / "report.csv"
    out.write_text("old report\n", encoding="utf-8")
    with pytest.raises(RuntimeError), sink(str(out), None) as write:
        write("half a new rep")
        raise RuntimeError("interrupted")
    assert out.read_text(encoding="utf-8") == "old report\n"
    assert [p.name for p in tmp_path.iterdir()] == ["report.csv"]


def test_atomic_gives_the_usual_mode_or_the_one_asked(tmp_path, umask_027):
    with atomic(tmp_path / "a.txt") as fh:
        fh.write("a")
    with atomic(tmp_path / "b.bin", binary=True, mode=0o600) as fh:
        fh.write(b"b")
    assert stat.S_IMODE((tmp_path / "a.txt").stat().st_mode) == umask_027
    assert stat.S_IMODE((tmp_path / "b.bin").stat().st_mode) == 0o600
