"""Fact text is data: ids and cells holding Python code are stored and printed, never run."""
from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from cli.main import main

PAYLOAD = "__import__('os').system('touch {marker}')"


def test_code_in_case_ids_and_csv_cells_runs_nothing(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    code = PAYLOAD.format(marker=marker)
    case = tmp_path / "case.yaml"
    case.write_text(f'''case: "{code}"
as_of: 2024-03-12T09:00
children:
  - id: "{code}"
    born: 2012-05-01
    statuses: [child_protection_plan]
episodes:
  - id: "E1 {code}"
    child: "{code}"
    reported: 2024-03-04T08:00
    with_parents: true
''', encoding="utf-8")
    runner = CliRunner()
    out = runner.invoke(main, ["obligations", str(case), "--format", "json"])
    assert out.exit_code == 0 and "missing_cp_conference" in out.output
    why = runner.invoke(main, ["why", str(case), "--child", code, "--action", "missing_cp_conference"])
    assert why.exit_code == 0 and code in why.output

    bulk = tmp_path / "bulk"
    bulk.mkdir()
    (bulk / "children.csv").write_text(f'id,born,statuses\n"{code}",2012-05-01,looked_after\n', encoding="utf-8")
    (bulk / "episodes.csv").write_text(f'id,child,reported\nE1,"{code}",2024-03-04T08:00\n', encoding="utf-8")
    res = runner.invoke(main, ["obligations", str(bulk), "--at", "2024-03-12T09:00", "--format", "csv"])
    assert res.exit_code == 0 and "strategy_discussion" in res.output
    assert not marker.exists()


def test_a_device_or_a_pipe_given_as_input_is_refused_not_read(tmp_path: Path) -> None:
    """/dev/zero and a FIFO both report size 0, so the size limit never saw them: a MemoryError, or a hang."""
    import os
    run = CliRunner()
    zero = run.invoke(main, ["obligations", "/dev/zero"])
    assert zero.exit_code == 2 and "F011" in zero.stderr and "is a device" in zero.stderr
    fifo = tmp_path / "case.yaml"
    os.mkfifo(fifo)
    piped = run.invoke(main, ["obligations", str(fifo)])
    assert piped.exit_code == 2 and "is a pipe" in piped.stderr


def test_a_pipe_in_a_bulk_folder_gets_the_same_diagnostic_on_both_engines(tmp_path: Path) -> None:
    import os
    from facts.bulk import write_bulk
    from facts.synth import synthesize
    write_bulk(synthesize(5, 1), tmp_path)
    (tmp_path / "episodes.csv").unlink()
    os.mkfifo(tmp_path / "episodes.csv")
    outs = []
    for engine in ("duckdb", "pydatalog"):
        result = CliRunner().invoke(main, ["obligations", str(tmp_path), "--engine", engine, "--at", "2025-01-01T00:00"])
        assert result.exit_code == 2 and "episodes.csv is a pipe" in result.stderr
        outs.append(result.stderr)
    assert outs[0] == outs[1]


def test_invalid_size_limits_in_the_environment_are_errors(monkeypatch) -> None:
    monkeypatch.setenv("CLAUSE_MAX_CASE_BYTES", "10k")
    result = CliRunner().invoke(main, ["obligations", "examples/missing-from-home-weekend.yaml"])
    assert result.exit_code == 2 and "CLAUSE_MAX_CASE_BYTES='10k' is not a positive whole number" in result.stderr
    monkeypatch.setenv("CLAUSE_MAX_CASE_BYTES", "0")
    assert CliRunner().invoke(main, ["obligations", "examples/missing-from-home-weekend.yaml"]).exit_code == 2
    monkeypatch.setenv("CLAUSE_MAX_CASE_BYTES", "100")
    small = CliRunner().invoke(main, ["obligations", "examples/missing-from-home-weekend.yaml"])
    assert small.exit_code == 2 and "F013" in small.stderr


def test_ctrl_c_during_a_duckdb_query_is_one_line_not_a_traceback(tmp_path: Path, monkeypatch) -> None:
    """SIGINT inside a DuckDB query raises duckdb.InterruptException: it printed a traceback (6 of 20)."""
    import duckdb
    from engine.backends import duck
    from facts.bulk import write_bulk
    from facts.synth import synthesize
    write_bulk(synthesize(5, 1), tmp_path / "bulk")
    out = tmp_path / "out.csv"
    out.write_text("the old report\n", encoding="utf-8")

    def interrupted(*args, **kwargs):
        raise duckdb.InterruptException("INTERRUPT Error: Interrupted!")
    monkeypatch.setattr(duck, "evaluate_duck", interrupted)
    result = CliRunner().invoke(main, ["obligations", str(tmp_path / "bulk"), "--engine", "duckdb", "-o", str(out)])
    assert result.exit_code == 130 and "interrupted" in result.stderr and "Traceback" not in result.output
    assert out.read_text(encoding="utf-8") == "the old report\n"
