"""The episode list (engine/meaning/episodes.py): existence, return and order compared as instants,
never by the London wall clock, and the same list from both back-ends."""
from __future__ import annotations

from datetime import date

import pytest

from compiler.core.london import parse_instant
from engine.backends.duck import evaluate_duck
from engine.evaluation import evaluate
from engine.meaning.episodes import exists, listed, returned_by
from facts.model import Child, Episode, FactSet
from tests.evaluated import policy as bundled_policy

FIRST_0140 = parse_instant("2024-10-27T01:40+01:00")   # 00:40 UTC: the first 01:40
SECOND_0110 = parse_instant("2024-10-27T01:10+00:00")  # 01:10 UTC: the second 01:10, 30 minutes later
SECOND_0150 = parse_instant("2024-10-27T01:50+00:00")  # 01:50 UTC


@pytest.fixture(scope="module")
def facts() -> FactSet:
    child = Child("C1", date(2010, 1, 1), ("looked_after",), ("cse",))
    return FactSet((child,), (Episode("late-wall", "C1", SECOND_0110), Episode("early-wall", "C1", FIRST_0140, SECOND_0110)))


def test_existence_and_return_are_instants(facts):
    late, early = facts.episodes
    assert exists(early, SECOND_0110) and not exists(late, FIRST_0140)
    assert returned_by(early, SECOND_0110) == SECOND_0110 and returned_by(early, FIRST_0140) is None
    assert [e.id for e in listed(facts, SECOND_0110)] == ["early-wall", "late-wall"]  # 00:40 UTC before 01:10 UTC
    assert [e.id for e in listed(facts, FIRST_0140)] == ["early-wall"]


@pytest.mark.parametrize("at", [FIRST_0140, SECOND_0110, SECOND_0150])
def test_both_back_ends_list_the_same_episodes(facts, at):
    policy = bundled_policy()
    reference, duck = evaluate(policy, facts, at), evaluate_duck(policy, facts, at)
    assert [e.id for e in reference.episodes] == [e.id for e in listed(facts, at)]
    assert [(e.id, e.category, e.risk) for e in reference.episodes] == [(e.id, e.category, e.risk) for e in duck.episodes]
    duck.close()
