"""DuckDB's chunked evaluation (engine/backends/duck.py: beyond `chunk` children, a chunk of children
at a time) against the whole evaluation and the pyDatalog reference: the same obligations, episodes
and output bytes, whatever the chunk size, so wherever a chunk boundary falls.

Chunks are by child (in id order), never by episode: a child's episodes, windows over them and
recorded actions all go to its one chunk. The hand-built case gives the child at the boundary
many episodes, ids interleaved with its neighbour's, a count window over them and recorded actions.
"""
from __future__ import annotations

import io

import pytest

from compiler.core.london import parse_instant
from engine.backends.duck import evaluate_duck
from engine.evaluation import evaluate
from engine.output.stream import write_csv, write_file
from facts.bulk import load_bulk, write_bulk
from facts.model import Child, Episode, FactSet, RecordedAction
from facts.synth import synthesize
from tests.test_scale_differential import assert_same
from tests.evaluated import policy as bundled_policy

AT = parse_instant("2025-01-01T00:00")
WHOLE = 10 ** 9


@pytest.fixture(scope="module")
def policy():
    return bundled_policy()


def _csv(ev) -> str:
    out = io.StringIO()
    write_csv(ev, "bulk", out.write)
    return out.getvalue()


FOLDER_CHILDREN = 8  # small: pyDatalog judges them whole; DuckDB's cost hardly depends on the count


def test_chunked_folder_equals_whole_and_pydatalog(policy, tmp_path):
    write_bulk(synthesize(FOLDER_CHILDREN, 11), tmp_path / "in")
    reference = evaluate(policy, load_bulk(tmp_path / "in"), AT)
    whole = evaluate_duck(policy, tmp_path / "in", AT, chunk=WHOLE)
    text = _csv(whole)
    for size in (3, 7):  # three chunks, the last short; two. One child a chunk: test_a_busy_child_at_a_chunk_boundary
        chunked = evaluate_duck(policy, tmp_path / "in", AT, chunk=size)
        assert_same(reference, chunked)
        assert_same(whole, chunked)
        assert _csv(chunked) == text
        write_file(chunked, "csv", "bulk", str(tmp_path / f"out-{size}.csv"), io.StringIO())
        assert (tmp_path / f"out-{size}.csv").read_text(encoding="utf-8") == text
        chunked.close()
    assert reference.obligations and f"C{FOLDER_CHILDREN:06d}" in text  # the last chunk's child is in the output


def _busy_neighbours() -> FactSet:
    """C1 and C2, each with seven episodes a week apart whose ids interleave (E01 C1, E02 C2, ...), with
    recorded actions: a chunk of one child puts the boundary between them, across interleaved ids."""
    children = (Child("C1", parse_instant("2010-05-01T00:00").date(), ("child_in_need",)),
                Child("C2", parse_instant("2012-05-01T00:00").date(), ("looked_after",)))
    episodes, actions = [], []
    for i in range(14):
        child = children[i % 2].id
        reported = parse_instant(f"2024-03-{1 + i:02d}T09:00")
        returned = parse_instant(f"2024-03-{1 + i:02d}T21:00") if i % 3 else None
        episodes.append(Episode(f"E{i + 1:02d}", child, reported, returned, with_parents=bool(i % 2)))
        actions.append(RecordedAction("strategy_discussion", child, "social_worker",
                                      parse_instant(f"2024-03-{2 + i:02d}T10:00"), f"E{i + 1:02d}"))
    return FactSet(children, tuple(episodes), tuple(actions))


def test_a_busy_child_at_a_chunk_boundary(policy):
    facts = _busy_neighbours()
    reference = evaluate(policy, facts, AT)
    whole = evaluate_duck(policy, facts, AT, chunk=WHOLE)
    chunked = evaluate_duck(policy, facts, AT, chunk=1)
    assert_same(reference, chunked)
    assert_same(whole, chunked)
    assert _csv(whole) == _csv(chunked)
    assert {o.child for o in reference.obligations} == {"C1", "C2"}


@pytest.mark.parametrize("value", ["0", "lots", "-5", "1e3"])
def test_a_chunk_size_that_is_not_a_positive_number_is_F013(tmp_path, monkeypatch, value):
    from click.testing import CliRunner
    from cli.main import main
    write_bulk(synthesize(3, 2), tmp_path / "bulk")
    monkeypatch.setenv("CLAUSE_DUCKDB_CHUNK", value)
    result = CliRunner().invoke(main, ["obligations", str(tmp_path / "bulk"), "--engine", "duckdb"])
    assert result.exit_code == 2 and "F013" in result.stderr and "CLAUSE_DUCKDB_CHUNK" in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.parametrize("value", ["lots", "12", "-1GB"])
def test_a_memory_limit_that_is_not_a_size_is_F013(tmp_path, monkeypatch, value):
    from click.testing import CliRunner
    from cli.main import main
    monkeypatch.setenv("CLAUSE_DUCKDB_MEMORY", value)
    result = CliRunner().invoke(main, ["obligations", "examples/cp-plan-missing-with-parents.yaml", "--engine", "duckdb"])
    assert result.exit_code == 2 and "F013" in result.stderr and "CLAUSE_DUCKDB_MEMORY" in result.stderr
    assert "Traceback" not in result.output


def test_a_memory_limit_too_small_for_the_input_is_F013_not_duckdbs_traceback(monkeypatch):
    """A size DuckDB accepts but cannot work in: its out-of-memory error was a traceback; now F013 names the
    limit it ran into and how to raise it, exit 2."""
    from click.testing import CliRunner
    from cli.main import main
    monkeypatch.setenv("CLAUSE_DUCKDB_MEMORY", "100B")
    result = CliRunner().invoke(main, ["obligations", "examples/cp-plan-missing-with-parents.yaml", "--engine", "duckdb"])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "error[F013]: DuckDB ran out of memory within its limit (CLAUSE_DUCKDB_MEMORY=100B)" in result.stderr


def test_each_evaluation_spills_to_a_folder_of_its_own_removed_with_it(policy, tmp_path, monkeypatch):
    """Two evaluations at once (`clause diff` runs its two policies side by side) never share spill files:
    DuckDB 1.3 names them alike in every instance and removes the folder when the first one closes. Each
    folder is gone once its evaluation is."""
    import gc
    import tempfile
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    facts = FactSet((Child("C1", parse_instant("2010-01-01T00:00").date(), ("looked_after",)),),
                    (Episode("E1", "C1", parse_instant("2024-03-01T10:00")),))
    first, second = evaluate_duck(policy, facts, AT), evaluate_duck(policy, facts, AT)
    folders = [ev.con.execute("SELECT current_setting('temp_directory')").fetchone()[0] for ev in (first, second)]
    assert len(set(folders)) == 2 and sorted(str(p) for p in tmp_path.iterdir()) == sorted(folders)
    first.close()
    del first
    gc.collect()
    assert [str(p) for p in tmp_path.iterdir()] == [folders[1]]
    assert second.count and second.obligations  # the other is untouched
    second.close()
    del second
    gc.collect()
    assert not list(tmp_path.iterdir())


def test_spill_folders_of_killed_runs_are_removed_by_the_next(policy, tmp_path, monkeypatch):
    """A run killed by SIGTERM or SIGKILL cannot remove its spill folder; the next evaluation removes the folders
    whose lock nobody holds, and leaves those of runs still going (their lock held) and anything else alone."""
    import fcntl
    import os
    import subprocess
    import sys
    import tempfile
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    for name in ("clause-duckdb-gone", "clause-duckdb-going", "clause-duckdb-nolock", "other"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "duckdb_temp_storage-0.tmp").write_bytes(b"spilled")
        if name in ("clause-duckdb-gone", "clause-duckdb-going"):
            (tmp_path / name / "lock").touch()
    going = subprocess.Popen([sys.executable, "-c", "import fcntl, os, sys, time; fd = os.open(sys.argv[1], os.O_RDONLY); "
                              "fcntl.flock(fd, fcntl.LOCK_EX); print('held', flush=True); time.sleep(60)",
                              str(tmp_path / "clause-duckdb-going" / "lock")], stdout=subprocess.PIPE, text=True)
    try:
        assert going.stdout.readline().strip() == "held"
        facts = FactSet((Child("C1", parse_instant("2010-01-01T00:00").date(), ("looked_after",)),),
                        (Episode("E1", "C1", parse_instant("2024-03-01T10:00")),))
        ev = evaluate_duck(policy, facts, AT)
        mine = os.path.basename(ev.con.execute("SELECT current_setting('temp_directory')").fetchone()[0])
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
            ["clause-duckdb-going", "clause-duckdb-nolock", "other", mine])
        fd = os.open(tmp_path / mine / "lock", os.O_RDONLY)  # this evaluation holds its own folder's lock
        try:
            with pytest.raises(BlockingIOError):
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        finally:
            os.close(fd)
        ev.close()
    finally:
        going.kill()
        going.wait()
