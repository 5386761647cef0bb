"""responsible_authority: any authority's name, but never a slip for the policy's own (facts/validate.py HOME).

"Liverpool" or "liverpol" would read as another authority, and the child would silently get an other local
authority child's duties (the return interview by the placing authority, no Liverpool visits): refused on
every reader, the Python checks and the DuckDB fast reader's SQL being one definition side by side."""
from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner
from hypothesis import given, settings, strategies as st

from cli.main import main
from facts.validate import HOME, near_home, near_home_sql

SLIPS = ["Liverpool", "LIVERPOOL", " liverpool ", "liverpol", "liverpoool", "livrepool", "liverpool_city_council",
         "Liverpool City Council", "L'pool", "lpool", "LCC", "341", "E08000012"]
OTHERS = ["liverpool", "wirral", "knowsley", "sefton", "st_helens", "halton", "manchester", "L", "340", "E08000011"]


def _folder(tmp_path: Path, authority: str) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "children.csv").write_text("id,born,statuses,responsible_authority,placed_in\n"
                                         f"C1,2010-01-01,looked_after,\"{authority}\",liverpool\n", encoding="utf-8")
    (folder / "episodes.csv").write_text("id,child,reported\nE1,C1,2024-03-01T10:00\n", encoding="utf-8")
    return folder


@pytest.mark.parametrize("engine", ["pydatalog", "duckdb"])
@pytest.mark.parametrize("authority", ["Liverpool", "liverpol", "liverpool city council", "341"])
def test_a_slip_for_liverpool_is_refused_where_it_is_written(tmp_path, engine, authority):
    folder = _folder(tmp_path, authority)
    result = CliRunner().invoke(main, ["obligations", str(folder), "--engine", engine, "--at", "2024-03-10T12:00"])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert f"{folder / 'children.csv'}:2:4: error[F003]: child 'C1': 'responsible_authority' is '{authority}'" in result.stderr
    assert "write responsible_authority: liverpool" in result.stderr


@pytest.mark.parametrize("engine", ["pydatalog", "duckdb"])
def test_another_authoritys_child_placed_in_liverpool_is_read_as_such(tmp_path, engine):
    result = CliRunner().invoke(main, ["obligations", str(_folder(tmp_path, "wirral")), "--engine", engine,
                                       "--at", "2024-03-10T12:00", "--format", "csv"])
    assert result.exit_code == 0, result.output
    assert "LMCP-OLA-1" in result.stdout  # the OLA child placed in Liverpool: its own clauses apply


def test_a_slip_in_a_case_file_is_refused(tmp_path):
    case = tmp_path / "c.yaml"
    case.write_text("case: c\nas_of: 2024-03-10T12:00\nchildren:\n  - id: C1\n    born: 2010-01-01\n"
                    "    responsible_authority: Liverpool\nepisodes:\n  - id: E1\n    child: C1\n"
                    "    reported: 2024-03-01T10:00\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["obligations", str(case)])
    assert result.exit_code == 2 and f"{case}:6:28: error[F003]" in result.stderr


def test_the_named_slips_and_others():
    assert all(near_home(s) for s in SLIPS) and not any(near_home(s) for s in OTHERS)
    assert HOME == "liverpool"


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.sampled_from(SLIPS + OTHERS), st.text(max_size=14),
                 st.text(alphabet="liverpoolLIVERPOOL _-.", max_size=14)))
def test_python_and_sql_agree(name):
    con = duckdb.connect()
    assert con.execute(f"SELECT {near_home_sql('$1')}", [name]).fetchone()[0] == near_home(name)
