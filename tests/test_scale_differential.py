"""The DuckDB back-end against the pyDatalog reference: same obligations, every field, same order.

Both back-ends run the same Datalog program (compiler/codegen.py; compiler/sql.py translates
it for DuckDB). Compared on synthetic years of several seeds (every regression case, in one
DuckDB pass against pyDatalog case by case, is tests/test_onepass.py's first test), on
clock-change and bank-holiday edge cases, through the fast CSV reader and through the reference
loader; partitioned evaluation (by child, in chunks) against whole evaluation, for both engines.
No timing is asserted here.

Synthetic loads are small in `make test` (CHILDREN children, pyDatalog being the slow side) and
ten times larger, with more seeds, in `make fuzz` (CLAUSE_TEST_LOAD=large). Each synthetic year is
written as a bulk folder and read back by the reference loader once for the module (`Shared`), so
the whole evaluations the partitioned and fast-reader tests compare against are test_synthetic_years'
own, not made again; and DuckDB judges the fixed small cases (clock changes, intervals, the recurrence
cap, the repeated hour) in one pass for the module, each at its own moment, as `clause test` does.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from compiler.policy import CompiledPolicy
from engine.backends.duck import evaluate_duck
from engine.evaluation import evaluate
from engine.backends.partition import chunks, evaluate_partitioned
from engine.backends.cases import Outcome, evaluate_cases
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
YEAR_END_AT = "2025-01-01T00:00"
YEAR_END = parse_instant(YEAR_END_AT)
CHILDREN = 300 if LARGE else 30
SEEDS = [(1, YEAR_END_AT), (2, "2024-09-15T08:30"), (3, "2024-03-31T01:30")]
if LARGE:
    SEEDS += [(8, "2024-06-30T23:59"), (9, "2024-10-27T01:15")]
YEAR = SEEDS[0][0]  # the year judged at its end, whose evaluations the partitioned and fast-reader tests reuse


@pytest.fixture(scope="module")
def policy():
    return bundled_policy()


class Shared:
    """Inputs and evaluations several tests compare against, each made once (on first use) for the module.

    `folder(seed)`: the synthetic year of CHILDREN children written as a bulk folder; `facts(seed)`: that
    folder read by the reference loader (facts.bulk.load_bulk); `evaluation(seed, at, engine)`: those
    facts judged at `at` by "pydatalog" or by "duckdb" (from the FactSet, not through the fast reader);
    `interval_reference(at)`: pyDatalog on _interval_facts() at `at`; `in_one_pass(name, at)`: DuckDB's outcome
    for one of the fixed small cases (`one_pass_cases`), all of which it judges in one pass, each at its own
    moment (engine/backends/cases.py, as `clause test` runs cases): one DuckDB start-up for the module."""

    def __init__(self, policy: CompiledPolicy, root: Path) -> None:
        self.policy, self.root = policy, root
        self.made: dict[tuple, Any] = {}

    def _once(self, key: tuple, make: Any) -> Any:
        if key not in self.made:
            self.made[key] = make()
        return self.made[key]

    def folder(self, seed: int) -> Path:
        def write() -> Path:
            write_bulk(synthesize(CHILDREN, seed), self.root / f"year-{seed}")
            return self.root / f"year-{seed}"
        return self._once(("folder", seed), write)

    def facts(self, seed: int) -> FactSet:
        return self._once(("facts", seed), lambda: load_bulk(self.folder(seed)))

    def evaluation(self, seed: int, at: str, engine: str) -> Any:
        run = {"pydatalog": evaluate, "duckdb": evaluate_duck}[engine]
        return self._once(("evaluation", seed, at, engine), lambda: run(self.policy, self.facts(seed), parse_instant(at)))

    def interval_reference(self, at: str) -> Any:
        return self._once(("intervals", at), lambda: evaluate(self.policy, _interval_facts(), parse_instant(at)))

    def in_one_pass(self, name: str, at: datetime) -> Outcome:
        def judge() -> dict[tuple[str, str], Outcome]:
            cases = one_pass_cases()
            outcomes = evaluate_cases(self.policy, [(facts, moment) for _, facts, moment in cases])
            return {(case, moment.isoformat()): o for (case, _, moment), o in zip(cases, outcomes, strict=True)}
        return self._once(("one pass",), judge)[(name, at.isoformat())]


@pytest.fixture(scope="module")
def shared(policy, tmp_path_factory: pytest.TempPathFactory) -> Shared:
    return Shared(policy, tmp_path_factory.mktemp("years"))


def obligations(ev) -> list[tuple]:
    return [(o.to_json(), o.occurrence, o.done_at) for o in ev.obligations]


def episodes(ev) -> list[tuple]:
    return [(e.id, e.child, e.category, e.risk, e.category_clause, e.risk_clause) for e in ev.episodes]


def assert_same(reference, other) -> None:
    ref, got = obligations(reference), obligations(other)
    if ref != got:  # first name a few rows only one side has: a quadratic search, so only on a difference
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
def test_synthetic_years(shared, seed, at):
    """The year (as `clause synth` writes it, read back by the reference loader) by both engines, alone."""
    assert_same(shared.evaluation(seed, at, "pydatalog"), shared.evaluation(seed, at, "duckdb"))


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


def _edge_moments() -> list[datetime]:
    """Each of EDGE_TIMES given in London and, the same instant, in UTC."""
    return [m for at in EDGE_TIMES for m in (parse_instant(at), parse_instant(at).astimezone(timezone.utc))]


def test_clock_changes_and_holidays(policy, shared):
    """pyDatalog at each moment against DuckDB: alone at the first moment, and in the module's one pass
    (Shared.in_one_pass) judging a copy of the facts at each moment given in London and, the same
    instant, in UTC. pyDatalog judges an instant given in UTC as that instant in London."""
    facts = _edge_facts()
    london = [parse_instant(at) for at in EDGE_TIMES]
    references = [evaluate(policy, facts, m) for m in london]
    assert_same(references[0], evaluate_duck(policy, facts, london[0]))
    assert_same(references[0], evaluate(policy, facts, london[0].astimezone(timezone.utc)))
    moments = _edge_moments()
    assert len(moments) == 2 * len(references)
    for i, m in enumerate(moments):
        assert_same(references[i // 2], shared.in_one_pass("edge", m))


REPEATED_HOUR = ROOT / "tests" / "cases" / "lmcp-categorisation" / "cat-clock-change-reported-in-repeated-hour.yaml"


def test_episode_reported_in_the_repeated_hour_is_listed_by_both(policy, shared):
    """Reported 01:30 BST, judged 01:10 GMT (40 minutes later): both back-ends list the episode
    (compared as instants, not by the wall clock) with its obligations (DuckDB's: the module's one pass)."""
    [case] = load_cases([REPEATED_HOUR])
    assert case.as_of.utcoffset() == timedelta(0) and case.facts.episodes[0].reported.utcoffset() == timedelta(hours=1)
    reference, duck = evaluate(policy, case.facts, case.as_of), shared.in_one_pass("repeated hour", case.as_of)
    assert [(e.id, e.category) for e in reference.episodes] == [("E1", "missing")]
    assert reference.obligations
    assert_same(reference, duck)


def test_fast_csv_reader_equals_reference_loader(policy, shared):
    """DuckDB reading the folder itself (the fast reader) against DuckDB and pyDatalog given the reference
    loader's FactSet of it (test_synthetic_years' evaluations)."""
    direct = evaluate_duck(policy, shared.folder(YEAR), YEAR_END)
    via_reference = shared.evaluation(YEAR, YEAR_END_AT, "duckdb")
    assert_same(via_reference, direct)
    assert_same(shared.evaluation(YEAR, YEAR_END_AT, "pydatalog"), direct)


def test_partitioned_equals_whole(policy, shared):
    """Chunks of children merged against one whole evaluation: DuckDB in two chunks against its whole year
    (test_synthetic_years'), DuckDB a child a chunk and pyDatalog in chunks against pyDatalog whole."""
    facts = shared.facts(YEAR)
    assert_same(shared.evaluation(YEAR, YEAR_END_AT, "duckdb"),
                evaluate_partitioned(policy, facts, YEAR_END, CHILDREN // 2, engine="duckdb"))
    few = synthesize(2, 6)  # a chunk of one child each, on DuckDB; whole by the reference (cheaper than a DuckDB start-up)
    assert_same(evaluate(policy, few, YEAR_END), evaluate_partitioned(policy, few, YEAR_END, 1, engine="duckdb"))
    small = synthesize(5, 5)  # pyDatalog in chunks of one (five) and of three (three and two)
    reference = evaluate(policy, small, YEAR_END)
    for size in (1, 3):
        assert_same(reference, evaluate_partitioned(policy, small, YEAR_END, size))
    assert sum(len(p.children) for p in chunks(facts, 37)) == len(facts.children)


def _decades_old() -> tuple[FactSet, datetime]:
    facts = FactSet((Child("C1", date(2000, 1, 1), ("child_protection_plan", "child_in_need", "looked_after")),),
                    (Episode("E1", "C1", parse_instant("2004-01-05T10:00"), with_parents=True),))
    return facts, parse_instant("2024-01-01T00:00")


def test_recurrence_cap_on_a_decades_old_episode(policy, shared):
    """A recurring duty on an episode open for twenty years stops at the cap of 520 occurrences
    (engine/meaning/obligations.py MAX_OCCURRENCES), on both back-ends (DuckDB's: the module's one pass)."""
    facts, moment = _decades_old()
    reference = evaluate(policy, facts, moment)
    assert max(o.occurrence for o in reference.obligations) == 520
    assert_same(reference, shared.in_one_pass("decades old", moment))


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


INTERVAL_MOMENTS = ("2024-06-10T10:00", "2024-06-11T00:00", "2024-10-27T01:30+00:00", YEAR_END_AT)


def test_intervals_on_episode_boundaries(policy, shared, tmp_path):
    """Both back-ends at each moment: DuckDB from a FactSet in the module's one pass judging a copy at each
    moment, and from statuses.csv/flags.csv read by the fast reader (whose reading no moment changes) at one."""
    facts = _interval_facts()
    moments = [parse_instant(at) for at in INTERVAL_MOMENTS]
    references = [shared.interval_reference(at) for at in INTERVAL_MOMENTS]
    for reference, m in zip(references, moments, strict=True):
        assert_same(reference, shared.in_one_pass("intervals", m))
    write_bulk(facts, tmp_path)
    assert load_bulk(tmp_path) == facts
    assert_same(references[2], evaluate_duck(policy, tmp_path, moments[2]))


def one_pass_cases() -> list[tuple[str, FactSet, datetime]]:
    """The fixed small cases DuckDB judges in the module's one pass (Shared.in_one_pass): name, facts, moment."""
    edge, intervals, (old, old_at) = _edge_facts(), _interval_facts(), _decades_old()
    [hour] = load_cases([REPEATED_HOUR])
    return ([("edge", edge, m) for m in _edge_moments()]
            + [("intervals", intervals, parse_instant(at)) for at in INTERVAL_MOMENTS]
            + [("decades old", old, old_at), ("repeated hour", hour.facts, hour.as_of)])


def test_intervals_change_what_applies(policy, shared):
    """The records' moments matter: the same episodes give other obligations with the records in force throughout."""
    facts = _interval_facts()
    throughout = FactSet(tuple(replace(c, statuses=tuple(Held(h.name) for h in c.statuses if h.name != "section_47_enquiry"),
                                       flags=tuple(Held(h.name) for h in c.flags)) for c in facts.children),
                         facts.episodes, ())
    assert obligations(shared.interval_reference(YEAR_END_AT)) != obligations(evaluate(policy, throughout, YEAR_END))


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


SITUATIONS = 8  # an example's situations, judged by DuckDB in one pass: one start-up, not eight


@settings(max_examples=2 if not LARGE else 150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(held_situations(), min_size=SITUATIONS, max_size=SITUATIONS))
def test_generated_intervals_agree(policy, situations):
    """Each generated situation by pyDatalog alone against DuckDB judging all of the example's situations in one
    pass, each at its own moment (engine/backends/cases.py, as `clause test` runs cases: the pass differs from a
    lone evaluation only in its per-child judged_at). Hypothesis's first example is its simplest situation eight
    times; the second, eight random ones (make fuzz: 150 examples)."""
    outcomes = evaluate_cases(policy, situations)
    for (facts, at), outcome in zip(situations, outcomes, strict=True):
        assert_same(evaluate(policy, facts, at), outcome)
