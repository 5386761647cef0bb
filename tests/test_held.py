"""Statuses and flags in force over time (facts/held.py): the bounds' meaning, the two ways of
writing them (case YAML, statuses.csv/flags.csv), their diagnostics, and the moment each rule sees."""
from __future__ import annotations

import textwrap
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest

from compiler.core.diagnostics import ClauseError, Diagnostic
from compiler.core.london import LONDON, parse_instant
from engine.backends import duck_load
from engine.evaluation import evaluate
from engine.explain.render import as_json, as_text
from engine.explain.why import why
from facts.bulk import load_bulk
from facts.held import bounds, in_force, overlap
from facts.model import Child, Episode, FactSet, Held
from facts.yamlcase import load_case
from tests.evaluated import policy as bundled_policy


def T(text: str) -> datetime:
    return parse_instant(text)


# ---- meaning of the bounds ----

def test_a_date_to_is_the_last_day_in_force_and_a_date_from_starts_at_london_midnight():
    plan = Held("child_protection_plan", date(2024, 6, 3), date(2024, 6, 10))
    assert not in_force(plan, T("2024-06-02T23:59"))
    assert in_force(plan, T("2024-06-03T00:00"))
    assert in_force(plan, T("2024-06-10T23:59"))       # the last day counts in full
    assert not in_force(plan, T("2024-06-11T00:00"))
    assert bounds(plan)[0] == datetime(2024, 6, 3, 0, 0, tzinfo=LONDON)  # 00:00 BST, 23:00 UTC the day before


def test_datetimes_are_exact_and_half_open():
    h = Held("looked_after", T("2024-03-04T12:00"), T("2024-03-05T12:00"))
    assert not in_force(h, T("2024-03-04T11:59")) and in_force(h, T("2024-03-04T12:00"))
    assert in_force(h, T("2024-03-05T11:59")) and not in_force(h, T("2024-03-05T12:00"))
    assert in_force(Held("early_help"), T("1990-01-01T00:00"))


def test_clock_change_days():
    """31 March 2024 (clocks go forward at 01:00 GMT) and 27 October (back at 02:00 BST) start at London midnight."""
    spring = Held("cse", date(2024, 3, 31))
    assert not in_force(spring, T("2024-03-30T23:59")) and in_force(spring, T("2024-03-31T00:00"))
    autumn = Held("cse", None, date(2024, 10, 27))
    assert in_force(autumn, T("2024-10-27T23:59")) and not in_force(autumn, T("2024-10-28T00:00"))


def test_overlap():
    a = Held("cse", date(2024, 1, 1), date(2024, 6, 10))
    assert overlap(a, Held("cse", date(2024, 6, 10)))       # both in force on 10 June
    assert not overlap(a, Held("cse", date(2024, 6, 11)))
    assert not overlap(Held("cse", None, T("2024-06-10T10:00")), Held("cse", T("2024-06-10T10:00")))
    assert overlap(Held("cse"), a)


def test_plain_names_are_in_force_throughout():
    c = Child("C1", date(2010, 1, 1), ("looked_after",), ("cse",))
    assert c.statuses == (Held("looked_after"),) and c.statuses[0].throughout
    assert c.status_names == ("looked_after",) and c.flag_names == ("cse",)


# ---- case files ----

HEAD = """
case: c
as_of: 2024-06-14T10:00
children:
  - id: C1
    born: 2012-05-01
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "case.yaml"
    path.write_text(HEAD.lstrip("\n") + textwrap.indent(textwrap.dedent(text).lstrip("\n"), "    "), encoding="utf-8")
    return path


def problems(path: Path) -> list[Diagnostic]:
    with pytest.raises(ClauseError) as info:
        load_case(path)
    return info.value.diagnostics


def test_case_file_forms(tmp_path):
    case = load_case(write(tmp_path, """
        statuses:
          - early_help
          - {status: child_protection_plan, from: 2024-06-03}
          - status: looked_after
            from: 2024-01-01T10:00
            to: 2024-02-01
        flags:
          - {flag: cse, to: 2024-03-31}
    """))
    c = case.facts.children[0]
    assert c.statuses == (Held("early_help"), Held("child_protection_plan", date(2024, 6, 3)),
                          Held("looked_after", T("2024-01-01T10:00"), date(2024, 2, 1)))
    assert c.flags == (Held("cse", None, date(2024, 3, 31)),)
    assert (c.statuses[1].span.line, c.statuses[1].span.column) == (8, 9)


@pytest.mark.parametrize("entry,code,words", [
    ("{status: child_protection, from: 2024-06-03}", "F003", "unknown status 'child_protection'"),
    ("{status: looked_after, from: 2024-06-03, to: 2024-06-02}", "F007", "ends ('to') before it starts"),
    ("{status: looked_after, from: 2024-13-03}", "F005", "'from'"),
    ("{status: looked_after, from: soon}", "F005", "expected a date like"),
    ("{status: looked_after, since: 2024-06-03}", "F002", "unknown field 'since'"),
    ("{from: 2024-06-03}", "F004", "missing required field 'status'"),
])
def test_case_file_record_problems(tmp_path, entry, code, words):
    diags = problems(write(tmp_path, f"statuses:\n  - {entry}\n"))
    assert [d.code for d in diags] == [code], [d.message for d in diags]
    assert words in diags[0].message and diags[0].span.line == 7


def test_case_file_overlap(tmp_path):
    diags = problems(write(tmp_path, """
        statuses:
          - {status: looked_after, to: 2024-06-03}
          - {status: looked_after, from: 2024-06-03}
    """))
    assert [d.code for d in diags] == ["F016"]
    assert diags[0].span.line == 8 and diags[0].related[0].line == 7


# ---- bulk folders ----

def folder(tmp_path: Path, statuses: str, flags: str = "") -> Path:
    (tmp_path / "children.csv").write_text("id,born,statuses\nC1,2010-01-01,early_help\nC2,2011-01-01,\n")
    (tmp_path / "episodes.csv").write_text("id,child,reported\nE1,C1,2024-01-10T10:00\nE2,C2,2024-06-10T10:00\n")
    (tmp_path / "statuses.csv").write_text(statuses)
    if flags:
        (tmp_path / "flags.csv").write_text(flags)
    return tmp_path


def test_bulk_records_load_both_ways(tmp_path):
    path = folder(tmp_path, "child,status,from,to\nC2,looked_after,2024-06-03,\nC2,child_in_need,,2024-06-02\n"
                            "C1,child_in_need,,\n", "child,flag,from,to\nC1,cse,2024-01-01T10:00,2024-02-01\n")
    facts = load_bulk(path)
    c1, c2 = facts.children
    assert c2.statuses == (Held("looked_after", date(2024, 6, 3)), Held("child_in_need", None, date(2024, 6, 2)))
    assert c1.statuses == (Held("early_help"), Held("child_in_need")) and c1.flags[0].start == T("2024-01-01T10:00")
    assert (c2.statuses[0].span.file, c2.statuses[0].span.line) == (str(path / "statuses.csv"), 2)
    fast, ref = duckdb.connect(), duckdb.connect()
    assert duck_load.load_folder(fast, path)
    duck_load.load_factset(ref, facts)
    for table in ("in_children", "in_statuses", "in_flags"):
        assert fast.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall() == \
            ref.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall(), table


@pytest.mark.parametrize("row,code,column", [
    ("C9,looked_after,2024-06-03,", "F006", 1),           # unknown child
    ("C1,looked_afer,2024-06-03,", "F003", 2),            # unknown status
    ("C1,looked_after,2024-06-31,", "F005", 3),           # no such date
    ("C1,looked_after,,2024-02-30T10:00", "F005", 4),     # no such time
    ("C1,looked_after,2024-06-03,2024-06-02", "F007", 4),  # ends before it starts
    ("C1,early_help,2024-06-03,", "F016", 1),             # early_help is in force throughout already
])
def test_bulk_record_problems(tmp_path, row, code, column):
    path = folder(tmp_path, f"child,status,from,to\n{row}\n")
    with pytest.raises(ClauseError) as info:
        load_bulk(path)
    diags = info.value.diagnostics
    assert [d.code for d in diags] == [code], [d.message for d in diags]
    assert (Path(diags[0].span.file).name, diags[0].span.line, diags[0].span.column) == ("statuses.csv", 2, column)
    assert not duck_load.load_folder(duckdb.connect(), path)


def test_bulk_overlap_between_two_rows(tmp_path):
    path = folder(tmp_path, "child,status,from,to\n", "child,flag,from,to\nC2,cse,2024-01-01,2024-06-10\nC2,cse,2024-06-10T09:00,\n")
    with pytest.raises(ClauseError) as info:
        load_bulk(path)
    [d] = info.value.diagnostics
    assert (d.code, Path(d.span.file).name, d.span.line, d.related[0].line) == ("F016", "flags.csv", 3, 2)
    assert not duck_load.load_folder(duckdb.connect(), path)


# ---- the moment each rule sees, and what the explanation says ----

POLICY = bundled_policy()


def test_episode_rules_see_the_report_and_child_rules_the_evaluation_time():
    """CFM-ABROAD-2 is about the child (flag taken_abroad at the evaluation time); LMCP-CP-1 is
    about an episode (status at its report)."""
    child = Child("C1", date(2011, 1, 1), (Held("child_protection_plan", date(2024, 6, 3)),),
                  (Held("taken_abroad", None, date(2024, 6, 30)),))
    facts = FactSet((child,), (Episode("E1", "C1", T("2024-01-08T10:00")), Episode("E2", "C1", T("2024-06-10T10:00"))))
    def clauses(at: str) -> set[tuple]:
        return {(o.episode, o.clause) for o in evaluate(POLICY, facts, T(at)).obligations}
    june, july = clauses("2024-06-20T10:00"), clauses("2024-07-01T10:00")
    assert ("E2", "LMCP-CP-1") in june and ("E1", "LMCP-CP-1") not in june
    assert ("E2", "LMCP-CP-1") in july                      # the report's moment does not move
    assert any(c == "CFM-ABROAD-2" for _, c in june) and not any(c == "CFM-ABROAD-2" for _, c in july)


def test_explanation_names_the_record_and_its_dates():
    child = Child("C1", date(2011, 1, 1), (Held("child_protection_plan", date(2024, 6, 3)),))
    facts = FactSet((child,), (Episode("E1", "C1", T("2024-06-10T10:00")),))
    ev = evaluate(POLICY, facts, T("2024-06-14T10:00"))
    trees = [why(ev, o) for o in ev.obligations if o.action == "strategy_discussion" and o.clause == "LMCP-CP-1"]
    assert trees
    text = as_text(trees)
    assert ("child C1 has status child_protection_plan from 2024-06-03, in force at the report on "
            "Mon 10 Jun 2024 10:00") in text
    assert '"held": {\n' in as_json(trees) and '"from": "2024-06-03"' in as_json(trees)
    assert '"in_force_at": "2024-06-10T10:00"' in as_json(trees)
