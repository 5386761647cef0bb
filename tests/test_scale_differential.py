"""The DuckDB back-end against the pyDatalog reference: same obligations, every field, same order.

Both back-ends run the same Datalog program (compiler/codegen.py; compiler/sql.py translates
it for DuckDB). Compared on synthetic years of several seeds (every regression case, in one
DuckDB pass against pyDatalog case by case, is tests/test_onepass.py's first test), on
clock-change and bank-holiday edge cases, through the fast CSV reader and through the reference
loader; partitioned evaluation (by child, in chunks) against whole evaluation, for both engines.
No timing is asserted here.

Synthetic loads are small in `make test` (CHILDREN children, pyDatalog being the slow side) and
ten times larger, with more seeds, in `make fuzz` (CLAUSE_TEST_LOAD=large).
"""
from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from engine.backends.duck import evaluate_duck
from engine.evaluation import evaluate
from engine.backends.partition import chunks, evaluate_partitioned
from engine.backends.cases import evaluate_cases
from facts.bulk import load_bulk, write_bulk
from compiler.core.vocabulary import FLAGS, RISK_LEVELS, STATUSES
from facts.held import ends_before_start, overlap
from facts.model import Child, Episode, FactSet, Held, RecordedAction
from facts.synth import synthesize
from compiler.core.london import LONDON, parse_instant
from facts.yamlcase import load_cases
from tests.evaluated import policy as bundled_policy
from tests.loads import LARGE

ROOT = Path(__file__).resolve().parent.parent
YEAR_END = parse_instant("2025-01-01T00:00")
CHILDREN = 300 if LARGE else 30
SEEDS = [(1, "2025-01-01T00:00"), (2, "2024-09-15T08:30"), (3, "2024-03-31T01:30")]
if LARGE:
    SEEDS += [(8, "2024-06-30T23:59"), (9, "2024-10-27T01:15")]


@pytest.fixture(scope="module")
def policy():
    return bundled_policy()


def obligations(ev) -> list[tuple]:
    return [(o.to_json(), o.occurrence, o.done_at) for o in ev.obligations]


def episodes(ev) -> list[tuple]:
    return [(e.id, e.child, e.category, e.risk, e.category_clause, e.risk_clause) for e in ev.episodes]


def assert_same(reference, other) -> None:
    ref, got = obligations(reference), obligations(other)
    only_ref = [x for x in ref if x not in got][:3]
    only_got = [x for x in got if x not in ref][:3]
    assert (only_ref, only_got) == ([], [])
    assert ref == got  # same rows in the same order
    assert episodes(reference) == episodes(other)


def test_cases_one_by_one(policy):
    """A few cases evaluated alone by DuckDB too (no merging)."""
    for case in load_cases([ROOT / "examples"]):
        assert_same(evaluate(policy, case.facts, case.as_of), evaluate_duck(policy, case.facts, case.as_of))


@pytest.mark.parametrize("seed,at", SEEDS)
def test_synthetic_years(policy, seed, at):
    facts = synthesize(CHILDREN, seed)
    moment = parse_instant(at)
    assert_same(evaluate(policy, facts, moment), evaluate_duck(policy, facts, moment))


def _edge_facts() -> FactSet:
    """Reports, returns and 72-hour marks on clock changes, bank holidays and weekends; fold times."""
    bst_end = datetime(2024, 10, 27, 0, 30, tzinfo=timezone.utc).astimezone(LONDON)   # 01:30 BST, first
    second = datetime(2024, 10, 27, 1, 30, tzinfo=timezone.utc).astimezone(LONDON)    # 01:30 GMT, second
    gap = parse_instant("2024-03-31T01:30")                                            # read as 02:30 BST
    children = [Child("A", date(2010, 10, 27), ("looked_after",), ("safeguarding_concerns",)),
                Child("B", date(2011, 1, 1), ("child_protection_plan",), ()),
                Child("C", date(2012, 3, 31), (), ("cse",), "wirral", "liverpool"),
                Child("D", date(2008, 2, 29), ("child_in_need",), (), "liverpool", "outside_merseyside")]
    times = [bst_end, second, gap, parse_instant("2024-12-22T09:00"), parse_instant("2024-05-03T10:00"),
             parse_instant("2024-08-23T23:59"), parse_instant("2025-02-28T12:00")]
    eps, acts = [], []
    for i, t in enumerate(times):
        for c in children:
            back = t + timedelta(hours=(i * 37) % 300) if i % 3 else None
            eps.append(Episode(f"{c.id}{i}", c.id, t, back, whereabouts_known=i == 4, with_parents=c.id == "B",
                               safeguarding_concerns=i % 2 == 0, police_risk=("low", "high", None)[i % 3],
                               inspector_risk="medium" if i == 5 else None))
            acts.append(RecordedAction("strategy_discussion", c.id, "team_manager", t + timedelta(hours=80), f"{c.id}{i}"))
            acts.append(RecordedAction("weekly_strategy_meeting", c.id, "team_manager", t + timedelta(days=12), None))
    return FactSet(tuple(children), tuple(eps), tuple(acts))


EDGE_TIMES = ["2024-10-27T01:30", "2024-10-27T01:30+00:00", "2024-10-27T01:10+00:00", "2024-03-31T03:00",
              "2024-12-27T10:00", "2025-03-04T12:00"]


def test_clock_changes_and_holidays(policy):
    """pyDatalog at each moment against DuckDB: alone at the first moment, and in one pass judging a copy
    of the facts at each moment given in London and, the same instant, in UTC (as `clause test` runs
    cases: engine/backends/cases.py), which costs one DuckDB start-up instead of twelve. pyDatalog
    judges an instant given in UTC as that instant in London."""
    facts = _edge_facts()
    london = [parse_instant(at) for at in EDGE_TIMES]
    references = [evaluate(policy, facts, m) for m in london]
    assert_same(references[0], evaluate_duck(policy, facts, london[0]))
    assert_same(references[0], evaluate(policy, facts, london[0].astimezone(timezone.utc)))
    moments = [(reference, m) for reference, at in zip(references, london) for m in (at, at.astimezone(timezone.utc))]
    outcomes = evaluate_cases(policy, [(facts, m) for _, m in moments])
    for (reference, _), outcome in zip(moments, outcomes, strict=True):
        assert_same(reference, outcome)


def test_episode_reported_in_the_repeated_hour_is_listed_by_both(policy):
    """Reported 01:30 BST, judged 01:10 GMT (40 minutes later): both back-ends list the episode
    (compared as instants, not by the wall clock) with its obligations."""
    [case] = load_cases([ROOT / "tests" / "cases" / "lmcp-categorisation" / "cat-clock-change-reported-in-repeated-hour.yaml"])
    assert case.as_of.utcoffset() == timedelta(0) and case.facts.episodes[0].reported.utcoffset() == timedelta(hours=1)
    reference, duck = evaluate(policy, case.facts, case.as_of), evaluate_duck(policy, case.facts, case.as_of)
    assert [(e.id, e.category) for e in reference.episodes] == [("E1", "missing")]
    assert reference.obligations
    assert_same(reference, duck)


def test_fast_csv_reader_equals_reference_loader(policy, tmp_path):
    facts = synthesize(CHILDREN, 7)
    write_bulk(facts, tmp_path)
    via_reference = evaluate_duck(policy, load_bulk(tmp_path), YEAR_END)
    direct = evaluate_duck(policy, tmp_path, YEAR_END)
    assert_same(via_reference, direct)
    assert_same(evaluate(policy, load_bulk(tmp_path), YEAR_END), direct)


def test_partitioned_equals_whole(policy):
    facts = synthesize(CHILDREN, 4)
    assert_same(evaluate_duck(policy, facts, YEAR_END),
                evaluate_partitioned(policy, facts, YEAR_END, CHILDREN // 2, engine="duckdb"))
    few = synthesize(2, 6)  # a chunk of one child each, on DuckDB
    assert_same(evaluate_duck(policy, few, YEAR_END), evaluate_partitioned(policy, few, YEAR_END, 1, engine="duckdb"))
    small = synthesize(8, 5)
    reference = evaluate(policy, small, YEAR_END)
    for size in (1, 3):
        assert_same(reference, evaluate_partitioned(policy, small, YEAR_END, size))
    assert sum(len(p.children) for p in chunks(facts, 37)) == len(facts.children)


def test_recurrence_cap_on_a_decades_old_episode(policy):
    facts = FactSet((Child("C1", date(2000, 1, 1), ("child_protection_plan", "child_in_need", "looked_after")),),
                    (Episode("E1", "C1", parse_instant("2004-01-05T10:00"), with_parents=True),))
    moment = parse_instant("2024-01-01T00:00")
    reference = evaluate(policy, facts, moment)
    assert max(o.occurrence for o in reference.obligations) == 520
    assert_same(reference, evaluate_duck(policy, facts, moment))


# ---- statuses and flags in force over time (facts/held.py) ----

def _day(t: datetime) -> date:
    return t.astimezone(LONDON).date()


def _interval_facts() -> FactSet:
    """Records starting and ending inside episodes and exactly on their reports: a date `to` on the
    report's day (in force), a datetime `from` at the report instant (in force) and `to` at it (not),
    dates on clock-change days; and a child whose plan ends mid-year and who becomes looked after."""
    r1, r2, r3 = parse_instant("2024-03-31T00:30"), parse_instant("2024-06-10T10:00"), parse_instant("2024-10-27T01:30")
    children = [
        Child("A", date(2011, 5, 1), (Held("child_protection_plan", date(2024, 3, 31), date(2024, 6, 10)),
                                      Held("looked_after", date(2024, 6, 11))),
              (Held("cse", r2, None), Held("safeguarding_concerns", None, r2))),
        Child("B", date(2012, 1, 1), (Held("early_help", r1, r2), Held("child_in_need", r2, date(2024, 10, 27))),
              (Held("cce", date(2024, 10, 27), None),)),
        Child("C", date(2009, 7, 7), (Held("section_47_enquiry", date(2024, 6, 9), date(2024, 6, 9)),
                                      Held("section_47_enquiry", date(2024, 10, 26), r3)), ()),
        Child("D", date(2010, 2, 2), ("looked_after", Held("child_protection_plan", None, date(2024, 3, 30))), ()),
    ]
    eps = []
    for c in children:
        for i, t in enumerate((r1, r2, r3, parse_instant("2024-06-09T23:59"), parse_instant("2024-10-26T23:30"))):
            eps.append(Episode(f"{c.id}{i}", c.id, t, t + timedelta(hours=100) if i % 2 else None,
                               with_parents=i in (1, 3), safeguarding_concerns=i == 2, police_risk="high" if i == 4 else None))
    return FactSet(tuple(children), tuple(eps), ())


def test_intervals_on_episode_boundaries(policy, tmp_path):
    """Both back-ends at each moment: DuckDB from a FactSet in one pass judging a copy at each moment,
    and from statuses.csv/flags.csv read by the fast reader (whose reading no moment changes) at one."""
    facts = _interval_facts()
    moments = [parse_instant(at) for at in ("2024-06-10T10:00", "2024-06-11T00:00", "2024-10-27T01:30+00:00", "2025-01-01T00:00")]
    references = [evaluate(policy, facts, m) for m in moments]
    for reference, outcome in zip(references, evaluate_cases(policy, [(facts, m) for m in moments]), strict=True):
        assert_same(reference, outcome)
    write_bulk(facts, tmp_path)
    assert load_bulk(tmp_path) == facts
    assert_same(references[2], evaluate_duck(policy, tmp_path, moments[2]))


def test_intervals_change_what_applies(policy):
    """The records' moments matter: the same episodes give other obligations with the records in force throughout."""
    facts = _interval_facts()
    moment = parse_instant("2025-01-01T00:00")
    throughout = FactSet(tuple(replace(c, statuses=tuple(Held(h.name) for h in c.statuses if h.name != "section_47_enquiry"),
                                       flags=tuple(Held(h.name) for h in c.flags)) for c in facts.children),
                         facts.episodes, ())
    assert obligations(evaluate(policy, facts, moment)) != obligations(evaluate(policy, throughout, moment))


def _bound(draw, anchors: list[datetime]):
    anchor = draw(st.sampled_from(anchors))
    kind = draw(st.sampled_from(["none", "exact", "date", "near", "date_near"]))
    if kind == "none":
        return None
    if kind == "exact":
        return anchor
    near = anchor + timedelta(minutes=draw(st.integers(-3 * 1440, 3 * 1440)))
    if kind == "near":
        return near.astimezone(LONDON)
    return _day(anchor if kind == "date" else near)


@st.composite
def held_situations(draw) -> tuple[FactSet, datetime]:
    """One child, 1-6 episodes over a quarter spanning the October clock change, and up to five
    status/flag records with bounds at, near or on the day of the reports (overlaps dropped)."""
    start = datetime(2024, 9, 1, tzinfo=LONDON)
    reports = sorted(start + timedelta(minutes=draw(st.integers(0, 90 * 1440))) for _ in range(draw(st.integers(1, 6))))
    episodes = tuple(Episode(f"E{i}", "C1", t, t + timedelta(minutes=draw(st.integers(1, 10 * 1440))) if draw(st.booleans()) else None,
                             with_parents=draw(st.booleans()), safeguarding_concerns=draw(st.booleans()),
                             police_risk=draw(st.none() | st.sampled_from(RISK_LEVELS)))
                     for i, t in enumerate(reports))
    kept: dict[str, list[Held]] = {"statuses": [], "flags": []}
    for _ in range(draw(st.integers(0, 5))):
        which = draw(st.sampled_from(["statuses", "flags"]))
        name = draw(st.sampled_from(STATUSES if which == "statuses" else FLAGS))
        h = Held(name, _bound(draw, reports), _bound(draw, reports))
        if not ends_before_start(h) and not any(k.name == name and overlap(k, h) for k in kept[which]):
            kept[which].append(h)
    child = Child("C1", date(2011, 2, 3), tuple(kept["statuses"]), tuple(kept["flags"]))
    at = start + timedelta(minutes=draw(st.integers(0, 120 * 1440)))
    return FactSet((child,), episodes), at


@settings(max_examples=8 if not LARGE else 150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(held_situations())
def test_generated_intervals_agree(policy, situation):
    facts, at = situation
    assert_same(evaluate(policy, facts, at), evaluate_duck(policy, facts, at))
