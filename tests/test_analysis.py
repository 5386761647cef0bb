"""Cross-clause analysis: verified overlap warnings (W104) and dead exceptions (W105)."""
from __future__ import annotations

from pathlib import Path

from compiler.policy import compile_policy
from engine.lint import analyse

SOURCE = "The team manager holds a discussion. The IRO holds a discussion. Nobody is ever absent."

HEAD = '''document DOC "Doc" source "src.txt"
section DOC "Doc"
'''


def _policy(tmp_path: Path, body: str):
    (tmp_path / "src.txt").write_text(SOURCE, encoding="utf-8")
    (tmp_path / "p.clause").write_text(HEAD + body, encoding="utf-8")
    return compile_policy(tmp_path)


TWO_ACTORS = '''
clause DOC-A "A" says "The team manager holds a discussion."
  when the child has status child_protection_plan and the episode has lasted 72 hours
  then team_manager must hold strategy_discussion from 72 hours after reported
clause DOC-B "B" says "The IRO holds a discussion."
  when the child has status looked_after and the episode has lasted 72 hours
  then iro must hold strategy_discussion from 72 hours after reported
'''


def test_overlap_with_different_actors_names_both_clauses_and_an_example(tmp_path: Path) -> None:
    [w] = analyse(_policy(tmp_path, TWO_ACTORS))
    assert w.code == "W104" and w.severity == "warning"
    assert "DOC-A and DOC-B both create strategy_discussion" in w.message
    assert "team_manager vs iro" in w.message
    # the example is a real one: a child holding both statuses, missing long enough
    assert "statuses [child_protection_plan, looked_after]" in w.hint
    assert w.related and w.related[0].clause == "DOC-B"


def test_declared_overlap_silences_the_analysis(tmp_path: Path) -> None:
    body = TWO_ACTORS.replace('"The IRO holds a discussion."', '"The IRO holds a discussion." overlaps DOC-A "both meet"')
    policy = _policy(tmp_path, body)
    assert analyse(policy) == []
    assert [d.code for d in policy.warnings] == ["W102"]


def test_disjoint_situations_give_no_warning(tmp_path: Path) -> None:
    body = TWO_ACTORS.replace("the child has status looked_after", "not the child has status child_protection_plan")
    assert analyse(_policy(tmp_path, body)) == []


def test_same_actor_at_different_moments_is_not_a_conflict(tmp_path: Path) -> None:
    body = TWO_ACTORS.replace("then iro must hold strategy_discussion from 72 hours after reported",
                              "then team_manager must hold strategy_discussion from 24 hours after reported")
    assert analyse(_policy(tmp_path, body)) == []


def test_exception_that_can_never_apply(tmp_path: Path) -> None:
    body = TWO_ACTORS + '''
exception DOC-X "never" overrides actor of DOC-A
  says "Nobody is ever absent."
  when not the child has status child_protection_plan and the child has been reported missing
  then ooh_team_leader instead
'''
    found = analyse(_policy(tmp_path, body))
    dead = [d for d in found if d.code == "W105"]
    assert len(dead) == 1 and "DOC-X can never apply to DOC-A" in dead[0].message


def test_bundled_policy_overlaps_are_all_acknowledged() -> None:
    assert analyse(compile_policy()) == []
