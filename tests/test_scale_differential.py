"""The DuckDB back-end against the pyDatalog reference: same obligations, every field, same order.

Both back-ends run the same Datalog program (compiler/codegen.py; compiler/sql.py translates
it for DuckDB). Compared on every regression case (tests/cases, examples), on synthetic
years of several seeds, on clock-change and bank-holiday edge cases, through the fast CSV
reader and through the reference loader; partitioned evaluation (by child, in chunks)
against whole evaluation, for both engines. No timing is asserted here.

Synthetic loads are small in `make test` (CHILDREN children, pyDatalog being the slow side) and
five times larger, with more seeds, in `make fuzz` (CLAUSE_TEST_LOAD=large).
"""
from __future__ import annotations

import os
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from compiler.policy import compile_policy
from engine.backends.duck import evaluate_duck, evaluate_duck_cases
from engine.evaluation import evaluate
from engine.backends.partition import chunks, evaluate_partitioned
from facts.bulk import load_bulk, write_bulk
from facts.model import Child, Episode, FactSet, RecordedAction
from facts.synth import synthesize
from compiler.core.london import LONDON, parse_instant
from evaluated import case_evaluation
from facts.yamlcase import case_files, load_cases

ROOT = Path(__file__).resolve().parent.parent
YEAR_END = parse_instant("2025-01-01T00:00")
LARGE = os.environ.get("CLAUSE_TEST_LOAD") == "large"
CHILDREN = 300 if LARGE else 60
SEEDS = [(1, "2025-01-01T00:00"), (2, "2024-09-15T08:30"), (3, "2024-03-31T01:30")]
if LARGE:
    SEEDS += [(8, "2024-06-30T23:59"), (9, "2024-10-27T01:15")]


@pytest.fixture(scope="module")
def policy():
    return compile_policy()


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


def _prefixed(facts: FactSet, p: str) -> FactSet:
    return FactSet(tuple(replace(c, id=p + c.id) for c in facts.children),
                   tuple(replace(e, id=p + e.id, child=p + e.child) for e in facts.episodes),
                   tuple(replace(a, child=p + a.child, episode=None if a.episode is None else p + a.episode)
                         for a in facts.actions))


def test_every_regression_case(policy):
    """All cases in one DuckDB evaluation (ids prefixed per case, each case judged at its own as_of,
    with status when it records actions); each case's rows compared with pyDatalog's for that case alone."""
    pairs = [case_evaluation(path) for path in case_files([ROOT / "tests" / "cases", ROOT / "examples"])]
    assert len(pairs) >= 3
    prefixes = [f"k{i}/" for i in range(len(pairs))]
    duck = evaluate_duck_cases(policy, [(_prefixed(c.facts, p), c.as_of) for p, (c, _) in zip(prefixes, pairs)])
    rows, eps = obligations(duck), episodes(duck)
    for p, (case, ref) in zip(prefixes, pairs):
        mine = [(dict(j, child=j["child"][len(p):], episode=j["episode"] and j["episode"][len(p):]), n, d)
                for j, n, d in rows if j["child"].startswith(p)]
        assert mine == obligations(ref), case.name
        mine_eps = [(i[len(p):], c[len(p):], *rest) for i, c, *rest in eps if c.startswith(p)]
        assert mine_eps == episodes(ref), case.name
    duck.close()


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


@pytest.mark.parametrize("at", ["2024-10-27T01:30", "2024-10-27T01:30+00:00", "2024-10-27T01:10+00:00", "2024-03-31T03:00",
                                "2024-12-27T10:00", "2025-03-04T12:00"])
def test_clock_changes_and_holidays(policy, at):
    facts = _edge_facts()
    moment = parse_instant(at)
    assert_same(evaluate(policy, facts, moment), evaluate_duck(policy, facts, moment))
    utc_moment = moment.astimezone(timezone.utc)  # another zone: compared as instants
    assert_same(evaluate(policy, facts, utc_moment), evaluate_duck(policy, facts, utc_moment))


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
    facts = synthesize(60, 7)
    write_bulk(facts, tmp_path)
    via_reference = evaluate_duck(policy, load_bulk(tmp_path), YEAR_END)
    direct = evaluate_duck(policy, tmp_path, YEAR_END)
    assert_same(via_reference, direct)
    assert_same(evaluate(policy, load_bulk(tmp_path), YEAR_END), direct)


def test_partitioned_equals_whole(policy):
    facts = synthesize(CHILDREN, 4)
    assert_same(evaluate_duck(policy, facts, YEAR_END),
                evaluate_partitioned(policy, facts, YEAR_END, CHILDREN // 2, engine="duckdb"))
    few = synthesize(6, 6)
    assert_same(evaluate_duck(policy, few, YEAR_END), evaluate_partitioned(policy, few, YEAR_END, 1, engine="duckdb"))
    small = synthesize(30, 5)
    reference = evaluate(policy, small, YEAR_END)
    for size in (1, 7):
        assert_same(reference, evaluate_partitioned(policy, small, YEAR_END, size))
    assert sum(len(p.children) for p in chunks(facts, 37)) == len(facts.children)


def test_recurrence_cap_on_a_decades_old_episode(policy):
    facts = FactSet((Child("C1", date(2000, 1, 1), ("child_protection_plan", "child_in_need", "looked_after")),),
                    (Episode("E1", "C1", parse_instant("2004-01-05T10:00"), with_parents=True),))
    moment = parse_instant("2024-01-01T00:00")
    reference = evaluate(policy, facts, moment)
    assert max(o.occurrence for o in reference.obligations) == 520
    assert_same(reference, evaluate_duck(policy, facts, moment))
