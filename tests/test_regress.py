"""Regression cases: matching semantics, failure reports, JUnit XML, `clause test` and coverage."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import main
from compiler.policy import compile_policy
from engine.regression.coverage import Coverage
from engine.meaning.obligations import Obligation
from engine.regression.suite import Suite, junit_xml, matches, nearest, run_case, suite_text
from compiler.core.london import LONDON
from facts.yamlcase import load_case
from tests.evaluated import policy as bundled_policy

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def policy():
    return bundled_policy()


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


# A CP-plan child missing with parents for eight days (the bundled example's facts).
CP_FACTS = """
case: {name}
as_of: 2024-03-12T09:00
children:
  - id: C1
    born: 2012-05-01
    statuses: [child_protection_plan]
episodes:
  - id: E1
    child: C1
    reported: 2024-03-04T08:00
    with_parents: true
expect:
"""


def cp_case(tmp_path: Path, expect: str, name: str = "cp") -> Path:
    body = textwrap.dedent(CP_FACTS).lstrip().format(name=name) + textwrap.indent(textwrap.dedent(expect).strip("\n"), "  ")
    return write(tmp_path / f"{name}.yaml", body + "\n")


def ob(**kw) -> Obligation:
    base = dict(child="C1", episode="E1", action="strategy_discussion", actor="team_manager", modality="must",
                triggered=datetime(2024, 7, 1, 8, 0, tzinfo=LONDON), due=None, clause="X-1")
    return Obligation(**{**base, **kw})


# ---- matching semantics -------------------------------------------------------------

def test_subset_match_compares_only_the_fields_named():
    o = ob()
    assert matches({}, o)
    assert matches({"action": "strategy_discussion"}, o)
    assert matches({"action": "strategy_discussion", "child": "C1", "actor": "team_manager", "clause": "X-1"}, o)
    assert not matches({"action": "strategy_discussion", "actor": "iro"}, o)
    assert not matches({"due": datetime(2024, 7, 1, 8, 0, tzinfo=LONDON)}, o)  # no due time: never equal
    assert not matches({"exception": "X-OOH"}, o)
    assert matches({"exception": "X-OOH"}, ob(exception="X-OOH"))
    assert not matches({"status": "pending"}, o)


def test_times_compare_as_instants_not_wall_clock():
    o = ob()  # 08:00 London in July is 07:00 UTC (BST)
    assert matches({"triggered": datetime(2024, 7, 1, 7, 0, tzinfo=timezone.utc)}, o)
    assert not matches({"triggered": datetime(2024, 7, 1, 8, 0, tzinfo=timezone.utc)}, o)


def test_nearest_ranks_by_matched_fields_and_keeps_engine_order_on_ties():
    obs = [ob(action="a", actor="x"), ob(action="b", actor="iro"), ob(action="b", actor="y"), ob(action="c", actor="iro"),
           ob(child="C9", episode="E9", action="z", actor="q")]
    near = nearest({"action": "b", "actor": "iro", "child": "C1"}, obs)
    assert [n.obligation for n in near] == [obs[1], obs[2], obs[3]]
    assert near[0].matched == ("action", "actor", "child") and near[0].differing == ()
    assert near[1].differing == (("actor", "iro", "y"),)
    assert nearest({"action": "nothing"}, obs[4:]) == ()
    # equal counts: the one with the expected action comes first, whatever the engine order
    assert [n.obligation for n in nearest({"action": "b", "actor": "x"}, obs)] == [obs[1], obs[2], obs[0]]


def test_example_case_passes(policy):
    result = run_case(policy, load_case(ROOT / "examples" / "cp-plan-missing-with-parents.yaml"))
    assert result.passed and result.failures == ()


def test_case_file_times_with_offset_match_the_derived_instant(policy, tmp_path):
    path = cp_case(tmp_path, """
        obligations:
          - action: missing_cp_conference
            actor: iro
            triggered: 2024-03-11T08:00Z
          - action: missing_cp_conference
            triggered: 2024-03-11T09:00+01:00
    """)
    result = run_case(policy, load_case(path))
    assert result.passed, suite_text(Suite([result]))


def test_missing_obligation_reports_where_and_nearest(policy, tmp_path):
    path = cp_case(tmp_path, """
        obligations:
          - action: missing_cp_conference
            child: C1
            actor: team_manager
          - action: return_interview
    """)
    result = run_case(policy, load_case(path))
    assert not result.passed
    first, second = result.failures
    assert first.kind == "missing_obligation" and first.span.line == 14 and first.where == f"{path}:14"
    assert first.expected == {"action": "missing_cp_conference", "child": "C1", "actor": "team_manager"}
    assert len(first.nearest) == 3
    top = first.nearest[0]
    assert (top.obligation.action, top.obligation.actor, top.obligation.clause) == ("missing_cp_conference", "iro", "LMCP-CPP-2")
    assert top.differing == (("actor", "team_manager", "iro"),)
    assert all(len(n.matched) == 2 for n in first.nearest[1:])  # child + actor, never more than the top
    assert second.span.line == 17 and second.nearest == ()
    text = suite_text(Suite([result]))
    assert f"{path}:14: expected obligation not derived" in text
    assert "iro must missing_cp_conference - child C1 episode E1" in text
    assert "actor expected team_manager, derived iro" in text
    assert text.rstrip().endswith("0 passed, 1 failed")


def test_not_obligations_hit_reports_the_obligation_clause_and_why(policy, tmp_path):
    path = cp_case(tmp_path, """
        not_obligations:
          - action: missing_cp_conference
            child: C1
          - action: return_interview
    """)
    result = run_case(policy, load_case(path))
    [failure] = result.failures
    assert failure.kind == "unexpected_obligation" and failure.span.line == 14
    [u] = failure.unexpected
    assert (u.obligation.action, u.clause) == ("missing_cp_conference", "LMCP-CPP-2")
    assert u.why.startswith('LMCP-CPP-2 "CP plan, missing with parents more than 7 days: Missing CP Conference": "If a child')
    text = suite_text(Suite([result]))
    assert "unexpected: iro must missing_cp_conference" in text
    assert "LMCP-CPP-2" in text


def test_episode_expectations_compare_category_and_risk(policy, tmp_path):
    ok = run_case(policy, load_case(cp_case(tmp_path, """
        episodes:
          - id: E1
            category: missing
    """, "ep-ok")))
    assert ok.passed
    bad = run_case(policy, load_case(cp_case(tmp_path, """
        episodes:
          - id: E1
            category: absent
          - id: E1
            risk: high
    """, "ep-bad")))
    cat, risk = bad.failures
    assert cat.kind == "episode" and cat.episode.category == "missing"
    assert "expected category absent, derived missing" in cat.message
    assert "expected risk high, derived none" in risk.message


def test_episode_not_yet_reported_fails(policy, tmp_path):
    path = cp_case(tmp_path, """
        episodes:
          - id: E1
    """)
    text = path.read_text().replace("as_of: 2024-03-12T09:00", "as_of: 2024-03-01T09:00")
    path.write_text(text)
    [failure] = run_case(policy, load_case(path)).failures
    assert "not among the episodes reported by 2024-03-01T09:00" in failure.message


# ---- JUnit XML and `clause test` -----------------------------------------------------

def suite_dir(tmp_path: Path) -> Path:
    cases = tmp_path / "cases"
    cp_case(cases, """
        obligations:
          - action: missing_cp_conference
            actor: iro
    """, "a-pass")
    cp_case(cases, """
        obligations:
          - action: missing_cp_conference
            actor: team_manager
        not_obligations:
          - action: notify_team_manager
    """, "b-fail")
    return cases


def test_junit_xml_is_well_formed_with_one_testcase_per_case(policy, tmp_path):
    from facts.yamlcase import load_cases
    suite = Suite.run(policy, load_cases([suite_dir(tmp_path)]))
    root = ET.fromstring(junit_xml(suite))
    ts = root.find("testsuite")
    assert ts.get("tests") == "2" and ts.get("failures") == "1"
    cases = ts.findall("testcase")
    assert [c.get("name") for c in cases] == ["a-pass", "b-fail"]
    assert cases[0].find("failure") is None
    failure = cases[1].find("failure")
    assert failure.get("message").startswith("2 expectations failed: ")
    assert "b-fail.yaml:14" in failure.get("message") and "notify_team_manager" in failure.text


def test_cli_exit_codes_text_and_junit(tmp_path):
    cases = suite_dir(tmp_path)
    runner = CliRunner()
    passing = runner.invoke(main, ["test", str(cases / "a-pass.yaml")])
    assert passing.exit_code == 0, passing.output
    assert passing.stdout.strip() == "1 passed, 0 failed"
    junit = tmp_path / "out" / "junit.xml"
    failing = runner.invoke(main, ["test", str(cases), "--junit", str(junit)])
    assert failing.exit_code == 1
    assert "FAIL b-fail" in failing.stdout and "b-fail.yaml:14:" in failing.stdout
    assert failing.stdout.rstrip().endswith("1 passed, 1 failed")
    assert ET.parse(junit).getroot().find("testsuite").get("failures") == "1"
    assert not [p for p in junit.parent.iterdir() if p.name != "junit.xml"]  # no temp file left behind


def test_cli_json_output(tmp_path):
    result = CliRunner().invoke(main, ["test", str(suite_dir(tmp_path)), "--format", "json"])
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["summary"] == {"total": 2, "passed": 1, "failed": 1, "errors": 0}
    kinds = [f["kind"] for f in data["cases"][1]["failures"]]
    assert kinds == ["missing_obligation", "unexpected_obligation"]
    assert data["cases"][1]["failures"][1]["unexpected"][0]["clause"] == "LMCP-CPP-1"


def test_cli_invalid_input_exits_2_with_diagnostics(tmp_path):
    bad = write(tmp_path / "bad.yaml", """
        case: bad
        as_of: 2024-03-12T09:00
        children:
          - id: C1
            born: 2012-05-01
        expect:
          obligations:
            - action: x
              colour: blue
    """)
    runner = CliRunner()
    result = runner.invoke(main, ["test", str(bad)])
    assert result.exit_code == 2
    assert "ERROR" in result.stdout and "colour" in result.stdout and "bad.yaml:9" in result.stdout
    missing = runner.invoke(main, ["test", str(tmp_path / "nope.yaml")])
    assert missing.exit_code == 2 and "no such file" in missing.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    assert runner.invoke(main, ["test", str(empty)]).exit_code == 2


def test_cli_defaults_to_tests_cases(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    assert runner.invoke(main, ["test"]).exit_code == 2  # no tests/cases here
    cp_case(tmp_path / "tests" / "cases", """
        obligations:
          - action: missing_cp_conference
    """, "only")
    result = runner.invoke(main, ["test"])
    assert result.exit_code == 0 and "1 passed, 0 failed" in result.stdout


# ---- coverage ---------------------------------------------------------------------------

TINY_DOCS = 'document TINY "Tiny Missing Children Procedure" source "sources/tiny.txt"\n'
TINY_RULES = """
section TINY "Duties"

clause T-1 "Looked after, missing 24 hours: strategy discussion"
  says "If a looked after child has been missing for 24 hours, the team manager holds a strategy discussion."
  when the child has status looked_after
   and the episode has lasted 24 hours
  then team_manager must hold strategy_discussion from 24 hours after reported

exception T-1-OOH "Out of hours" overrides actor of T-1
  says "Should the 24 hours fall on a weekend or public holiday, the out of hours team leader holds it instead."
  when 24 hours after reported falls on a weekend or public holiday
  then ooh_team_leader instead

clause T-2 "Returned: return interview"
  says "On return, a child has a return interview within 72 hours of the return."
  when the child has returned
  then allocated_social_worker must hold return_interview from returned within 72 hours

clause T-3 "Trafficked: inform the police unit"
  says "The police inform the family crime unit immediately when a trafficked child goes missing."
  when the child has been reported missing
   and the child has flag trafficking
  then police must inform_police_fciu immediately
"""
TINY_SOURCE = """Tiny Missing Children Procedure

If a looked after child has been missing for 24 hours, the team manager holds a strategy discussion. Should the 24 hours fall on a weekend or public holiday, the out of hours team leader holds it instead.

On return, a child has a return interview within 72 hours of the return.

The police inform the family crime unit immediately when a trafficked child goes missing.
"""
TINY_CASES = {
    # Looked after, missing 25 hours from a Monday: T-1 fires, not out of hours.
    "a-lac": """
        case: a-lac
        as_of: 2024-03-05T09:00
        children: [{id: C1, born: 2010-01-01, statuses: [looked_after]}]
        episodes: [{id: E1, child: C1, reported: 2024-03-04T08:00}]
    """,
    # Trafficked child back after 12 hours: T-2 and T-3 fire.
    "b-returned": """
        case: b-returned
        as_of: 2024-03-05T09:00
        children: [{id: C2, born: 2010-01-01, flags: [trafficking]}]
        episodes: [{id: E2, child: C2, reported: 2024-03-04T08:00, returned: 2024-03-04T20:00}]
    """,
    # Reported on a Friday: 24 hours later is a Saturday, so the exception holds.
    "c-weekend": """
        case: c-weekend
        as_of: 2024-03-09T09:00
        children: [{id: C3, born: 2010-01-01, statuses: [looked_after]}]
        episodes: [{id: E3, child: C3, reported: 2024-03-08T08:00}]
        expect:
          obligations: [{action: strategy_discussion, actor: ooh_team_leader, exception: T-1-OOH}]
    """,
}


@pytest.fixture()
def tiny(tmp_path: Path) -> Path:
    root = tmp_path / "tiny"
    write(root / "documents.clause", TINY_DOCS)
    write(root / "rules.clause", TINY_RULES)
    write(root / "sources" / "tiny.txt", TINY_SOURCE)
    for name, text in TINY_CASES.items():
        write(tmp_path / "cases" / f"{name}.yaml", text)
    return root


def test_coverage_counts_clauses_and_conditions(tiny, tmp_path):
    policy = compile_policy(tiny)
    cov = Coverage(policy)
    Suite.run(policy, [load_case(tmp_path / "cases" / f"{n}.yaml") for n in ("a-lac", "b-returned")], cov.observe)
    report = cov.report()
    assert [(c.id, c.cases) for c in report.clauses] == [
        ("T-1", ("a-lac",)), ("T-1-OOH", ()), ("T-2", ("b-returned",)), ("T-3", ("b-returned",))]
    assert [c.id for c in report.uncovered] == ["T-1-OOH"]
    assert report.clause_percent == 75.0
    seen = {(x.clause, x.text): x.seen for x in report.conditions}
    assert seen == {
        ("T-1", "the child has status looked_after"): (False, True),
        ("T-1", "the episode has lasted 24 hours"): (False, True),
        ("T-1-OOH", "24 hours after reported falls on a weekend or public holiday"): (False,),
        ("T-2", "the child has returned"): (False, True),
        ("T-3", "the child has flag trafficking"): (False, True),
    }  # T-3's "the child has been reported missing" can never be false: not counted
    assert report.never_false == 1
    assert (report.conditions_both, len(report.conditions), report.condition_percent) == (4, 5, 80.0)
    assert report.fails_under(80) and not report.fails_under(75) and not report.fails_under(None)
    assert [c.id for c in report.unchecked] == ["T-1", "T-1-OOH", "T-2", "T-3"]  # fired, but nothing expected


def test_a_clause_is_checked_only_by_expectations_about_it(tiny, tmp_path):
    """Firing is not checking: a clause counts as checked when an expectation names it, names an action
    and actor only it gives, or expects the episode fact it derived."""
    policy = compile_policy(tiny)
    write(tmp_path / "more" / "d.yaml", """
        case: d-named
        as_of: 2024-03-05T09:00
        children: [{id: C1, born: 2010-01-01, statuses: [looked_after], flags: [trafficking]}]
        episodes: [{id: E1, child: C1, reported: 2024-03-04T08:00}]
        expect:
          obligations: [{action: strategy_discussion, actor: team_manager}]   # only T-1 gives it
          not_obligations: [{clause: T-2}]
    """)
    cov = Coverage(policy)
    Suite.run(policy, [load_case(tmp_path / "more" / "d.yaml")], cov.observe)
    report = cov.report()
    assert {c.id: c.checked_by for c in report.clauses if c.checked} == {"T-1": ("d-named",), "T-2": ("d-named",)}
    assert "T-3" in {c.id for c in report.covered} - {c.id for c in report.clauses if c.checked}
    assert report.checked_percent == 50.0 and report.fails_under(60, checked=True)


def test_exception_that_held_counts_as_exercised(tiny, tmp_path):
    policy = compile_policy(tiny)
    cov = Coverage(policy)
    Suite.run(policy, [load_case(tmp_path / "cases" / "c-weekend.yaml")], cov.observe)
    report = cov.report()
    assert [c.id for c in report.covered] == ["T-1", "T-1-OOH"]


def test_cli_coverage_and_fail_under(tiny, tmp_path):
    runner = CliRunner()
    two = [str(tmp_path / "cases" / f"{n}.yaml") for n in ("a-lac", "b-returned")]
    result = runner.invoke(main, ["test", *two, "--policy", str(tiny), "--coverage"])
    assert result.exit_code == 0, result.output
    assert "Clause coverage: 3/4 clauses (75.0%) exercised by 2 cases" in result.stdout
    assert "Condition coverage: 4/5 conditions (80.0%) seen both true and false (1 that can never be false" in result.stdout
    assert "Checked: 0/4 clauses (0.0%)" in result.stdout
    assert 'T-1-OOH "Out of hours"' in result.stdout.split("Clauses no case exercises:")[1]
    assert "T-3 \"Trafficked" in result.stdout.split("Clauses that fire but no expectation checks:")[1]
    assert "the child has been reported missing" not in result.stdout
    unchecked = runner.invoke(main, ["test", *two, "--policy", str(tiny), "--fail-under-checked", "1"])
    assert unchecked.exit_code == 1 and "checked clauses 0.0% is under the required 1%" in unchecked.stderr
    under = runner.invoke(main, ["test", *two, "--policy", str(tiny), "--fail-under", "80"])
    assert under.exit_code == 1 and "75.0% is under the required 80%" in under.stderr
    assert runner.invoke(main, ["test", *two, "--policy", str(tiny), "--fail-under", "75"]).exit_code == 0
    full = runner.invoke(main, ["test", str(tmp_path / "cases"), "--policy", str(tiny), "--fail-under", "100",
                                "--format", "json", "--coverage"])
    assert full.exit_code == 0, full.output
    assert json.loads(full.stdout)["coverage"]["clauses"] == {"total": 4, "covered": 4, "percent": 100.0, "uncovered": []}


# ---- pytest collection of tests/cases ---------------------------------------------------------

def _pytest(folder: Path, *args: str, autoload: bool = False) -> subprocess.CompletedProcess:
    """pytest in a fresh process in `folder`. Without `autoload` the installed plugins are not loaded
    (hypothesis's alone costs about 1 s of start-up); `-p clause` still loads ours by its entry point."""
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_DISABLE_PLUGIN_AUTOLOAD"}
    if not autoload:
        env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rA", *args],
                          cwd=folder, capture_output=True, text=True, timeout=300, env=env)


def test_an_authoritys_own_folder_runs_under_plain_pytest_with_the_plugin(tmp_path):
    """Outside this repository: a policy copy and three cases; `pytest -p clause` collects the cases,
    checks them against ./policy, and a failing case (or an invalid file) fails pytest."""
    import shutil
    from compiler.policy import BUNDLED
    shutil.copytree(BUNDLED, tmp_path / "policy")
    cp_case(tmp_path / "cases", "obligations:\n  - action: missing_cp_conference\n", "good")
    cp_case(tmp_path / "cases", "obligations:\n  - action: missing_cp_conference\n    actor: team_manager\n", "wrong-actor")
    write(tmp_path / "cases" / "broken.yaml", "case: broken\n")
    write(tmp_path / "data" / "not-a-case.yaml", "children: []\n")  # no 'case:' line: not collected
    done = _pytest(tmp_path, "-p", "clause", autoload=True)  # as the authority runs it, every plugin installed
    out = done.stdout
    assert done.returncode == 1, out + done.stderr
    assert "2 failed, 1 passed" in out
    assert "PASSED cases/good.yaml::good" in out
    assert "FAILED cases/wrong-actor.yaml::wrong-actor" in out
    assert "wrong-actor.yaml:14: expected obligation not derived" in out
    assert "nearest derived:" in out and "iro must missing_cp_conference" in out
    assert "invalid case file" in out and "as_of" in out
    assert "not-a-case" not in out
    # the local policy is the one used: break it and every case says so
    (tmp_path / "policy" / "documents.clause").write_text("document oops\n", encoding="utf-8")
    broken = _pytest(tmp_path, "-p", "clause", "cases/good.yaml")
    assert broken.returncode == 1 and "the policy does not compile" in broken.stdout


def test_plugin_options_policy_and_strict(tmp_path):
    """--clause-policy names the policy; --clause-strict fails a case that expects nothing; an
    unknown name in an expectation fails with the nearest name."""
    import shutil
    from compiler.policy import BUNDLED
    shutil.copytree(BUNDLED, tmp_path / "elsewhere")
    write(tmp_path / "cases" / "nothing.yaml", "case: nothing\nas_of: 2024-03-12T09:00\n"
                                                "children: [{id: C1, born: 2012-05-01}]\n")
    cp_case(tmp_path / "cases", "not_obligations:\n  - action: retrun_interview\n", "typo")
    # one run without --clause-strict for both cases: -rA reports each case's outcome on its own line
    plain = _pytest(tmp_path, "-p", "clause", "--clause-policy", "elsewhere", "cases/nothing.yaml", "cases/typo.yaml")
    assert plain.returncode == 1 and "1 failed, 1 passed" in plain.stdout, plain.stdout
    assert "PASSED cases/nothing.yaml::nothing" in plain.stdout  # expecting nothing passes unless strict
    assert "FAILED cases/typo.yaml::typo" in plain.stdout and "did you mean 'return_interview'?" in plain.stdout
    strict = _pytest(tmp_path, "-p", "clause", "--clause-policy", "elsewhere", "--clause-strict", "cases/nothing.yaml")
    assert strict.returncode == 1 and "F015" in strict.stdout


