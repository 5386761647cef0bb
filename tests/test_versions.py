"""Versions in force by date: an episode is judged by the clauses in force on the day it was reported.

tests/data/policy_versions is an example made for these tests (marked as such in its files): one
procedure in a 2022 and a 2023 edition, the CP-plan strategy discussion moved from 72 to 48 hours.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import main
from compiler.core.diagnostics import ClauseError
from compiler.policy import compile_policy
from engine import evaluate
from engine.backends.duck import evaluate_duck
from facts.yamlcase import load_cases

DATA = Path(__file__).resolve().parent / "data"
POLICY, CASES = DATA / "policy_versions", DATA / "policy_versions_cases"


def test_each_episode_is_judged_by_the_edition_in_force_at_its_report_on_both_engines() -> None:
    policy = compile_policy(POLICY)
    result = CliRunner().invoke(main, ["test", str(CASES), "--policy", str(POLICY)])
    assert result.exit_code == 0 and "3 passed, 0 failed" in result.stdout, result.output
    for case in load_cases([CASES]):
        ours = [o.to_json() for o in evaluate(policy, case.facts, case.as_of).obligations]
        assert ours == [o.to_json() for o in evaluate_duck(policy, case.facts, case.as_of).obligations], case.name


def test_the_rules_of_a_dated_clause_compare_the_day_of_the_report() -> None:
    text = compile_policy(POLICY).program.to_text()
    assert "law_day(E, LAW) & (LAW <= 20231024)" in text and "law_day(E, LAW) & (LAW >= 20231025)" in text
    assert not compile_policy().program.law_days  # the bundled policy has one edition: no law_day facts


def test_diff_between_two_dates_within_one_policy_folder() -> None:
    result = CliRunner().invoke(main, ["diff", "--head", str(POLICY), "--base-date", "2023-10-01",
                                       "--head-date", "2023-11-01", str(CASES / "old-edition-72-hours.yaml"),
                                       "--exit-code"])
    assert result.exit_code == 1, result.output
    assert "- removed team_manager must strategy_discussion" in result.stdout and "[MCP-CP-1]" in result.stdout
    assert "+ added   team_manager must strategy_discussion" in result.stdout and "[MCP-CP-1-2023]" in result.stdout
    assert "as on 2023-10-01 -> head" in result.stdout
    same = CliRunner().invoke(main, ["diff", "--head", str(POLICY), "--base-date", "2023-11-01",
                                     "--head-date", "2024-06-01", str(CASES), "--exit-code"])
    assert same.exit_code == 0 and "3 cases unchanged" in same.stdout


def _compile(tmp_path: Path, rules: str) -> list:
    (tmp_path / "sources").mkdir(exist_ok=True)
    (tmp_path / "sources" / "t.txt").write_text("The duty holds. It still holds.\n", encoding="utf-8")
    (tmp_path / "p.clause").write_text('document DOC "Doc" source "sources/t.txt"\nsection DOC "S"\n' + rules,
                                       encoding="utf-8")
    try:
        return list(compile_policy(tmp_path).warnings)
    except ClauseError as e:
        return list(e.diagnostics)


ONE = 'clause A-1 "a" {dates}\n  says "The duty holds."\n  then police must locate_child\n'
TWO = 'clause A-1-NEW "b" version of {of} {dates}\n  says "It still holds."\n  then police must locate_child\n'


@pytest.mark.parametrize("first,second,code,words", [
    ("in force until 2023-10-24", "in force from 2023-10-24", "E015", "are both in force on some days"),
    ("", "in force from 2023-10-25", "E015", "needs the dates it is in force"),
    ("in force until 2023-10-01", "in force from 2023-10-25", "W107", "no version of A-1 is in force between"),
])
def test_versions_must_not_overlap_and_gaps_are_reported(tmp_path: Path, first, second, code, words) -> None:
    found = _compile(tmp_path, ONE.format(dates=first) + TWO.format(of="A-1", dates=second))
    assert any(d.code == code and words in d.message for d in found), found


def test_adjacent_versions_are_clean_and_unknown_targets_are_named(tmp_path: Path) -> None:
    clean = _compile(tmp_path, ONE.format(dates="in force until 2023-10-24")
                     + TWO.format(of="A-1", dates="in force from 2023-10-25"))
    assert [d for d in clean if d.code in ("E015", "W107", "E011")] == []
    unknown = _compile(tmp_path, ONE.format(dates="") + TWO.format(of="A-2", dates="in force from 2023-10-25"))
    assert any(d.code == "E011" and "'A-2' in 'version of'" in d.message for d in unknown)
    bad = _compile(tmp_path, ONE.format(dates="in force from 2023-02-30"))
    assert any(d.code == "E001" and "not a date" in d.message for d in bad)


def test_an_exception_to_a_clause_applies_to_every_version(tmp_path: Path) -> None:
    rules = (ONE.format(dates="in force until 2023-10-24") + TWO.format(of="A-1", dates="in force from 2023-10-25")
             + 'exception A-X "x" overrides actor of A-1\n  says "It still holds."\n'
               '  when the child has flag cse\n  then mash instead\n')
    _compile(tmp_path, rules)
    policy = compile_policy(tmp_path)
    assert policy.normal["A-1-NEW"].overriders() == ("A-X",)
    copies = {r.clause for r in policy.program.rules if r.exception == "A-X"}
    assert copies == {"A-1", "A-1-NEW"}
