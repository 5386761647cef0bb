"""Policy invariants as properties over generated situations (hypothesis).

The bundled policy must never call a child of 13 or under absent; an exploitation
flag always means missing and high risk unless an Inspector's level is recorded;
obligations, once arisen, stay (the facts being the same, only time passing);
every obligation can be explained from the facts of its own case.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from engine import evaluate
from engine.explain.why import why
from engine.meaning.base_facts import age_on
from facts.model import Child, Episode, FactSet
from compiler.core.vocabulary import FLAGS, PLACEMENTS, RISK_LEVELS, STATUSES
from compiler.core.london import LONDON
from compiler.core.diagnostics import Span
from tests.evaluated import policy as bundled_policy

POLICY = bundled_policy()
START = datetime(2024, 1, 1, 0, 0, tzinfo=LONDON)


@st.composite
def situations(draw) -> tuple[FactSet, datetime]:
    """One child with 1-10 episodes over a quarter, judged some time after the first report."""
    born = draw(st.dates(date(2006, 1, 1), date(2020, 12, 31)))
    child = Child("C1", born, tuple(draw(st.lists(st.sampled_from(STATUSES), max_size=3, unique=True))),
                  tuple(draw(st.lists(st.sampled_from(FLAGS), max_size=3, unique=True))),
                  draw(st.sampled_from(["liverpool", "liverpool", "wirral"])), draw(st.sampled_from(PLACEMENTS)),
                  Span("generated.yaml", 1, 1))
    episodes = []
    for i in range(draw(st.integers(1, 10))):
        reported = START + timedelta(minutes=draw(st.integers(0, 90 * 24 * 60)))
        back = draw(st.one_of(st.none(), st.integers(1, 20 * 24 * 60)))
        episodes.append(Episode(
            f"E{i}", "C1", reported, reported + timedelta(minutes=back) if back else None,
            whereabouts_known=draw(st.booleans()), with_parents=draw(st.booleans()),
            safeguarding_concerns=draw(st.booleans()),
            police_risk=draw(st.one_of(st.none(), st.sampled_from(RISK_LEVELS))),
            inspector_risk=draw(st.one_of(st.none(), st.sampled_from(RISK_LEVELS))),
            victim_of_crime=draw(st.booleans()), span=Span("generated.yaml", 10 + i, 1)))
    at = START + timedelta(minutes=draw(st.integers(0, 120 * 24 * 60)))
    return FactSet((child,), tuple(episodes)), at


# 12 examples in `make test` (6 for the explanations); HYPOTHESIS_PROFILE=fuzz (`make fuzz`) raises the budget to 500.
BUDGET = max(12, settings().max_examples // 10)
PROPERTY = settings(max_examples=BUDGET, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(situations())
def test_thirteen_and_under_is_never_absent(situation) -> None:
    facts, at = situation
    child = facts.children[0]
    result = evaluate(POLICY, facts, at)
    for e in result.episodes:
        episode = next(x for x in facts.episodes if x.id == e.id)
        if age_on(child.born, episode.reported.date()) <= 13:
            assert e.category == "missing"


@PROPERTY
@given(situations())
def test_exploitation_means_missing_and_high_risk_unless_an_inspector_decided(situation) -> None:
    facts, at = situation
    if not {"cse", "cce"} & set(facts.children[0].flag_names):
        return
    for e in evaluate(POLICY, facts, at).episodes:
        episode = next(x for x in facts.episodes if x.id == e.id)
        assert e.category == "missing"
        assert e.risk == (episode.inspector_risk or "high")


# CFM-S47-2WS arises at a Friday report while the child is missing and, by its "remains missing" condition,
# is gone once the child is back on the Friday: a known defect (the lifecycle has no "ended on a return
# before the weekend"), pinned by the strict xfail below so that fixing it shows; every other clause holds.
KNOWN_RETRACTED = {"CFM-S47-2WS"}


@PROPERTY
@given(situations(), st.integers(1, 30 * 24 * 60))
def test_an_obligation_once_arisen_stays(situation, later_minutes: int) -> None:
    facts, at = situation
    later = at + timedelta(minutes=later_minutes)
    before = {(o.episode, o.action, o.actor, o.clause, o.occurrence) for o in evaluate(POLICY, facts, at).obligations
              if o.clause not in KNOWN_RETRACTED}
    after = {(o.episode, o.action, o.actor, o.clause, o.occurrence) for o in evaluate(POLICY, facts, later).obligations}
    assert before <= after


@pytest.mark.xfail(strict=True, reason="known defect: CFM-S47-2WS vanishes when the child is back on the Friday")
def test_the_friday_strategy_meeting_once_arisen_stays() -> None:
    """Found by the property above: a section 47 child reported Fri 00:00 has the meeting at once; back at
    00:01, the meeting is gone rather than ended."""
    from datetime import date
    from compiler.core.london import parse_instant
    from facts.model import Child, Episode, FactSet
    facts = FactSet((Child("C1", date(2006, 1, 1), ("section_47_enquiry",)),),
                    (Episode("E0", "C1", parse_instant("2024-02-02T00:00"), parse_instant("2024-02-02T00:01")),))
    keys = lambda at: {(o.action, o.clause) for o in evaluate(POLICY, facts, parse_instant(at)).obligations}  # noqa: E731
    assert ("s47_strategy_meeting", "CFM-S47-2WS") in keys("2024-02-02T00:00")
    assert ("s47_strategy_meeting", "CFM-S47-2WS") in keys("2024-02-02T00:01")


@settings(max_examples=BUDGET // 2, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(situations())
def test_every_obligation_is_explained_from_its_own_facts(situation) -> None:
    facts, at = situation
    result = evaluate(POLICY, facts, at)
    spans = {facts.children[0].span} | {e.span for e in facts.episodes}
    for ob in result.obligations:
        tree = why(result, ob)
        cited = {n.clause.id for n in tree.walk() if n.kind == "clause"}
        assert ob.clause in cited
        facts_cited = [n for n in tree.walk() if n.kind == "fact"]
        assert facts_cited and all(n.span in spans for n in facts_cited)
