"""The duty lifecycle beyond what a regression case can say: one duty one row, upcoming duties
(`--horizon`) on both engines, and the CLI's handling of them. The states themselves are pinned
by tests/cases (each state, discharge, weekly series) and tests/test_engine_temporal.py."""
from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import main
from compiler import ast
from compiler.core.diagnostics import ClauseError
from compiler.core.london import format_instant, parse_instant
from compiler.policy import compile_policy
from engine.backends.duck import evaluate_duck
from engine.backends.horizon import parse_horizon, upcoming
from engine.evaluation import evaluate
from facts.model import Child, Episode, FactSet
from tests.evaluated import policy as bundled_policy

T = parse_instant


@pytest.fixture(scope="module")
def policy():
    return bundled_policy()


def both(policy, facts: FactSet, at) -> list:
    """The obligations as pyDatalog gives them, checked identical to DuckDB's."""
    ref = evaluate(policy, facts, at).obligations
    ev = evaluate_duck(policy, facts, at)
    try:
        assert [o.to_json() for o in ev.obligations] == [o.to_json() for o in ref]
    finally:
        ev.close()
    return list(ref)


def test_the_ninth_episode_is_one_strategy_discussion_citing_both_rules(policy) -> None:
    """The 9th episode in 90 days, the 3rd in 30, with concerns: 3-in-30 and 9-in-90 both give the team manager
    the same discussion at the same moment: one row, `clause` the first, `clauses` both."""
    child = Child("C1", date(2010, 1, 1), ("child_in_need",), ("safeguarding_concerns",))
    start = T("2024-01-01T10:00")
    episodes = tuple(Episode(f"E{i + 1}", "C1", start + timedelta(days=10 * i), start + timedelta(days=10 * i, hours=2))
                     for i in range(9))
    obs = both(policy, FactSet((child,), episodes, ()), T("2024-03-25T10:00"))
    mine = [o for o in obs if o.episode == "E9" and o.action == "strategy_discussion" and o.actor == "team_manager"]
    assert [(o.clause, o.clauses) for o in mine] == [("LMCP-CIN-2", ("LMCP-CIN-2", "LMCP-CIN-3"))]
    assert mine[0].to_json()["clauses"] == ["LMCP-CIN-2", "LMCP-CIN-3"]


WEDNESDAY = Episode("E1", "C1", T("2024-06-05T23:00"))  # the 72-hour point: Saturday 8 June 23:00
CIN = Child("C1", date(2010, 1, 1), ("child_in_need",))


@pytest.mark.parametrize("engine", ["pydatalog", "duckdb"])
def test_upcoming_duties_are_judged_as_at_the_moment_they_arise(policy, engine: str) -> None:
    """Reported Wednesday 23:00, asked Thursday 09:00 with a 7-day horizon: the 72-hour discussion will arise
    on Saturday 23:00, a weekend, so the out-of-hours team leader will hold it; the weekly series arises with it."""
    facts, at = FactSet((CIN,), (WEDNESDAY,), ()), T("2024-06-06T09:00")
    arisen = list(evaluate(policy, facts, at).obligations)
    found = upcoming(policy, facts, at, 7 * 1440, arisen, engine)
    rows = {(o.action, o.actor, o.clause, o.exception, format_instant(o.triggered), o.status) for o in found}
    assert ("strategy_discussion", "ooh_team_leader", "LMCP-CIN-1", "LMCP-CIN-OOH", "2024-06-08T23:00", "upcoming") in rows
    assert ("weekly_strategy_meeting", "team_manager", "LMCP-CIN-1W", None, "2024-06-08T23:00", "upcoming") in rows
    assert all(o.status == "upcoming" and o.open_for is None for o in found)
    reference = upcoming(policy, facts, at, 7 * 1440, arisen, "pydatalog")
    assert [o.to_json() for o in found] == [o.to_json() for o in reference]


def test_a_horizon_lists_only_what_arises_within_it_and_assumes_the_child_stays_missing(policy) -> None:
    """Two days from Thursday 09:00 end before Saturday 23:00; a return after the evaluation time is not known yet."""
    returned = Episode("E1", "C1", WEDNESDAY.reported, T("2024-06-07T12:00"))
    facts, at = FactSet((CIN,), (returned,), ()), T("2024-06-06T09:00")
    arisen = list(evaluate(policy, facts, at).obligations)
    assert not [o for o in upcoming(policy, facts, at, 2 * 1440, arisen) if o.action == "strategy_discussion"]
    found = upcoming(policy, facts, at, 3 * 1440, arisen)
    assert [o.actor for o in found if o.action == "strategy_discussion"] == ["ooh_team_leader"]


def test_cli_horizon_lists_upcoming_duties_in_every_format(tmp_path) -> None:
    case = tmp_path / "case.yaml"
    case.write_text("""case: wednesday
as_of: 2024-06-06T09:00
children:
  - id: C1
    born: 2010-01-01
    statuses: [child_in_need]
episodes:
  - id: E1
    child: C1
    reported: 2024-06-05T23:00
""", encoding="utf-8")
    runner = CliRunner()
    table = runner.invoke(main, ["obligations", str(case), "--horizon", "7d"])
    assert table.exit_code == 0, table.output
    assert "upcoming" in table.output and "ooh_team_leader" in table.output and "Sat 08 Jun 2024 23:00" in table.output
    (run,) = json.loads(runner.invoke(main, ["obligations", str(case), "--horizon", "7d", "--format", "json"]).stdout)
    assert {"status": "upcoming", "actor": "ooh_team_leader", "triggered": "2024-06-08T23:00"}.items() <= next(
        o for o in run["obligations"] if o["action"] == "strategy_discussion").items()
    plain = runner.invoke(main, ["obligations", str(case), "--format", "json"]).stdout
    assert "upcoming" not in plain  # listed only when a horizon is asked for
    csv = runner.invoke(main, ["obligations", str(case), "--horizon", "7d", "--format", "csv", "--status", "upcoming"]).stdout
    assert csv.count("\n") > 1 and all(",upcoming," in line for line in csv.splitlines()[1:])
    bad = runner.invoke(main, ["obligations", str(case), "--horizon", "soon"])
    assert bad.exit_code == 2 and "--horizon" in bad.output and "Traceback" not in bad.output


@pytest.mark.parametrize("text, minutes", [("7d", 10080), ("48h", 2880), ("90m", 90), ("0d", None), ("d", None),
                                            ("7 d", None), ("-1d", None), ("7w", None)])
def test_parse_horizon(text: str, minutes: int | None) -> None:
    assert parse_horizon(text) == minutes


# ---- local standards ----

LOCAL = Path(__file__).resolve().parent / "data" / "policy_local_standard"


def test_a_local_standard_sets_the_due_time_only_where_the_procedure_sets_none() -> None:
    """LS-1 gives the 72-hour discussion (no time in the procedure) a day; LS-2 does not replace P-2's 24 hours."""
    policy = compile_policy(LOCAL)
    facts = FactSet((Child("C1", date(2010, 1, 1)),), (Episode("E1", "C1", T("2024-06-05T23:00")),), ())
    obs = {o.clause: o for o in both(policy, facts, T("2024-06-10T09:00"))}
    assert (format_instant(obs["P-1"].due), obs["P-1"].standard, obs["P-1"].status) == ("2024-06-09T23:00", "LS-1", "overdue")
    assert (format_instant(obs["P-2"].due), obs["P-2"].standard) == ("2024-06-06T23:00", None)
    assert obs["P-1"].to_json()["standard"] == "LS-1"
    assert not compile_policy().ast.items(ast.LocalStandard)  # the bundled policy ships none


def test_local_standard_mistakes_are_diagnosed(tmp_path: Path) -> None:
    (tmp_path / "sources").mkdir()
    (tmp_path / "sources" / "p.txt").write_text("The police are told.\n", encoding="utf-8")
    (tmp_path / "p.clause").write_text("""document PP "p" source "sources/p.txt"
local standard LS-1 "one" for strategy_discusion within 24 hours
local standard LS-2 "two" for inform_police within 12 hours
local standard LS-3 "three" for inform_police within 6 hours
section PP "p"
clause PP-1 "told"
  says "The police are told."
  then carer must inform_police
""", encoding="utf-8")
    with pytest.raises(ClauseError) as caught:
        compile_policy(tmp_path)
    found = {(d.code, d.span.line) for d in caught.value.diagnostics}
    assert {("E005", 2), ("E010", 4)} <= found
