"""Ids from the facts that a terminal would obey or a spreadsheet would compute, on both engines.

A child id holding ESC ] 0 ; ... BEL (sets the window title) or ESC [ 2 J (clears the screen), a
bidirectional override, a tab: the table shows them escaped (`\\x1b`, `\\u202e`). A CSV cell starting
with = + - @, a tab or a carriage return gets a leading single quote (OWASP's CSV injection advice).
Python (engine/output/render.py) and DuckDB (engine/output/stream.py) give the same bytes.
"""
from __future__ import annotations

import csv
import io
from datetime import date

import pytest

from compiler.core.london import parse_instant
from engine.backends.batch import Run
from engine.backends.duck import evaluate_duck
from engine.evaluation import evaluate
from engine.output import render
from engine.output.columns import csv_text, visible
from engine.output.stream import WRITERS
from facts.model import Child, Episode, FactSet
from tests.evaluated import policy as bundled_policy

AT = parse_instant("2024-03-10T12:00")
HOSTILE = ["\x1b]0;owned\x07C1", "\x1b[2J\x1b[HC2", "C3\u202eevil", "C4\tx", "=1+1", "+44", "-2", "@SUM(A1)",
           "\tC9", "\rC10", "C,11", 'C"12', "Ç13"]


@pytest.fixture(scope="module")
def policy():
    return bundled_policy()


@pytest.fixture(scope="module")
def facts():
    children = tuple(Child(c, date(2010, 1, 1), ("looked_after",)) for c in HOSTILE)
    episodes = tuple(Episode(("=E" if i % 2 else "\x1bE") + str(i), c, parse_instant("2024-03-01T10:00"))
                     for i, c in enumerate(HOSTILE))
    return FactSet(children, episodes)


@pytest.mark.parametrize("fmt", ["table", "json", "csv"])
@pytest.mark.parametrize("name", ["bulk", "=HYPERLINK(\"x\")", "\x1b]2;t\x07case"])
def test_both_engines_write_the_same_bytes(policy, facts, fmt, name):
    reference = Run(name, None, evaluate(policy, facts, AT))
    expected = {"table": render.table, "json": render.as_json, "csv": render.as_csv}[fmt](
        [(reference, reference.obligations())])
    buf = io.StringIO()
    WRITERS[fmt](evaluate_duck(policy, facts, AT), name, buf.write)
    assert buf.getvalue() == expected


def test_the_table_shows_control_characters_escaped(policy, facts):
    run = Run("\x1b]2;t\x07case", None, evaluate(policy, facts, AT))
    text = render.table([(run, run.obligations())])
    assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text and "\t" not in text
    assert "\\x1b]0;owned\\x07C1" in text and "C3\\u202eevil" in text and "\\x1b[2J" in text and "\\x1b]2;t\\x07case:" in text
    assert "Ç13" in text  # other text as it is


def test_csv_cells_that_would_be_formulas_start_with_a_quote(policy, facts):
    run = Run("=cmd|' /C calc'!A0", None, evaluate(policy, facts, AT))
    rows = list(csv.reader(io.StringIO(render.as_csv([(run, run.obligations())]))))
    cells = [c for r in rows[1:] for c in r]
    assert cells and not any(c[:1] in ("=", "+", "-", "@", "\t", "\r") for c in cells)
    assert {r[1] for r in rows[1:]} == {csv_text(c) for c in HOSTILE}
    assert "'=1+1" in {r[1] for r in rows[1:]} and "'-2" in {r[1] for r in rows[1:]}
    assert rows[1][0] == "'=cmd|' /C calc'!A0"
    assert {r[2] for r in rows[1:]} >= {"'=E1", "\x1bE0"}  # CSV is data: only the formula is neutralised


def test_json_is_left_as_the_data_is():
    assert visible("plain id") == "plain id" and csv_text(12) == 12 and csv_text(None) is None


def test_diagnostics_and_why_text_show_control_characters_escaped(tmp_path):
    """A duplicate child id holding ESC ] 0 ; ... BEL would retitle the terminal in the F008 message."""
    from click.testing import CliRunner

    from cli.main import main
    (tmp_path / "children.csv").write_text("id,born\n\x1b]0;owned\x07C1,2010-01-01\n\x1b]0;owned\x07C1,2010-01-01\n")
    (tmp_path / "episodes.csv").write_text("id,child,reported\nE1,\x1b]0;owned\x07C1,2024-03-01T10:00\n")
    result = CliRunner().invoke(main, ["obligations", str(tmp_path)])
    assert result.exit_code == 2 and "F008" in result.stderr
    assert "\x1b" not in result.stderr and "\\x1b]0;owned\\x07C1" in result.stderr
    (tmp_path / "children.csv").write_text("id,born,statuses\n\x1b]0;owned\x07C1,2010-01-01,looked_after\n")
    why = CliRunner().invoke(main, ["why", str(tmp_path), "--child", "\x1b]0;owned\x07C1", "--action", "assess_risk",
                                    "--at", "2024-03-02T10:00"])
    assert why.exit_code == 0, why.output
    assert "\x1b" not in why.stdout and "\\x1b]0;owned\\x07C1" in why.stdout


def test_duckdbs_copy_tests_the_policys_text_once_and_still_guards_it(policy, tmp_path):
    """The COPY path (ids with nothing to quote) writes a head's names without the per-row formula test
    when no head needs it; a head whose text would be a formula (each of its texts in turn: action, actor,
    modality, clause, exception, a local standard) is still written with its quote."""
    from engine.output.stream import write_file
    facts = FactSet((Child("C1", date(2010, 1, 1), ("looked_after",)),),
                    (Episode("E1", "C1", parse_instant("2024-03-01T10:00")),))
    ev = evaluate_duck(policy, facts, AT)
    hostile: dict[str, list[dict]] = {}
    try:
        plain = tmp_path / "plain.csv"
        write_file(ev, "csv", "bulk", str(plain), io.StringIO())
        run = Run("bulk", None, evaluate(policy, facts, AT))
        assert plain.read_text(encoding="utf-8") == render.as_csv([(run, run.obligations())])
        ev.con.execute("ALTER TABLE heads RENAME TO policy_heads")
        for name in ("action", "actor", "modality", "clause", "exception", "standard"):  # (the names are an ENUM of the policy's own: the hostile one is text again)
            ev.con.execute(f"CREATE OR REPLACE TABLE heads AS SELECT * REPLACE ('=' || coalesce({name}, 'x') AS {name}) "
                           "FROM policy_heads")
            write_file(ev, "csv", "bulk", str(tmp_path / f"{name}.csv"), io.StringIO())
            hostile[name] = list(csv.DictReader(io.StringIO((tmp_path / f"{name}.csv").read_text(encoding="utf-8"))))
    finally:
        ev.close()
    for name, rows in hostile.items():
        cells = [r[name] for r in rows if r[name]]
        assert cells and all(c.startswith("'=") for c in cells), (name, cells)
    assert all(r["clauses"].startswith("'=") for r in hostile["clause"])  # one clause each: `clauses` is that one
    assert [r for r in hostile["standard"] if r["standard"]] == [r for r in hostile["standard"] if r["due"]]

def test_duckdbs_copy_tests_the_ids_once_and_still_guards_them(policy, tmp_path):
    """The COPY path writes the ids without the per-row formula test when no id needs it (tested once, on
    the ids' names); a child or an episode id that would be a formula is still written with its quote, on
    every row of it, exactly as the Python writer does."""
    from engine.output.stream import write_file
    for child, episode in (("C1", "E1"), ("+C1", "E1"), ("C1", "@E1")):
        facts = FactSet((Child(child, date(2010, 1, 1), ("looked_after",)), Child("C2", date(2011, 1, 1), ("looked_after",))),
                        (Episode(episode, child, parse_instant("2024-03-01T10:00")),
                         Episode("E2", "C2", parse_instant("2024-03-01T11:00"))))
        ev = evaluate_duck(policy, facts, AT)
        try:
            out = tmp_path / "out.csv"
            write_file(ev, "csv", "bulk", str(out), io.StringIO())
        finally:
            ev.close()
        run = Run("bulk", None, evaluate(policy, facts, AT))
        assert out.read_text(encoding="utf-8") == render.as_csv([(run, run.obligations())])
        rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
        assert {r["child"] for r in rows} == {csv_text(child), "C2"} and csv_text(episode) in {r["episode"] for r in rows}
