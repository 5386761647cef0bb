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
