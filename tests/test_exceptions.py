"""Defaults and exceptions (Catala-style), end to end through the engine."""
from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from compiler.policy import compile_policy
from engine import evaluate
from facts.model import Child, Episode, FactSet
from compiler.core.london import LONDON

POLICY = '''document DOC "Doc" source "src.txt"
section DOC "Doc"
clause DOC-B "base" says "Base rule."
  when the child has status child_protection_plan and the episode has lasted 72 hours
  then team_manager must hold strategy_discussion from 72 hours after reported
exception DOC-X "actor at weekends" overrides actor of DOC-B says "Weekend rule."
  when 72 hours after reported falls on a weekend
  then ooh_team_leader instead
exception DOC-F "replaced with parents" overrides DOC-B says "Parents rule."
  when the child has status child_protection_plan and the episode has with_parents
  then iro must convene strategy_discussion
'''


def _run(tmp_path: Path, reported: datetime, with_parents: bool) -> set[tuple[str, str, str]]:
    (tmp_path / "src.txt").write_text("Base rule. Weekend rule. Parents rule.", encoding="utf-8")
    (tmp_path / "p.clause").write_text(POLICY, encoding="utf-8")
    policy = compile_policy(tmp_path)
    facts = FactSet((Child("C1", date(2012, 1, 1), ("child_protection_plan",)),),
                    (Episode("E1", "C1", reported, with_parents=with_parents),))
    at = datetime(2024, 3, 20, 9, 0, tzinfo=LONDON)
    return {(o.actor, o.clause, o.exception or "") for o in evaluate(policy, facts, at).obligations}


WEEKDAY_72 = datetime(2024, 3, 4, 9, 0, tzinfo=LONDON)   # 72 hours later: Thursday
WEEKEND_72 = datetime(2024, 3, 6, 9, 0, tzinfo=LONDON)   # 72 hours later: Saturday


def test_default_applies_when_no_exception_does(tmp_path: Path) -> None:
    assert _run(tmp_path, WEEKDAY_72, False) == {("team_manager", "DOC-B", "")}


def test_actor_exception_replaces_only_the_actor(tmp_path: Path) -> None:
    assert _run(tmp_path, WEEKEND_72, False) == {("ooh_team_leader", "DOC-B", "DOC-X")}


def test_replacing_exception_also_displaces_the_actor_override(tmp_path: Path) -> None:
    # the whole conclusion of DOC-B is replaced: neither its default nor its weekend actor remains
    assert _run(tmp_path, WEEKEND_72, True) == {("iro", "DOC-F", "")}
    assert _run(tmp_path, WEEKDAY_72, True) == {("iro", "DOC-F", "")}
