"""`clause obligations`: the table, JSON and CSV a practitioner reads; filters; --at; bulk; bad input; -o."""
from __future__ import annotations

import csv
import io
import json
import re
import textwrap
from datetime import date, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from cli.main import main
from facts.bulk import write_bulk
from facts.model import Child, Episode, FactSet, RecordedAction
from compiler.core.london import parse_instant

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "cp-plan-missing-with-parents.yaml"  # the example these tests pin down
EXAMPLE = "cp-plan-missing-with-parents-eight-days"
VOCABULARY_FIELDS = ("child", "episode", "action", "actor", "modality", "triggered", "due", "clause", "status")
MODALITIES = {"must", "should", "consider", "good_practice"}
STATUSES = {"upcoming", "open", "overdue", "done", "done_late", "ended"}

TWO_CHILDREN = """
case: two-children
as_of: 2024-03-12T09:00
children:
  - id: C1
    born: 2012-05-01
    statuses: [child_protection_plan]
  - id: C2
    born: 2009-02-10
episodes:
  - {id: E1, child: C1, reported: 2024-03-04T08:00, with_parents: true}
  - {id: E2, child: C2, reported: 2024-03-05T10:00}
actions:
  - {action: inform_police, child: C1, episode: E1, by: lead_social_worker, at: 2024-03-04T12:00}
"""


def clause(*args: str) -> Result:
    """Run `clause ARGS` in-process."""
    return CliRunner().invoke(main, list(args))


def ok(*args: str) -> Result:
    """Run `clause ARGS`, which must succeed."""
    result = clause(*args)
    assert result.exit_code == 0, (result.output, result.exception)
    return result


def as_json(*args: str) -> list[dict]:
    return json.loads(ok(*args, "--format", "json").stdout)


def write_case(tmp_path: Path, text: str, name: str = "case.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def table_rows(output: str) -> list[list[str]]:
    """The rows of a table's body, split into cells (cells hold no double spaces)."""
    rows = []
    for line in output.splitlines():
        cells = [c for c in line.strip().split("  ") if c]
        if line.startswith("  ") and cells and cells[0] not in ("due",) and not set(line.strip()) <= {"-", " "}:
            rows.append([c.strip() for c in cells])
    return rows


def assert_invalid(result: Result, *needles: str) -> None:
    """Exit 2, every needle in the message, and no traceback."""
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)
    for needle in needles:
        assert needle in result.output
    assert "Traceback" not in result.output


# ---- the table ----

def test_table_lists_the_example_case_obligations() -> None:
    """`clause obligations examples`: the case heading, the expected obligations, overdue ones marked OVERDUE."""
    out = ok("obligations", str(EXAMPLES)).stdout
    assert out.startswith(f"{EXAMPLE}: as at Tue 12 Mar 2024 09:00")
    assert "episodes: E1 missing" in out
    rows = {(r[4], r[5], r[-1]): r for r in table_rows(out)}  # (action, actor, clause)
    conference = rows[("missing_cp_conference", "iro", "LMCP-CPP-2")]
    assert conference[1] == "open 1 day 1 hour"  # arose Mon 11 Mar 08:00, no due time: how long it has been open
    assert rows[("cp_conference", "safeguarding_unit", "CFM-CP-3")][1] == "OVERDUE"
    assert rows[("inform_police", "lead_social_worker", "CFM-CP-2P")][:2] == ["Tue 05 Mar 2024 08:00", "OVERDUE"]
    assert rows[("strategy_discussion", "team_manager", "LMCP-CPP-1")][1] == "done"
    # the discussion on day 2 is not the 72-hour one: that arose afterwards and is still open
    assert rows[("strategy_discussion", "team_manager", "LMCP-CP-1")][1] == "open 5 days 1 hour"
    assert rows[("weekly_strategy_meeting #2", "team_manager", "LMCP-CPP-3")][:2] == ["Mon 18 Mar 2024 08:00", "open 1 day 1 hour"]
    assert rows[("weekly_strategy_meeting #1", "team_manager", "LMCP-CPP-3")][:2] == ["Mon 11 Mar 2024 08:00", "OVERDUE"]
    assert "return_interview" not in out  # the case's not_obligations
    assert "overdue" not in out  # overdue is only ever shown in capitals


def test_table_rows_are_due_first() -> None:
    """Rows with a due time come first, earliest first; rows with none ('-') last."""
    rows = table_rows(ok("obligations", str(EXAMPLES)).stdout)
    dues = [r[0] for r in rows]
    timed = [parse_instant(_from_table(d)) for d in dues if d != "-"]
    assert timed == sorted(timed) and len(timed) < len(dues)
    assert dues[len(timed):] == ["-"] * (len(dues) - len(timed))


def _from_table(cell: str) -> str:
    """'Tue 05 Mar 2024 08:00' -> '2024-03-05T08:00'."""
    return datetime.strptime(cell, "%a %d %b %Y %H:%M").strftime("%Y-%m-%dT%H:%M")


# ---- JSON and CSV ----

def test_json_has_the_vocabulary_fields() -> None:
    """--format json: one entry per case, with as_of, derived episodes and obligations in vocabulary terms."""
    (run,) = as_json("obligations", str(EXAMPLES))
    assert (run["case"], run["as_of"]) == (EXAMPLE, "2024-03-12T09:00")
    assert run["episodes"] == [{"id": "E1", "child": "C1", "category": "missing", "risk": None}]
    obligations = run["obligations"]
    assert obligations
    for ob in obligations:
        assert set(VOCABULARY_FIELDS) <= set(ob)
        assert ob["modality"] in MODALITIES and ob["status"] in STATUSES
        for field in ("triggered", "due"):
            if ob[field] is not None:
                parse_instant(ob[field])
    assert {"child": "C1", "episode": "E1", "action": "missing_cp_conference", "actor": "iro", "modality": "must",
            "triggered": "2024-03-11T08:00", "due": None, "clause": "LMCP-CPP-2", "clauses": ["LMCP-CPP-2"],
            "exception": None, "status": "open", "open_for": 1500, "standard": None} in obligations
    weekly = [ob for ob in obligations if ob["action"] == "weekly_strategy_meeting"]
    assert [ob["occurrence"] for ob in weekly] == [1, 2]


def test_csv_has_a_header_and_the_same_rows_as_json() -> None:
    """--format csv: a header naming the fields, then one row per obligation, in the JSON's order."""
    text = ok("obligations", str(EXAMPLES), "--format", "csv").stdout
    header = text.splitlines()[0].split(",")
    assert header[0] == "case" and set(VOCABULARY_FIELDS) <= set(header)
    rows = list(csv.DictReader(io.StringIO(text)))
    (run,) = as_json("obligations", str(EXAMPLES))
    assert [(r["case"], r["action"], r["clause"], r["status"]) for r in rows] == \
        [(EXAMPLE, o["action"], o["clause"], o["status"]) for o in run["obligations"]]
    assert {r["due"] for r in rows if r["action"] == "missing_cp_conference"} == {""}


# ---- filters and --at ----

def test_child_filter(tmp_path: Path) -> None:
    """--child keeps that child's obligations, all of them, and nothing else."""
    path = write_case(tmp_path, TWO_CHILDREN)
    (everyone,) = as_json("obligations", str(path))
    (c2,) = as_json("obligations", str(path), "--child", "C2")
    assert {o["child"] for o in everyone["obligations"]} == {"C1", "C2"}
    assert c2["obligations"] == [o for o in everyone["obligations"] if o["child"] == "C2"]
    assert c2["obligations"]
    out = ok("obligations", str(path), "--child", "C2").stdout
    assert {r[2] for r in table_rows(out)} == {"C2"}


def test_child_filter_on_a_folder_of_cases_shows_only_the_cases_holding_the_child() -> None:
    """The other cases were listed too, each as an empty table: a reader took them for cases of that child."""
    every = as_json("obligations", str(ROOT / "examples"))
    c3 = as_json("obligations", str(ROOT / "examples"), "--child", "C3")
    holding = [run for run in every if any(o["child"] == "C3" for o in run["obligations"])]
    assert len(every) > len(c3) == len(holding) == 1 and c3[0]["case"] == holding[0]["case"]
    assert ok("obligations", str(ROOT / "examples"), "--child", "C3").stdout.count(" as at ") == 1


@pytest.mark.parametrize("engine", ["pydatalog", "duckdb"])
@pytest.mark.parametrize("redact", [[], ["--redact"]])
def test_child_filter_shows_only_that_childs_episodes(tmp_path: Path, engine: str, redact: list[str]) -> None:
    """--child: the table's heading and the JSON list only that child's episodes (they listed every
    episode of the input: a whole authority's, for one child's worklist), a case file and a bulk folder alike."""
    from facts.synth import synthesize
    write_bulk(synthesize(12, 3), tmp_path / "bulk")
    case = write_case(tmp_path, TWO_CHILDREN)
    for path, child, at in ((case, "C2", []), (tmp_path / "bulk", "C000003", ["--at", "2025-01-01T00:00"])):
        args = ("obligations", str(path), "--engine", engine, *at, *redact)
        (everyone,) = as_json(*args)
        (mine,) = as_json(*args, "--child", child)
        shown = {o["child"] for o in mine["obligations"]}
        assert len(shown) == 1 and mine["obligations"]
        assert mine["episodes"] == [e for e in everyone["episodes"] if e["child"] in shown]
        assert len(mine["episodes"]) < len(everyone["episodes"])
        heading = ok(*args, "--child", child).stdout.splitlines()[0]
        assert heading.endswith("; episodes: " + ", ".join(
            f"{e['id']} {e['category'] or '?'}{', risk ' + e['risk'] if e['risk'] else ''}" for e in mine["episodes"]))


def test_status_filter() -> None:
    """--status overdue keeps exactly the overdue obligations."""
    (everyone,) = as_json("obligations", str(EXAMPLES))
    (overdue,) = as_json("obligations", str(EXAMPLES), "--status", "overdue")
    assert {o["status"] for o in everyone["obligations"]} > {"overdue"}
    assert overdue["obligations"] == [o for o in everyone["obligations"] if o["status"] == "overdue"]
    assert overdue["obligations"]


@pytest.mark.parametrize("engine", ["pydatalog", "duckdb"])
def test_a_status_filter_matching_nothing_keeps_the_tables_columns(engine: str) -> None:
    """No duty ended: the table is empty but still has the status column (it once vanished with the rows)."""
    lines = ok("obligations", str(EXAMPLES), "--status", "ended", "--engine", engine).stdout.splitlines()
    assert "0 obligations" in lines[0] and len(lines) == 3
    assert lines[1].split() == ["due", "status", "child", "episode", "action", "actor", "modality", "triggered",
                                "clause"]


def test_status_filter_rejects_an_unknown_status() -> None:
    """--status takes only the four statuses."""
    assert_invalid(clause("obligations", str(EXAMPLES), "--status", "late"), "--status", "late")


def test_at_overrides_the_case_as_of() -> None:
    """--at judges the case at another moment: 2 days after the report there is no conference yet."""
    (run,) = as_json("obligations", str(EXAMPLES), "--at", "2024-03-06T09:00")
    assert run["as_of"] == "2024-03-06T09:00"
    actions = {o["action"] for o in run["obligations"]}
    assert "inform_police" in actions
    assert not actions & {"missing_cp_conference", "cp_conference"}
    weekly = [(o["occurrence"], o["due"], o["status"]) for o in run["obligations"] if o["action"] == "weekly_strategy_meeting"]
    assert weekly == [(1, "2024-03-11T08:00", "open")]  # the series arises with the first discussion, due a week on
    out = ok("obligations", str(EXAMPLES), "--at", "2024-03-06T09:00").stdout
    assert out.startswith(f"{EXAMPLE}: as at Wed 06 Mar 2024 09:00")


@pytest.mark.parametrize("engine", ["pydatalog", "duckdb"])
def test_a_heading_counts_more_than_twelve_episodes_rather_than_list_them(tmp_path: Path, engine: str) -> None:
    """A bulk folder's table began with every episode on one line (576 for a 200-child year)."""
    T = parse_instant
    def folder(n: int) -> str:
        facts = FactSet((Child("C1", date(2012, 5, 1), ("looked_after",)),),
                        tuple(Episode(f"E{i:02}", "C1", T(f"2024-03-{i + 1:02}T08:00"), T(f"2024-03-{i + 1:02}T09:00"))
                              for i in range(n)))
        write_bulk(facts, tmp_path / str(n))
        return str(tmp_path / str(n))
    at = ("--at", "2024-04-01T09:00", "--engine", engine)
    many = ok("obligations", folder(13), *at).stdout.splitlines()[0]
    assert many.endswith("; 13 episodes (--format json lists them)") and "E00" not in many
    assert ok("obligations", folder(12), *at).stdout.splitlines()[0].endswith("; episodes: E00 missing, " + ", ".join(
        f"E{i:02} missing" for i in range(1, 12)))


def test_bulk_folder_with_at(tmp_path: Path) -> None:
    """A bulk CSV folder is judged as at --at, as one run named 'bulk'."""
    T = parse_instant
    facts = FactSet(
        (Child("C1", date(2012, 5, 1), ("child_protection_plan",)), Child("C2", date(2009, 2, 10))),
        (Episode("E1", "C1", T("2024-03-04T08:00"), with_parents=True),
         Episode("E2", "C2", T("2024-03-05T10:00"), T("2024-03-06T10:00"))),
        (RecordedAction("inform_police", "C1", "lead_social_worker", T("2024-03-04T12:00"), "E1"),),
    )
    folder = tmp_path / "extract"
    write_bulk(facts, folder)
    (early,) = as_json("obligations", str(folder), "--at", "2024-03-05T09:00")
    (late,) = as_json("obligations", str(folder), "--at", "2024-03-12T09:00")
    assert (early["case"], early["as_of"], late["as_of"]) == ("bulk", "2024-03-05T09:00", "2024-03-12T09:00")
    assert [e["id"] for e in early["episodes"]] == ["E1"]  # E2 not yet reported
    assert [e["id"] for e in late["episodes"]] == ["E1", "E2"]
    assert {o["child"] for o in late["obligations"]} == {"C1", "C2"}
    assert "missing_cp_conference" not in {o["action"] for o in early["obligations"]}
    assert "missing_cp_conference" in {o["action"] for o in late["obligations"]}
    police = [o for o in late["obligations"] if o["action"] == "inform_police" and o["clause"] == "CFM-CP-2P"]
    assert [o["status"] for o in police] == ["done"]


def test_a_table_judged_before_some_episodes_is_the_same_on_both_engines(tmp_path: Path) -> None:
    """DuckDB's heading counted the episodes not yet reported ('864 episodes' where pyDatalog said 353)."""
    from facts.synth import synthesize
    write_bulk(synthesize(150, 3), tmp_path / "bulk")
    for at in ("2024-06-01T00:00", "2023-06-01T00:00"):
        tables = [clause("obligations", str(tmp_path / "bulk"), "--at", at, "--engine", e).stdout
                  for e in ("pydatalog", "duckdb")]
        assert tables[0] == tables[1] and tables[0].count("\n") > 0, at
    assert "episodes" not in tables[0].splitlines()[0]  # judged before every episode: none to count


@pytest.mark.parametrize("engine", ["pydatalog", "duckdb"])
def test_a_folder_judged_before_its_episodes_says_so(tmp_path: Path, engine: str) -> None:
    """Judged before an episode was reported, a folder gave it no duty without a word (an --at a year early
    showed an empty worklist): F021 counts them, a warning, and the answer is still given."""
    T = parse_instant
    write_bulk(FactSet((Child("C1", date(2012, 5, 1)), Child("C2", date(2010, 1, 1))),
                       (Episode("E1", "C1", T("2024-03-04T08:00")), Episode("E2", "C2", T("2024-03-05T10:00")),
                        Episode("E3", "C2", T("2024-02-01T10:00"), T("2024-02-01T12:00")))), tmp_path / "bulk")
    args = ("obligations", str(tmp_path / "bulk"), "--engine", engine, "--format", "csv")
    early = clause(*args, "--at", "2024-03-04T09:00")
    assert early.exit_code == 0 and early.stdout.count("\n") > 1  # E1 and E3's duties
    assert (f"{tmp_path / 'bulk'}: warning[F021]: 1 episode reported after 2024-03-04T09:00, the time judged: "
            "as yet it gives no duty") in early.stderr
    assert "give --at a later time" in early.stderr
    late = clause(*args, "--at", "2024-04-01T00:00")
    assert late.exit_code == 0 and "F021" not in late.stderr
    for horizon in ([], ["--horizon", "7d"]):  # --child counts that child's alone, after the child is known
        mine = clause(*args, "--at", "2024-03-04T09:00", "--child", "C1", *horizon)
        assert mine.exit_code == 0 and "F021" not in mine.stderr
        theirs = clause(*args, "--at", "2024-03-04T09:00", "--child", "C2", *horizon)
        assert "warning[F021]: 1 episode reported" in theirs.stderr
        nobody = clause(*args, "--at", "2024-03-04T09:00", "--child", "C9", *horizon)
        assert nobody.exit_code == 2 and "X001" in nobody.stderr and "F021" not in nobody.stderr, horizon


# ---- invalid input: exit 2, a message that says where, no traceback ----

@pytest.mark.parametrize("engine", ["pydatalog", "duckdb"])
def test_a_misspelt_recorded_action_is_refused_not_read_as_a_duty_undone(tmp_path: Path, engine: str) -> None:
    """'retrun_interview' discharges nothing, so the interview it records would show as overdue: F014 where it is
    written, with the nearest action, from a case file and from a bulk folder's actions.csv, on either engine."""
    case = (ROOT / "examples" / "looked-after-returned.yaml").read_text(encoding="utf-8")
    lines = case.splitlines()
    (i,) = [i for i, x in enumerate(lines) if x == "  - action: return_interview"]  # the recorded one
    lines[i], line = "  - action: retrun_interview", i + 1
    bad = write_case(tmp_path, "\n".join(lines) + "\n")
    assert_invalid(clause("obligations", str(bad), "--engine", engine),
                   f"{bad}:{line}:5: error[F014]: recorded action names action 'retrun_interview', which the policy "
                   "does not have", "did you mean 'return_interview'?")
    T = parse_instant
    folder = tmp_path / "bulk"
    write_bulk(FactSet((Child("C1", date(2012, 5, 1)),), (Episode("E1", "C1", T("2024-03-04T08:00")),),
                       tuple(RecordedAction(a, "C1", "police", T("2024-03-04T12:00"), "E1")
                             for a in ("assess_risk", "safe_and_wel_check", "safe_and_wel_check"))), folder)
    assert_invalid(clause("obligations", str(folder), "--engine", engine, "--at", "2024-03-05T09:00"),
                   f"{folder / 'actions.csv'}:3:1: error[F014]: recorded action names action 'safe_and_wel_check', "
                   "which the policy does not have (and 1 more record naming it)", "did you mean 'safe_and_well_check'?")


def test_unknown_status_in_a_case_file(tmp_path: Path) -> None:
    """An unknown status names the file, line and column, the value, and a suggestion."""
    path = write_case(tmp_path, """
        case: bad
        as_of: 2024-03-12T09:00
        children:
          - id: C1
            born: 2012-05-01
            statuses: [child_protection_pln]
    """)
    result = clause("obligations", str(path))
    assert_invalid(result, f"{path}:6:16", "F003", "child_protection_pln", "child_protection_plan")
    assert result.stdout == ""


def test_missing_file() -> None:
    """A path that does not exist is named in the message."""
    result = clause("obligations", "no/such/case.yaml")
    assert_invalid(result, "no/such/case.yaml", "F011")


@pytest.mark.parametrize("value, words", [
    ("yesterday", "expected a date and time like 2024-03-08T17:30"),
    ("2024-13-01T00:00", "not a real date and time"),
    ("2024-03-12", "only a date"),
])
def test_bad_at(value: str, words: str) -> None:
    """A bad --at is refused before anything is evaluated, naming the option and the value."""
    assert_invalid(clause("obligations", str(EXAMPLES), "--at", value), "--at", value, words)


# ---- -o ----

@pytest.mark.parametrize("fmt", ["table", "json", "csv"])
def test_output_file(tmp_path: Path, fmt: str) -> None:
    """-o writes what would have been printed to the file (folders created), and prints nothing."""
    target = tmp_path / "reports" / f"obligations.{fmt}"
    result = ok("obligations", str(EXAMPLES), "--format", fmt, "-o", str(target))
    assert result.stdout == ""
    assert target.read_text(encoding="utf-8") == ok("obligations", str(EXAMPLES), "--format", fmt).stdout
    assert "missing_cp_conference" in target.read_text(encoding="utf-8")


def test_a_reader_that_stops_early_ends_the_command_quietly(tmp_path: Path) -> None:
    """`clause obligations FOLDER | head`: "error: Broken pipe" was printed when head stopped reading."""
    import subprocess
    import sys
    facts = FactSet((Child("C1", date(2012, 5, 1), ("looked_after",)),),
                    tuple(Episode(f"E{i:03}", "C1", parse_instant("2024-03-01T08:00")) for i in range(60)))
    write_bulk(facts, tmp_path / "in")
    proc = subprocess.Popen([sys.executable, "-m", "cli.main", "obligations", str(tmp_path / "in"), "--format", "json",
                             "--engine", "duckdb", "--at", "2024-04-01T09:00"], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    assert proc.stdout.read(10) == b'[\n  {\n    '
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait() == 141 and "error" not in err and "Traceback" not in err, err


@pytest.mark.parametrize("horizon", [(), ("--horizon", "7d")])
def test_a_folder_without_at_is_judged_now_and_says_when(tmp_path: Path, horizon: tuple[str, ...]) -> None:
    """A bulk folder has no as_of: without --at it is judged now, and stderr says at what minute (a CSV shows
    no time, and its states depend on it); with --at nothing is said."""
    from engine.backends.batch import now
    facts = FactSet((Child("C1", date(2012, 5, 1), ("looked_after",)),),
                    (Episode("E1", "C1", parse_instant("2024-03-01T08:00")),))
    write_bulk(facts, tmp_path / "in")
    before = now()
    result = ok("obligations", str(tmp_path / "in"), "--format", "csv", *horizon)
    said = re.search(r"judged as at (\S+) \(now; --at gives another time\)", result.stderr)
    assert said and before <= parse_instant(said.group(1)) <= now(), result.stderr
    fixed = ok("obligations", str(tmp_path / "in"), "--format", "csv", "--at", "2024-03-02T08:00", *horizon)
    assert "judged as at" not in fixed.stderr
