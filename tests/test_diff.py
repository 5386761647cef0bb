"""`clause diff`: obligations added, removed and changed by a policy change, with their clauses."""
from __future__ import annotations

import json
import shutil
import subprocess
import textwrap
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import main
from compiler.policy import BUNDLED, compile_policy
from engine.regression.diff import compare, diff_policies, policy_at_revision, render_markdown, render_text
from engine.meaning.obligations import Obligation
from compiler.core.london import LONDON
from facts.yamlcase import load_cases

# The bundled policy with two edits: LMCP-MFH-1 at 48 hours instead of 72 (a threshold),
# and LMCP-CP-1 held by the allocated social worker instead of the team manager (an actor).
EDITS = {
    "lmcp/02-missing-from-home.clause": [
        ("   and the episode has lasted 72 hours\n  then mash must hold strategy_discussion from 72 hours after reported",
         "   and the episode has lasted 48 hours\n  then mash must hold strategy_discussion from 48 hours after reported")],
    "lmcp/04-child-protection.clause": [
        ("then team_manager must hold strategy_discussion from 72 hours after reported",
         "then allocated_social_worker must hold strategy_discussion from 72 hours after reported")],
}

# All reported on Monday 4 March 2024 08:00, so 48 and 72 hours later are working days.
CASES = {
    "a-no-status-49-hours": ("2024-03-06T09:00", "[]", None),
    "b-no-status-97-hours": ("2024-03-08T09:00", "[]", None),
    "c-cp-plan-97-hours": ("2024-03-08T09:00", "[child_protection_plan]", None),
    "d-returned-after-4-hours": ("2024-03-08T09:00", "[]", "2024-03-04T12:00"),
}


def edit_policy(root: Path, edits: dict[str, list[tuple[str, str]]] = EDITS) -> None:
    for rel, pairs in edits.items():
        path = root / rel
        text = path.read_text(encoding="utf-8")
        for old, new in pairs:
            assert text.count(old) == 1, f"{old!r} is not once in {rel}"
            text = text.replace(old, new)
        path.write_text(text, encoding="utf-8")


def write_cases(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, (as_of, statuses, returned) in CASES.items():
        back = f", returned: {returned}" if returned else ""
        (folder / f"{name}.yaml").write_text(textwrap.dedent(f"""\
            case: {name}
            as_of: {as_of}
            children: [{{id: C1, born: 2010-01-01, statuses: {statuses}}}]
            episodes: [{{id: E1, child: C1, reported: 2024-03-04T08:00{back}}}]
            """), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("diff")
    head = tmp / "head"
    shutil.copytree(BUNDLED, head)
    edit_policy(head)
    cases = write_cases(tmp / "cases")
    return {"base": compile_policy(BUNDLED), "head": compile_policy(head), "head_dir": head,
            "cases_dir": cases, "cases": load_cases([cases])}


def london(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=LONDON)


def entries(result) -> dict[str, list[tuple]]:
    """case -> [(kind, action, actor before, actor after, clause words, changed fields)]."""
    out = {}
    for c in result.cases:
        out[c.case] = [(x.kind, x.obligation.action, x.base.actor if x.base else None, x.head.actor if x.head else None,
                        x.clauses["base"], x.clauses["head"], tuple(f for f, _, _ in x.fields)) for x in c.changes]
    return out


def test_threshold_and_actor_changes_are_attributed_to_their_clauses(setup):
    result = diff_policies(setup["base"], setup["head"], setup["cases"])
    assert entries(result) == {
        "a-no-status-49-hours": [("added", "strategy_discussion", None, "mash", None, "LMCP-MFH-1", ())],
        "b-no-status-97-hours": [("changed", "strategy_discussion", "mash", "mash", "LMCP-MFH-1", "LMCP-MFH-1", ("triggered",))],
        "c-cp-plan-97-hours": [("changed", "strategy_discussion", "team_manager", "allocated_social_worker",
                                "LMCP-CP-1", "LMCP-CP-1", ("actor",))],
        "d-returned-after-4-hours": [],
    }
    added = result.cases[0].changes[0].head
    assert (added.child, added.episode, added.triggered, added.due) == ("C1", "E1", london("2024-03-06T08:00"), None)
    [(field, before, after)] = result.cases[1].changes[0].fields
    assert (before, after) == (london("2024-03-07T08:00"), london("2024-03-06T08:00"))
    assert (result.count("added"), result.count("removed"), result.count("changed"), result.affected) == (1, 0, 2, 3)


def test_reverse_direction_reports_removed(setup):
    result = diff_policies(setup["head"], setup["base"], setup["cases"])
    first = entries(result)["a-no-status-49-hours"]
    assert first == [("removed", "strategy_discussion", "mash", None, "LMCP-MFH-1", None, ())]
    assert result.summary() == "0 added, 1 removed, 2 changed in 3 of 4 cases"


def test_same_policy_has_no_changes(setup):
    result = diff_policies(setup["base"], setup["base"], setup["cases"])
    assert all(not c.changes for c in result.cases)
    assert render_text(result).rstrip().endswith("0 added, 0 removed, 0 changed in 0 of 4 cases")


def test_text_and_markdown_name_the_clauses(setup):
    result = diff_policies(setup["base"], setup["head"], setup["cases"], "old", "new")
    text = render_text(result)
    assert "+ added   mash must strategy_discussion - child C1 episode E1, triggered 2024-03-06T08:00 [LMCP-MFH-1]" in text
    assert "actor team_manager -> allocated_social_worker [LMCP-CP-1]" in text
    assert "triggered 2024-03-07T08:00 -> 2024-03-06T08:00 [LMCP-MFH-1]" in text
    assert "1 case unchanged" in text and "d-returned-after-4-hours" not in text  # counted, not listed
    md = render_markdown(result)
    assert "| changed | allocated_social_worker must strategy_discussion - child C1 episode E1, triggered 2024-03-07T08:00 " \
           "| actor team_manager → allocated_social_worker | LMCP-CP-1 |" in md


def test_cli_json_with_folders(setup):
    result = CliRunner().invoke(main, ["diff", "--base", str(BUNDLED), "--head", str(setup["head_dir"]),
                                       str(setup["cases_dir"]), "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["summary"] == {"added": 1, "removed": 0, "changed": 2, "cases": 4, "affected": 3}
    assert [c["case"] for c in data["cases"]] == sorted(CASES)
    change = data["cases"][2]["changes"][0]
    assert change["changed"] == {"actor": {"base": "team_manager", "head": "allocated_social_worker"}}
    assert change["clause"] == {"base": "LMCP-CP-1", "head": "LMCP-CP-1"}


def test_cli_exit_code_says_whether_anything_changed(setup):
    """`--exit-code`, as `git diff --exit-code`: 1 when an obligation changed, 0 when none did."""
    runner = CliRunner()
    changed = runner.invoke(main, ["diff", "--base", str(BUNDLED), "--head", str(setup["head_dir"]),
                                   str(setup["cases_dir"]), "--exit-code"])
    assert changed.exit_code == 1 and "in 3 of 4 cases" in changed.stdout
    same = runner.invoke(main, ["diff", "--base", str(BUNDLED), "--head", str(BUNDLED), str(setup["cases_dir"]),
                                "--exit-code"])
    assert same.exit_code == 0 and "4 cases unchanged" in same.stdout
    assert runner.invoke(main, ["diff", "--base", str(BUNDLED), "--head", str(setup["head_dir"]),
                                str(setup["cases_dir"])]).exit_code == 0


def test_cli_invalid_input_exits_2(setup, tmp_path):
    runner = CliRunner()
    bad_case = runner.invoke(main, ["diff", "--base", str(BUNDLED), str(tmp_path / "missing.yaml")])
    assert bad_case.exit_code == 2 and "no such file" in bad_case.stderr
    broken = tmp_path / "broken"
    shutil.copytree(BUNDLED, broken)
    edit_policy(broken, {"lmcp/04-child-protection.clause": [("then team_manager must hold strategy_discussion from 72",
                                                               "then team_manager must hold strategy_discussion frm 72")]})
    bad_policy = runner.invoke(main, ["diff", "--base", str(broken), str(setup["cases_dir"])])
    assert bad_policy.exit_code == 2 and "04-child-protection.clause:" in bad_policy.stderr and "E001" in bad_policy.stderr


def _ob(actor: str, **kw) -> Obligation:
    return Obligation(**{"child": "C1", "episode": "E1", "action": "review_timing_discussion", "actor": actor,
                         "modality": "should", "triggered": None, "due": None, "clause": "LMCP-CP-3", **kw})


def test_one_clause_giving_an_action_to_several_actors_pairs_identical_ones_first():
    base = [_ob("iro"), _ob("police_missing_coordinator"), _ob("team_manager")]
    head = [_ob("allocated_social_worker"), _ob("iro"), _ob("team_manager")]
    [change] = compare(base, head)
    assert (change.kind, change.base.actor, change.head.actor) == ("changed", "police_missing_coordinator", "allocated_social_worker")
    [added] = compare(base[:2], base[:2] + [_ob("team_manager")])
    assert (added.kind, added.head.actor) == ("added", "team_manager")


# ---- a git revision as the base ---------------------------------------------------------------

def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args], cwd=repo, check=True,
                   capture_output=True)


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    root = tmp_path / "repo"
    shutil.copytree(BUNDLED, root / "rules" / "policy")
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "the policy")
    edit_policy(root / "rules" / "policy", {k: v for k, v in EDITS.items() if "child-protection" in k})
    git(root, "commit", "-qam", "LMCP-CP-1: the allocated social worker holds it")
    return root


def test_git_revision_base(setup, repo):
    head = repo / "rules" / "policy"
    result = CliRunner().invoke(main, ["diff", "--base", "HEAD~1", "--head", str(head), str(setup["cases_dir"]),
                                       "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["base"] == "HEAD~1"
    assert data["summary"] == {"added": 0, "removed": 0, "changed": 1, "cases": 4, "affected": 1}
    [change] = data["cases"][2]["changes"]
    assert (change["base"]["actor"], change["head"]["actor"], change["clause"]["head"]) == \
        ("team_manager", "allocated_social_worker", "LMCP-CP-1")
    same = CliRunner().invoke(main, ["diff", "--base", "HEAD", "--head", str(head), str(setup["cases_dir"])])
    assert same.exit_code == 0 and "0 added, 0 removed, 0 changed" in same.stdout


def test_revision_export_is_the_folder_at_that_revision_and_is_cleaned_up(repo):
    head = repo / "rules" / "policy"
    with policy_at_revision("HEAD~1", head) as old:
        text = (old / "lmcp" / "04-child-protection.clause").read_text(encoding="utf-8")
        assert "then team_manager must hold strategy_discussion from 72 hours" in text
        assert (old / "sources" / "LMCP.txt").is_file()
        exported = old
    assert not exported.exists()


def test_bad_revision_or_no_repository_exits_2(setup, repo, tmp_path):
    runner = CliRunner()
    unknown = runner.invoke(main, ["diff", "--base", "no-such-rev", "--head", str(repo / "rules" / "policy"),
                                   str(setup["cases_dir"])])
    assert unknown.exit_code == 2 and "unknown git revision 'no-such-rev'" in unknown.stderr
    too_far = runner.invoke(main, ["diff", "--base", "HEAD~5", "--head", str(repo / "rules" / "policy"),
                                   str(setup["cases_dir"])])
    assert too_far.exit_code == 2
    git(repo, "mv", "rules/policy", "rules/moved")
    git(repo, "commit", "-qm", "move")
    gone = runner.invoke(main, ["diff", "--base", "HEAD~1", "--head", str(repo / "rules" / "moved"),
                                str(setup["cases_dir"])])
    assert gone.exit_code == 2 and "cannot export rules/moved at HEAD~1" in gone.stderr
    plain = tmp_path / "plain"
    shutil.copytree(BUNDLED, plain)
    outside = runner.invoke(main, ["diff", "--base", "HEAD", "--head", str(plain), str(setup["cases_dir"])])
    assert outside.exit_code == 2 and "git" in outside.stderr
