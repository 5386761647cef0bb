"""`clause report`: the compliance figures equal `clause obligations` on the same data; formats; measures; errors.

The synthetic year's tally is computed once and read by every format (`tallies`), but for one HTML report
made afresh to show the whole command is deterministic."""
from __future__ import annotations

import csv
import io
import json
from collections import Counter
from datetime import date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Callable, Iterator

import pytest
from click.testing import CliRunner

from cli.main import main
from compiler.core.london import parse_instant, utc
from compiler.core.vocabulary import OBLIGATION_STATUSES
from compiler.policy import CompiledPolicy
from engine import compliance
from engine.backends import partition
from engine.meaning.base_facts import window_start
from facts.bulk import write_bulk
from facts.synth import synthesize
from tests.loads import LARGE

PERIOD = ["--from", "2024-01-01", "--to", "2024-12-31"]  # the synthetic year
AT = "2025-01-01T00:00"
# The year (children, seed): make test's is small for its pyDatalog run and still has what each measure counts
# (other authorities' children, repeats in 30 and in 90 days: guarded below); make fuzz's is twice the size.
YEAR = (50, 11) if LARGE else (25, 12)


@pytest.fixture(scope="module", autouse=True)
def tallies() -> Iterator[dict]:
    """`clause report`'s compliance tally (a DuckDB evaluation of the year, about a second), computed once per
    input, period and renaming and shared by the formats: a pure function of those, and the formats only
    render it. The dict is handed out so a test can empty it and have the command compute afresh."""
    real, seen = compliance.compute, {}

    def compute(policy: CompiledPolicy, facts: str, start: date, end: date, at: datetime | None = None,
                rename: Callable | None = None, rename_episode: Callable | None = None) -> compliance.Compliance:
        key = (policy.root, str(facts), start, end, at, rename, rename_episode)  # `facts`: a path here
        if key not in seen:
            seen[key] = real(policy, facts, start, end, at, rename, rename_episode)
        return seen[key]
    with pytest.MonkeyPatch.context() as m:
        m.setattr(compliance, "compute", compute)
        yield seen


@pytest.fixture(scope="module")
def year(tmp_path_factory) -> tuple[Path, object]:
    folder = tmp_path_factory.mktemp("report") / "bulk"
    facts = synthesize(*YEAR)
    write_bulk(facts, folder)
    return folder, facts


def _run(*args: str) -> str:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.fixture(scope="module")
def report(year) -> dict:
    return json.loads(_run("report", str(year[0]), *PERIOD, "--format", "json"))


def test_the_report_matches_clause_obligations(year, report: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every (action, clause, actor, state) count, from the reference engine's obligations for the same data."""
    # pyDatalog evaluates a bulk folder in chunks of children (100 by default: the year in one); chunks of 5
    # cost about a third less and give the same obligations (a child's duties are its own: test_scale_differential)
    monkeypatch.setattr(partition, "evaluate_partitioned", partial(partition.evaluate_partitioned, size=5))
    out = json.loads(_run("obligations", str(year[0]), "--at", AT, "--format", "json", "--engine", "pydatalog"))
    lo, hi = parse_instant("2024-01-01T00:00"), parse_instant(AT)
    arisen = [o for o in out[0]["obligations"]
              if o["triggered"] and utc(lo) <= utc(parse_instant(o["triggered"])) < utc(hi)]
    expected = Counter((o["action"], o["clause"], o["actor"], o["status"]) for o in arisen)
    got = Counter({(t["action"], t["clause"], t["actor"], s): n for t in report["by_action_clause_actor"]
                   for s, n in t["counts"].items() if n})
    assert report["as_of"] == AT and report["states"] == list(OBLIGATION_STATUSES)
    assert got == expected and report["total"]["arisen"] == len(arisen) > 100
    overdue = [(o["child"], o["action"], o["due"]) for o in arisen if o["status"] == "overdue"]
    assert sorted(overdue) == sorted((o["child"], o["action"], o["due"]) for o in report["overdue"])
    assert sum(sum(m["counts"].values()) for m in report["months"]) == len(arisen)
    assert [m["month"] for m in report["months"]] == [f"2024-{m:02d}" for m in range(1, 13)]
    for t in report["by_action"]:
        assert t["rates"]["overdue"] == round(t["counts"]["overdue"] / t["arisen"], 4)


def test_the_missing_children_measures(year, report: dict) -> None:
    """Repeat missing, return interviews within 72 hours and other authorities' children, counted from the facts."""
    facts = year[1]
    lo, hi = parse_instant("2024-01-01T00:00"), parse_instant(AT)
    inside = lambda t: utc(lo) <= utc(t) < utc(hi)  # noqa: E731
    seen = [e for e in facts.episodes if inside(e.reported)]
    assert report["episodes"] == len(seen) and report["children"] == len({e.child for e in seen})
    for measure in report["repeat_missing"]:
        n, days = measure["episodes"], measure["days"]
        hit = {e.child for e in seen
               if sum(1 for o in facts.episodes if o.child == e.child
                      and utc(window_start(e.reported, days * 1440)) <= utc(o.reported) <= utc(e.reported)) >= n}
        assert measure["children"] == len(hit)
    assert [(m["episodes"], m["days"]) for m in report["repeat_missing"]] == [(3, 30), (9, 90)]
    assert all(m["children"] > 0 for m in report["repeat_missing"])  # the year has repeats to count
    ola = {c.id for c in facts.children if c.responsible_authority != "liverpool"}
    assert ola & {e.child for e in seen}  # and other authorities' children missing in it
    assert report["other_authority"] == {"children": len({e.child for e in seen if e.child in ola}),
                                         "episodes": sum(e.child in ola for e in seen)}
    r = report["return_interviews"]
    assert r["returned"] == r["within_72_hours"] + r["later"] + r["not_recorded"] > 0
    assert r["returned"] <= sum(1 for e in facts.episodes if e.returned and inside(e.returned))
    firsts = []
    for e in facts.episodes:
        if e.returned and inside(e.returned):
            times = [a.at for a in facts.actions if a.child == e.child and a.action == "return_interview"
                     and a.episode in (None, e.id) and utc(e.returned) <= utc(a.at) <= utc(hi)]
            firsts.append(min(times, key=utc) if times else None)
    on_time = [f for f, e in zip(firsts, [e for e in facts.episodes if e.returned and inside(e.returned)])
               if f is not None and utc(f) <= utc(e.returned) + timedelta(hours=72)]
    assert r["within_72_hours"] <= len(on_time)  # only missing episodes (not absences) are measured


def test_html_and_csv(year, report: dict, tmp_path: Path, tallies: dict) -> None:
    page = tmp_path / "r.html"
    _run("report", str(year[0]), *PERIOD, "-o", str(page))
    html = page.read_text()
    assert html.count('<img class="chart" src="data:image/svg+xml;base64,') == 2
    assert "<script" not in html and "http://" not in html.replace("http://www.w3.org", "")
    tallies.clear()  # the second report evaluates and tallies the year again, as a fresh command would
    again = tmp_path / "r2.html"
    _run("report", str(year[0]), *PERIOD, "-o", str(again))
    assert again.read_bytes() == page.read_bytes()  # charts included: deterministic
    assert len(tallies) == 1  # made again by the command (the formats below read this one)
    rows = list(csv.DictReader(io.StringIO(_run("report", str(year[0]), *PERIOD, "--format", "csv"))))
    assert len(rows) == len(report["by_action_clause_actor"]) + 1 and rows[-1]["action"] == "(all)"
    assert int(rows[-1]["arisen"]) == report["total"]["arisen"]
    assert int(rows[-1]["overdue"]) == report["total"]["counts"]["overdue"]


def test_redacted_report_names_no_child(year) -> None:
    text = _run("report", str(year[0]), *PERIOD, "--format", "json", "--redact")
    assert "C0000" not in text and json.loads(text)["overdue"][0]["child"].startswith("child-")


def test_cases_from_several_files_keep_their_ids_apart(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parent.parent
    data = json.loads(_run("report", str(root / "examples"), "--from", "2024-01-01", "--to", "2024-12-31",
                           "--at", "2024-06-09T10:00", "--format", "json"))
    assert data["total"]["arisen"] > 0 and all("/" in o["child"] for o in data["overdue"])


@pytest.mark.parametrize("args, message", [
    (["--from", "2024-05-01", "--to", "2024-04-01"], "before it starts"),
    (["--from", "2024-13-01", "--to", "2024-04-01"], "YYYY-MM-DD"),
])
def test_bad_periods_are_refused(year, args: list[str], message: str) -> None:
    result = CliRunner().invoke(main, ["report", str(year[0]), *args])
    assert result.exit_code == 2 and message in result.output


def test_bad_data_gets_diagnostics(tmp_path: Path) -> None:
    (tmp_path / "children.csv").write_text("id,born\nC1,not-a-date\n")
    (tmp_path / "episodes.csv").write_text("id,child,reported\nE1,C1,2024-01-01T10:00\n")
    result = CliRunner().invoke(main, ["report", str(tmp_path), *PERIOD])
    assert result.exit_code == 2 and "children.csv" in result.output and "Traceback" not in result.output


def test_a_report_judged_before_some_of_its_episodes_says_how_many(year) -> None:
    """Judged mid-period, the episodes reported after the time judged went uncounted without a word: F021
    counts those of the period (one reported after the period is no concern of its report)."""
    folder, facts = year
    at = "2024-07-01T00:00"
    later = sum(1 for e in facts.episodes if utc(e.reported) > utc(parse_instant(at)))
    assert later > 0
    result = CliRunner().invoke(main, ["report", str(folder), *PERIOD, "--at", at, "--format", "json"])
    assert result.exit_code == 0
    assert f"warning[F021]: {later:,} episode{'s' * (later != 1)} reported after {at}, the time judged" in result.stderr
    first_half = CliRunner().invoke(main, ["report", str(folder), "--from", "2024-01-01", "--to", "2024-06-30",
                                           "--at", at, "--format", "json"])
    assert first_half.exit_code == 0 and "F021" not in first_half.stderr
