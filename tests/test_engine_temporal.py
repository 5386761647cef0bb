"""engine.evaluation at the edges of time: thresholds, calendars, clock changes, windows, recurrence, status.

Every test goes through the public API (compile the bundled policy, build facts,
`evaluate(policy, facts, at)`) except the unit tests of `engine.meaning.base_facts`'s helpers
at the end. Times are London wall-clock times unless an offset is written.
"""
from __future__ import annotations

import textwrap
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from compiler.policy import CompiledPolicy
from engine import Evaluation
from engine import evaluate
from engine.meaning.obligations import Obligation
from engine.meaning.base_facts import add_minutes, age_on, minutes_between
from facts.model import Child, Episode, FactSet, RecordedAction
from compiler.core.london import LONDON, format_instant, parse_instant
from facts.yamlcase import load_case
from tests.evaluated import policy as bundled_policy

UTC = timezone.utc
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


@pytest.fixture(scope="module")
def policy() -> CompiledPolicy:
    """The bundled policy, compiled once for the module."""
    return bundled_policy()


def T(text: str) -> datetime:
    """A London time (or one with an explicit offset) as the loaders read it."""
    return parse_instant(text)


def judge(policy: CompiledPolicy, at: datetime | str, children: list[Child], episodes: list[Episode],
          actions: list[RecordedAction] | tuple[RecordedAction, ...] = ()) -> Evaluation:
    """Evaluate a fact set built from model objects as at `at`."""
    moment = T(at) if isinstance(at, str) else at
    return evaluate(policy, FactSet(tuple(children), tuple(episodes), tuple(actions)), moment)


def pick(result: Evaluation, clause: str | None = None, action: str | None = None,
         episode: str | None = None) -> list[Obligation]:
    """The obligations of `result` from `clause` / for `action` / of `episode` (each optional)."""
    return [o for o in result.obligations
            if (clause is None or o.clause == clause) and (action is None or o.action == action)
            and (episode is None or o.episode == episode)]


def case_from_yaml(tmp_path: Path, text: str) -> tuple[FactSet, datetime]:
    """A small case file written out and read by facts.yamlcase: its facts and as_of."""
    path = tmp_path / "case.yaml"
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    case = load_case(path)
    return case.facts, case.as_of


HOME = Child("C1", date(2010, 1, 1))  # not known to services: no status
CP = Child("C1", date(2010, 1, 1), ("child_protection_plan",))


# ---- the 72-hour threshold ----

@pytest.mark.parametrize("at, arisen", [
    ("2024-03-08T09:59", False),
    ("2024-03-08T09:59:59", False),  # whole minutes completed: 71 h 59 min 59 s is not 72 hours
    ("2024-03-08T10:00", True),
    ("2024-03-20T10:00", True),
])
def test_mfh_strategy_discussion_arises_at_exactly_72_hours(policy: CompiledPolicy, at: str, arisen: bool) -> None:
    """LMCP-MFH-1: no discussion at 71:59 missing, one (MASH, must) from 72:00, arising at the 72-hour point."""
    result = judge(policy, at, [HOME], [Episode("E1", "C1", T("2024-03-05T10:00"))])
    found = pick(result, clause="LMCP-MFH-1")
    if not arisen:
        assert found == []
        return
    (ob,) = found
    assert (ob.child, ob.episode, ob.action, ob.actor, ob.modality) == ("C1", "E1", "strategy_discussion", "mash", "must")
    assert ob.triggered == T("2024-03-08T10:00")
    assert ob.exception is None


def test_mfh_strategy_discussion_needs_a_child_with_no_status(policy: CompiledPolicy) -> None:
    """The missing-from-home section covers only children not known to services."""
    known = Child("C1", date(2010, 1, 1), ("early_help",))
    result = judge(policy, "2024-03-09T10:00", [known], [Episode("E1", "C1", T("2024-03-05T10:00"))])
    assert pick(result, clause="LMCP-MFH-1") == []


# ---- who holds it: weekends, bank holidays, the London calendar ----

@pytest.mark.parametrize("reported, point, actor, exception", [
    # winter (GMT): Friday 23:59 is a weekday, Saturday 00:00 is the weekend
    ("2024-03-05T23:59", "2024-03-08T23:59", "mash", None),
    ("2024-03-06T00:00", "2024-03-09T00:00", "ooh_team_leader", "LMCP-MFH-OOH"),
    # summer (BST): the London date decides, not the UTC one (Saturday 00:00 BST is Friday 23:00 UTC)
    ("2024-06-04T23:59", "2024-06-07T23:59", "mash", None),
    ("2024-06-05T00:00", "2024-06-08T00:00", "ooh_team_leader", "LMCP-MFH-OOH"),
    # Sunday 23:59 is still the weekend; Monday 00:00 is not
    ("2024-03-07T23:59", "2024-03-10T23:59", "ooh_team_leader", "LMCP-MFH-OOH"),
    ("2024-03-08T00:00", "2024-03-11T00:00", "mash", None),
])
def test_72_hour_point_on_a_weekend_goes_to_the_ooh_team_leader(policy: CompiledPolicy, reported: str, point: str,
                                                                 actor: str, exception: str | None) -> None:
    """LMCP-MFH-OOH replaces the actor when the 72-hour point falls on a Saturday or Sunday (London date)."""
    result = judge(policy, T(point) + DAY, [HOME], [Episode("E1", "C1", T(reported))])
    (ob,) = pick(result, clause="LMCP-MFH-1")
    assert (ob.actor, ob.exception, ob.triggered) == (actor, exception, T(point))
    assert (ob.action, ob.modality) == ("strategy_discussion", "must")


@pytest.mark.parametrize("reported, point, actor", [
    ("2024-03-29T12:00", "2024-04-01T13:00", "ooh_team_leader"),  # Easter Monday (and the clocks went forward)
    ("2024-05-03T09:00", "2024-05-06T09:00", "ooh_team_leader"),  # Early May bank holiday
    ("2024-04-05T12:00", "2024-04-08T12:00", "mash"),             # an ordinary Monday
    ("2023-12-30T09:00", "2024-01-02T09:00", "mash"),             # 2 January: a bank holiday in Scotland only
])
def test_72_hour_point_on_an_england_bank_holiday(policy: CompiledPolicy, reported: str, point: str, actor: str) -> None:
    """A weekday that is an England bank holiday counts as out of hours; other weekdays do not."""
    result = judge(policy, T(point) + HOUR, [HOME], [Episode("E1", "C1", T(reported))])
    (ob,) = pick(result, clause="LMCP-MFH-1")
    assert ob.triggered == T(point)
    assert ob.actor == actor
    assert ob.exception == ("LMCP-MFH-OOH" if actor == "ooh_team_leader" else None)


def test_cp_plan_initial_discussion_also_goes_out_of_hours(policy: CompiledPolicy) -> None:
    """LMCP-CP-OOH does for a CP-plan child what LMCP-MFH-OOH does for a child missing from home."""
    result = judge(policy, "2024-03-10T00:00", [CP], [Episode("E1", "C1", T("2024-03-06T00:00"))])
    (ob,) = pick(result, clause="LMCP-CP-1")
    assert (ob.actor, ob.exception) == ("ooh_team_leader", "LMCP-CP-OOH")


# ---- real elapsed time across the clock changes ----

@pytest.mark.parametrize("reported, before, point", [
    # October: BST -> GMT on 27 Oct 2024; 72 real hours after Fri 12:00 BST is Mon 11:00 GMT
    ("2024-10-25T12:00", "2024-10-28T10:59", "2024-10-28T11:00"),
    # March: GMT -> BST on 31 Mar 2024; 72 real hours after Thu 12:00 GMT is Sun 13:00 BST
    ("2024-03-28T12:00", "2024-03-31T12:59", "2024-03-31T13:00"),
])
def test_72_hours_are_real_hours_across_a_clock_change(policy: CompiledPolicy, reported: str, before: str,
                                                       point: str) -> None:
    """The threshold is 72 hours of real time, so the wall-clock time of the 72-hour point moves by an hour."""
    episodes = [Episode("E1", "C1", T(reported))]
    assert pick(judge(policy, before, [HOME], episodes), clause="LMCP-MFH-1") == []
    (ob,) = pick(judge(policy, point, [HOME], episodes), clause="LMCP-MFH-1")
    assert ob.triggered == T(point)
    assert format_instant(ob.triggered) == point
    assert ob.triggered.astimezone(UTC) - T(reported).astimezone(UTC) == timedelta(hours=72)


def test_due_times_are_real_hours_across_a_clock_change(policy: CompiledPolicy) -> None:
    """A 24-hour deadline (CFM-CP-2P) that spans the October change ends at 09:00 GMT, not 10:00."""
    result = judge(policy, "2024-10-28T12:00", [CP],
                   [Episode("E1", "C1", T("2024-10-26T10:00"), with_parents=True)])
    (ob,) = pick(result, clause="CFM-CP-2P")
    assert ob.due == T("2024-10-27T09:00")


# ---- '3 times within 30 days' ----

@pytest.mark.parametrize("earlier, counts", [
    (timedelta(days=30), True),
    (timedelta(days=30, minutes=1), False),
])
@pytest.mark.parametrize("concern_on", ["episode", "child"])
def test_30_day_window_includes_an_episode_exactly_30_days_before(policy: CompiledPolicy, earlier: timedelta,
                                                                  counts: bool, concern_on: str) -> None:
    """LMCP-MFH-2: the third episode triggers a MASH discussion only if the first is at most 30 days before it."""
    t0 = T("2024-06-01T10:00")
    child = Child("C1", date(2010, 1, 1), flags=("safeguarding_concerns",) if concern_on == "child" else ())
    concern = concern_on == "episode"
    episodes = [Episode(f"E{i}", "C1", t, t + HOUR, safeguarding_concerns=concern)
                for i, t in ((1, t0 - earlier), (2, t0 - 10 * DAY), (3, t0))]
    found = pick(judge(policy, t0, [child], episodes), clause="LMCP-MFH-2")
    if counts:
        (ob,) = found
        assert (ob.episode, ob.actor, ob.action, ob.modality) == ("E3", "mash", "strategy_discussion", "must")
    else:
        assert found == []


def test_30_day_window_needs_safeguarding_concerns(policy: CompiledPolicy) -> None:
    """Three episodes in 30 days without safeguarding concerns do not trigger LMCP-MFH-2."""
    t0 = T("2024-06-01T10:00")
    episodes = [Episode(f"E{i}", "C1", t0 - i * DAY, t0 - i * DAY + HOUR) for i in range(3)]
    assert pick(judge(policy, t0, [HOME], episodes), clause="LMCP-MFH-2") == []


# ---- returns, and what has not happened yet ----

@pytest.mark.parametrize("returned_after, discussion", [
    (timedelta(hours=71), False),
    (timedelta(hours=71, minutes=59), False),
    (timedelta(hours=72), True),
])
def test_return_before_72_hours_means_no_72_hour_discussion(policy: CompiledPolicy, returned_after: timedelta,
                                                            discussion: bool) -> None:
    """Elapsed time stops at the return: evaluated a month later, a child back at 71 h never reached 72 h."""
    reported = T("2024-05-01T10:00")
    result = judge(policy, reported + 30 * DAY, [HOME], [Episode("E1", "C1", reported, reported + returned_after)])
    assert bool(pick(result, clause="LMCP-MFH-1")) is discussion
    (interview,) = pick(result, action="return_interview")  # the return itself was seen
    assert interview.triggered == reported + returned_after


def test_episode_reported_after_the_evaluation_time_is_ignored(policy: CompiledPolicy, tmp_path: Path) -> None:
    """An episode reported after `at` does not exist yet: no obligations, no derived facts, no window count."""
    facts, as_of = case_from_yaml(tmp_path, """
        case: future-episode
        as_of: 2024-06-01T10:00
        children:
          - id: C1
            born: 2010-01-01
            flags: [safeguarding_concerns]
        episodes:
          - {id: E1, child: C1, reported: 2024-05-20T10:00, returned: 2024-05-20T12:00}
          - {id: E2, child: C1, reported: 2024-05-25T10:00, returned: 2024-05-25T12:00}
          - {id: E3, child: C1, reported: 2024-06-01T10:01}
    """)
    before = evaluate(policy, facts, as_of)
    assert [e.id for e in before.episodes] == ["E1", "E2"]
    assert pick(before, episode="E3") == []
    assert pick(before, clause="LMCP-MFH-2") == []  # E3 does not count towards '3 within 30 days'
    after = evaluate(policy, facts, T("2024-06-01T10:01"))  # reported exactly at `at`: it exists
    assert [e.id for e in after.episodes] == ["E1", "E2", "E3"]
    assert [o.episode for o in pick(after, clause="LMCP-MFH-2")] == ["E3"]


def test_return_after_the_evaluation_time_has_not_happened_yet(policy: CompiledPolicy, tmp_path: Path) -> None:
    """Before the recorded return the child is still missing; from it, the return obligations arise."""
    facts, _ = case_from_yaml(tmp_path, """
        case: future-return
        as_of: 2024-05-05T18:00
        children: [{id: C1, born: 2010-01-01}]
        episodes: [{id: E1, child: C1, reported: 2024-05-01T10:00, returned: 2024-05-05T14:00}]
    """)
    still_out = evaluate(policy, facts, T("2024-05-05T13:59"))
    assert pick(still_out, clause="LMCP-MFH-1")  # 99 hours missing so far
    assert pick(still_out, action="return_interview") == []
    assert pick(still_out, action="safe_and_well_check") == []
    back = evaluate(policy, facts, T("2024-05-05T14:00"))
    (interview,) = pick(back, action="return_interview")
    assert (interview.actor, interview.modality) == ("protect_team", "must")
    assert (interview.triggered, interview.due) == (T("2024-05-05T14:00"), T("2024-05-08T14:00"))


# ---- age on the day of the report ----

@pytest.mark.parametrize("reported, category, clause", [
    ("2024-06-14T23:59", "missing", "LMCP-CAT-13"),  # the day before the 14th birthday: 13
    ("2024-06-15T00:00", "absent", "LMCP-CAT-2"),    # the birthday: 14
])
def test_aged_13_is_always_missing_and_14_can_be_absent(policy: CompiledPolicy, tmp_path: Path, reported: str,
                                                         category: str, clause: str) -> None:
    """A looked after child, whereabouts known: absent from 14, but missing at 13 or under, by age on the day
    reported (not at `at`)."""
    facts, as_of = case_from_yaml(tmp_path, f"""
        case: age-boundary
        as_of: 2024-07-01T09:00
        children: [{{id: C1, born: 2010-06-15, statuses: [looked_after]}}]
        episodes: [{{id: E1, child: C1, reported: {reported}, whereabouts_known: true}}]
    """)
    (episode,) = evaluate(policy, facts, as_of).episodes
    assert (episode.category, episode.category_clause) == (category, clause)


def test_age_uses_the_london_date_of_a_time_given_in_utc(policy: CompiledPolicy) -> None:
    """23:30 UTC on 14 June is 00:30 on 15 June in London: the birthday, so the child is 14 and absent."""
    child = Child("C1", date(2010, 6, 15), ("looked_after",))
    episode = Episode("E1", "C1", datetime(2024, 6, 14, 23, 30, tzinfo=UTC), whereabouts_known=True)
    (facts,) = judge(policy, "2024-07-01T09:00", [child], [episode]).episodes
    assert facts.category == "absent"


# ---- recurrence ----

WEEKLY_REPORTED = "2024-05-01T10:00"  # LMCP-CP-1W: from 72 hours after reported, every 7 days, until returned


@pytest.mark.parametrize("at, expected", [
    ("2024-05-04T09:59", []),
    ("2024-05-04T10:00", [("2024-05-04T10:00", "2024-05-11T10:00")]),
    ("2024-05-11T09:59", [("2024-05-04T10:00", "2024-05-11T10:00")]),
    ("2024-05-11T10:00", [("2024-05-04T10:00", "2024-05-11T10:00"), ("2024-05-11T10:00", "2024-05-18T10:00")]),
    ("2024-05-18T10:00", [("2024-05-04T10:00", "2024-05-11T10:00"), ("2024-05-11T10:00", "2024-05-18T10:00"),
                          ("2024-05-18T10:00", "2024-05-25T10:00")]),
])
def test_weekly_meetings_one_per_occurrence_arisen(policy: CompiledPolicy, at: str, expected: list[tuple]) -> None:
    """A CP-plan child still missing: the series arises at the 72-hour point; meeting k is due k weeks after it."""
    result = judge(policy, at, [CP], [Episode("E1", "C1", T(WEEKLY_REPORTED))])
    found = pick(result, clause="LMCP-CP-1W")
    assert [(format_instant(o.triggered), format_instant(o.due)) for o in found] == expected
    assert [o.occurrence for o in found] == list(range(1, len(expected) + 1))
    assert {(o.actor, o.action, o.modality) for o in found} <= {("team_manager", "weekly_strategy_meeting", "must")}


def test_weekly_meetings_keep_the_wall_clock_across_a_clock_change(policy: CompiledPolicy) -> None:
    """London calendar weeks: 10:00 BST on 23 October, then 10:00 GMT on 30 October (a week and an hour)."""
    result = judge(policy, "2024-11-07T09:00", [CP], [Episode("E1", "C1", T("2024-10-20T10:00"))])
    found = [(format_instant(o.triggered), format_instant(o.due), o.status) for o in pick(result, clause="LMCP-CP-1W")]
    assert found == [("2024-10-23T10:00", "2024-10-30T10:00", "overdue"), ("2024-10-30T10:00", "2024-11-06T10:00", "overdue"),
                     ("2024-11-06T10:00", "2024-11-13T10:00", "open")]


@pytest.mark.parametrize("returned, expected", [
    ("2024-05-11T09:59", [(1, "ended")]),
    ("2024-05-11T10:00", [(1, "ended")]),                # back at the moment meeting 1 fell due: not overdue
    ("2024-05-11T10:01", [(1, "overdue"), (2, "ended")]),  # meeting 1 was missed before the return
    ("2024-05-03T10:00", []),                            # back before the 72-hour point
])
def test_weekly_meetings_end_at_the_return(policy: CompiledPolicy, returned: str, expected: list[tuple]) -> None:
    """No meeting arises at or after the return; one still to come when the child returns has ended."""
    result = judge(policy, "2024-08-01T10:00", [CP], [Episode("E1", "C1", T(WEEKLY_REPORTED), T(returned))])
    assert [(o.occurrence, o.status) for o in pick(result, clause="LMCP-CP-1W")] == expected


# ---- status from recorded actions ----

REPORTED = T("2024-05-01T10:00")  # CFM-CP-2P: inform_police within 24 hours of reported, due 2024-05-02T10:00
UNRELATED = RecordedAction("locate_child", "C1", "lead_social_worker", REPORTED + HOUR, "E1")


def police_informed(at: str, episode: str = "E1") -> RecordedAction:
    return RecordedAction("inform_police", "C1", "lead_social_worker", T(at), episode)


@pytest.mark.parametrize("at, actions, status", [
    ("2024-05-02T10:00", [UNRELATED], "open"),                                 # due now, not past
    ("2024-05-02T10:01", [UNRELATED], "overdue"),
    ("2024-05-03T10:00", [police_informed("2024-05-02T10:00")], "done"),       # done at the deadline
    ("2024-05-03T10:00", [police_informed("2024-05-02T10:01")], "done_late"),
    ("2024-05-02T12:00", [police_informed("2024-05-02T13:00")], "overdue"),    # recorded after `at`: not yet done
    ("2024-05-03T10:00", [police_informed("2024-05-01T12:00", "E9")], "overdue"),  # for another episode
    ("2024-05-03T10:00", [police_informed("2024-04-30T10:00")], "overdue"),    # before the child went missing
])
def test_status_from_recorded_actions(policy: CompiledPolicy, at: str, actions: list[RecordedAction],
                                      status: str) -> None:
    """open until due, overdue after; done by the deadline, done_late after it; only actions by `at` count."""
    episodes = [Episode("E1", "C1", REPORTED, with_parents=True), Episode("E9", "C1", T("2024-04-01T10:00"),
                                                                          T("2024-04-01T11:00"))]
    result = judge(policy, at, [CP], episodes, actions)
    (ob,) = pick(result, clause="CFM-CP-2P", episode="E1")
    assert ob.due == T("2024-05-02T10:00")
    assert ob.status == status
    done = [a.at for a in actions if a.action == "inform_police"]
    assert ob.done_at == (done[0] if status in ("done", "done_late") else None)


def test_status_without_recorded_actions(policy: CompiledPolicy) -> None:
    """A fact set that records no action still has a state for every duty: open, or overdue once due."""
    result = judge(policy, "2024-05-03T10:00", [CP], [Episode("E1", "C1", REPORTED, with_parents=True)])
    states = {o.clause: o.status for o in result.obligations}
    assert states["CFM-CP-2P"] == "overdue" and states["CFM-CP-2"] == "open"
    assert {o.status for o in result.obligations} <= {"open", "overdue"}
    (locate,) = pick(result, clause="CFM-CP-2")
    assert locate.due is None and locate.open_for == 48 * 60


def test_an_action_discharges_only_what_had_arisen(policy: CompiledPolicy) -> None:
    """A strategy discussion in hour 3 is not the 72-hour discussion (LMCP-CP-1): that one is still to be held."""
    early = RecordedAction("strategy_discussion", "C1", "team_manager", REPORTED + 3 * HOUR, "E1")
    (ob,) = pick(judge(policy, "2024-05-05T10:00", [CP], [Episode("E1", "C1", REPORTED)], [early]), clause="LMCP-CP-1")
    assert (ob.status, ob.done_at) == ("open", None)
    late = RecordedAction("strategy_discussion", "C1", "team_manager", REPORTED + 80 * HOUR, "E1")
    (ob,) = pick(judge(policy, "2024-05-05T10:00", [CP], [Episode("E1", "C1", REPORTED)], [early, late]),
                 clause="LMCP-CP-1")
    assert (ob.status, ob.done_at) == ("done", late.at)


def test_a_meeting_discharges_the_earliest_occurrence_still_owed(policy: CompiledPolicy) -> None:
    """Meeting 1 fell due on 11 May; one held on 12 May is meeting 1, late; one on 13 May is meeting 2, in time."""
    def meeting(at: str) -> RecordedAction:
        return RecordedAction("weekly_strategy_meeting", "C1", "team_manager", T(at), "E1")
    episodes = [Episode("E1", "C1", T(WEEKLY_REPORTED))]
    result = judge(policy, "2024-05-19T10:00", [CP], episodes, [meeting("2024-05-12T10:00")])
    assert [(o.occurrence, o.status) for o in pick(result, clause="LMCP-CP-1W")] == [
        (1, "done_late"), (2, "overdue"), (3, "open")]
    result = judge(policy, "2024-05-19T10:00", [CP], episodes, [meeting("2024-05-12T10:00"), meeting("2024-05-13T10:00")])
    assert [(o.occurrence, o.status) for o in pick(result, clause="LMCP-CP-1W")] == [
        (1, "done_late"), (2, "done"), (3, "open")]


# ---- order ----

def test_obligations_are_sorted_due_first(policy: CompiledPolicy) -> None:
    """Due time first (obligations without one last), then arising time, then child, episode, action, actor."""
    children = [CP, Child("C2", date(2012, 3, 1), ("section_47_enquiry",), ("cse",))]
    episodes = [Episode("E1", "C1", T("2024-03-04T08:00"), with_parents=True),
                Episode("E2", "C2", T("2024-03-06T12:00"), T("2024-03-07T09:00"))]
    obs = judge(policy, "2024-03-12T09:00", children, episodes).obligations
    dues = [o.due for o in obs]
    timed = [d for d in dues if d is not None]
    assert timed and None in dues
    assert dues == timed + [None] * (len(dues) - len(timed))
    keys = [(o.due.astimezone(UTC) if o.due else datetime.max.replace(tzinfo=UTC),
             o.triggered.astimezone(UTC) if o.triggered else datetime.max.replace(tzinfo=UTC),
             o.child, o.episode or "", o.action, o.actor, o.occurrence) for o in obs]
    assert keys == sorted(keys)
    assert {o.child for o in obs} == {"C1", "C2"}


def test_sort_order_is_by_real_time_in_the_repeated_autumn_hour(policy: CompiledPolicy) -> None:
    """01:30 BST (00:30 UTC) comes before 01:10 GMT (01:10 UTC) on 27 October, though 01:10 < 01:30 on the clock."""
    first = Episode("EB", "C1", T("2024-10-27T01:30+01:00"))
    second = Episode("EA", "C1", T("2024-10-27T01:10+00:00"))
    result = judge(policy, "2024-10-27T03:00", [HOME], [second, first])
    assert [o.episode for o in pick(result, action="assess_risk")] == ["EB", "EA"]


# ---- engine.meaning.base_facts helpers ----

@pytest.mark.parametrize("start, end, minutes", [
    ("2024-03-31T00:00", "2024-03-31T03:00", 120),   # clocks forward: 01:00-02:00 never happens
    ("2024-10-27T00:00", "2024-10-27T03:00", 240),   # clocks back: 01:00-02:00 happens twice
    ("2024-10-27T01:30+01:00", "2024-10-27T01:30+00:00", 60),  # the same wall time, an hour apart
    ("2024-03-05T10:00", "2024-03-08T09:59:59", 4319),  # whole minutes only
    ("2024-03-05T10:00", "2024-03-05T10:00", 0),
])
def test_minutes_between_counts_real_minutes(start: str, end: str, minutes: int) -> None:
    """Elapsed minutes are real minutes, whatever the clocks did."""
    assert minutes_between(T(start), T(end)) == minutes


def test_minutes_between_mixed_zones() -> None:
    """The same instant written in UTC and in London is zero minutes apart."""
    assert minutes_between(datetime(2024, 7, 1, 9, 0, tzinfo=UTC), T("2024-07-01T10:00")) == 0


@pytest.mark.parametrize("start, minutes, expected", [
    ("2024-10-25T12:00", 72 * 60, "2024-10-28T11:00"),
    ("2024-03-29T12:00", 72 * 60, "2024-04-01T13:00"),
    ("2024-03-31T00:30", 60, "2024-03-31T02:30"),   # across the spring-forward gap
    ("2024-06-01T10:00", 7 * 24 * 60, "2024-06-08T10:00"),
])
def test_add_minutes_adds_real_time_and_shows_london(start: str, minutes: int, expected: str) -> None:
    """add_minutes adds real time and gives a London time."""
    moment = add_minutes(T(start), minutes)
    assert moment.tzinfo is LONDON
    assert format_instant(moment) == expected
    assert moment == T(expected)


def test_add_minutes_into_the_repeated_hour() -> None:
    """00:30 BST + 60 minutes is 01:30 BST; + 120 minutes is 01:30 GMT, the second 01:30."""
    start = T("2024-10-27T00:30")
    assert add_minutes(start, 60).astimezone(UTC) == datetime(2024, 10, 27, 0, 30, tzinfo=UTC)
    assert add_minutes(start, 120).astimezone(UTC) == datetime(2024, 10, 27, 1, 30, tzinfo=UTC)
    assert add_minutes(start, 120).utcoffset() == timedelta(0)


@pytest.mark.parametrize("born, day, years", [
    (date(2010, 6, 15), date(2024, 6, 14), 13),
    (date(2010, 6, 15), date(2024, 6, 15), 14),
    (date(2010, 6, 15), date(2010, 6, 15), 0),
    (date(2010, 12, 31), date(2024, 1, 1), 13),
    (date(2012, 2, 29), date(2024, 2, 28), 11),
    (date(2012, 2, 29), date(2024, 2, 29), 12),   # a leap-year birthday
    (date(2012, 2, 29), date(2025, 2, 28), 12),   # no 29 February: not yet
    (date(2012, 2, 29), date(2025, 3, 1), 13),    # the birthday is taken on 1 March
])
def test_age_on_counts_whole_years_completed(born: date, day: date, years: int) -> None:
    """Age is whole years completed; a 29 February child turns a year older on 1 March in other years."""
    assert age_on(born, day) == years
