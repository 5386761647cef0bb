"""The worklist's order, filters and counts (engine/worklist.py), and `clause serve`'s refusals at start."""
from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import main
from compiler.core.london import parse_instant
from compiler.core.vocabulary import OBLIGATION_STATUSES
from engine import worklist as wl
from engine.meaning.obligations import Obligation

ROOT = Path(__file__).resolve().parent.parent

TODAY = date(2024, 6, 10)


def ob(child: str, action: str, status: str | None, due: str | None, actor: str = "police") -> Obligation:
    t = parse_instant("2024-06-01T09:00")
    return Obligation(child, "E1", action, actor, "must", t, parse_instant(due) if due else None, "X-1", None, status)


PAIRS = [("case", o) for o in (
    ob("C1", "locate_child", "done", "2024-06-02T09:00"),
    ob("C2", "inform_police", "open", "2024-06-10T18:00", "carer"),   # due today
    ob("C3", "return_interview", "overdue", "2024-06-09T09:00", "protect_team"),
    ob("C4", "strategy_discussion", "open", "2024-06-12T09:00", "team_manager"),
    ob("C5", "safe_and_well_check", "done_late", "2024-06-10T08:00"),  # due today but finished
    ob("C6", "keep_referral_open", "open", None, "team_manager"),
)]


def test_overdue_first_then_due_today_then_the_vocabulary_order() -> None:
    view = wl.build(PAIRS, wl.Filters(), TODAY)
    assert [r.obligation.child for r in view.rows] == ["C3", "C2", "C4", "C6", "C1", "C5"]
    assert view.due_today == 1 and [r.due_today for r in view.rows][:2] == [False, True]
    assert list(view.counts) == ["overdue"] + [s for s in OBLIGATION_STATUSES if s != "overdue"]
    assert view.counts == {s: {"overdue": 1, "open": 3, "done": 1, "done_late": 1}.get(s, 0) for s in wl.states()}


def test_filters_narrow_and_counts_follow_the_other_filters() -> None:
    view = wl.build(PAIRS, wl.Filters(actor="team_manager"), TODAY)
    assert {r.obligation.child for r in view.rows} == {"C4", "C6"} and view.total == 6
    view = wl.build(PAIRS, wl.Filters(state="open", due_from=date(2024, 6, 10), due_to=date(2024, 6, 11)), TODAY)
    assert [r.obligation.child for r in view.rows] == ["C2"]
    assert view.counts["done_late"] == 1  # the state filter does not change the counts, so each stays reachable
    assert [r.obligation.child for r in wl.build(PAIRS, wl.Filters(sort="child"), TODAY).rows] == \
        ["C1", "C2", "C3", "C4", "C5", "C6"]
    assert wl.build(PAIRS, wl.Filters(child="C9"), TODAY).rows == ()


def test_a_folder_with_no_recorded_action_still_has_states() -> None:
    """Every duty has a state, recorded actions or none: one with nothing recorded is open or overdue."""
    from compiler.policy import compile_policy
    from engine.evaluation import evaluate
    from facts.loader import load_path
    (case,) = load_path(ROOT / "examples" / "missing-from-home-weekend.yaml").cases
    bare = replace(case.facts, actions=())
    obs = evaluate(compile_policy(), bare, case.as_of).obligations
    view = wl.build([("c", o) for o in obs], wl.Filters(), TODAY)
    assert view.total == len(obs) > 0 and set(view.counts) == set(wl.states())
    assert {r.state for r in view.rows} <= {"open", "overdue", "ended"}


@pytest.mark.parametrize("args, message", [
    (["--host", "0.0.0.0"], "give --token"),
    (["--host", "192.168.1.5", "--token", "short"], "at least 16"),
])
def test_serve_refuses_to_start_unsafely(args: list[str], message: str) -> None:
    examples = Path(__file__).resolve().parent.parent / "examples"
    result = CliRunner().invoke(main, ["serve", str(examples), *args])
    assert result.exit_code == 2 and message in result.output


def test_serve_reports_bad_data_before_listening(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("case: x\nchildren: [\n")
    result = CliRunner().invoke(main, ["serve", str(tmp_path / "bad.yaml"), "--port", "0"])
    assert result.exit_code == 2 and "F001" in result.output and "Traceback" not in result.output
