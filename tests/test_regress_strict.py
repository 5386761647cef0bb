"""`clause test` as a tester relies on it: expectations that can check nothing are errors, one bad
file does not hide the others (JUnit included), `-k` selects, `--strict` refuses cases that expect nothing."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from click.testing import CliRunner

from cli.main import main
from tests.test_regress import cp_case, write

RUN = CliRunner()


def test_a_typo_in_not_obligations_is_an_error_with_the_nearest_names(tmp_path: Path) -> None:
    """`action: retrun_interview, actor: mahs` matched nothing, so the case passed and checked nothing."""
    case = cp_case(tmp_path, """
        not_obligations:
          - action: retrun_interview
            actor: mahs
    """)
    result = RUN.invoke(main, ["test", str(case)])
    assert result.exit_code == 2, result.output
    out = result.stdout
    lines = case.read_text().splitlines()
    action_line = next(i for i, line in enumerate(lines, 1) if "retrun_interview" in line)
    assert f"{case}:{action_line}:" in out and "F014" in out and "action 'retrun_interview'" in out
    assert "did you mean 'return_interview'?" in out
    assert f"{case}:{action_line + 1}:" in out and "actor 'mahs'" in out and "did you mean 'mash'?" in out
    assert "0 passed, 0 failed, 1 error" in out


def test_unknown_clause_and_exception_ids_are_errors(tmp_path: Path) -> None:
    case = cp_case(tmp_path, """
        obligations:
          - clause: LMCP-CPP-9
        not_obligations:
          - exception: LMCP-CP-OOHH
    """)
    out = RUN.invoke(main, ["test", str(case)]).stdout
    assert "clause or exception 'LMCP-CPP-9'" in out and "clause or exception 'LMCP-CP-OOHH'" in out
    assert "did you mean 'LMCP-CP-OOH'?" in out


def test_declared_names_are_known(tmp_path: Path) -> None:
    """Actions the policy declares (escalation_meeting) are as good as the vocabulary's."""
    case = cp_case(tmp_path, """
        not_obligations:
          - action: escalation_meeting
    """)
    assert RUN.invoke(main, ["test", str(case)]).exit_code == 0


def test_junit_is_written_when_some_case_files_are_invalid(tmp_path: Path) -> None:
    good = cp_case(tmp_path / "cases", "obligations:\n  - action: missing_cp_conference\n", "good")
    write(tmp_path / "cases" / "broken.yaml", "case: broken\nas_of: 2024-13-01T00:00\n")
    junit = tmp_path / "out" / "junit.xml"
    result = RUN.invoke(main, ["test", str(tmp_path / "cases"), "--junit", str(junit)])
    assert result.exit_code == 2
    assert "1 passed, 0 failed, 1 error" in result.stdout
    root = ET.parse(junit).getroot()
    suite = root.find("testsuite")
    assert (suite.get("tests"), suite.get("errors"), suite.get("failures")) == ("2", "1", "0")
    [error] = root.iter("error")
    assert "F005" in error.get("message") and "broken.yaml:2" in error.get("message")
    assert {tc.get("name") for tc in root.iter("testcase")} == {"good", "broken.yaml"}
    assert good.exists()


def test_k_selects_cases_by_name_or_file(tmp_path: Path) -> None:
    cp_case(tmp_path / "cases", "obligations:\n  - action: missing_cp_conference\n", "alpha")
    cp_case(tmp_path / "cases", "obligations:\n  - action: no_such_thing_derived\n".replace(
        "no_such_thing_derived", "return_interview"), "beta")  # fails: no return yet
    both = RUN.invoke(main, ["test", str(tmp_path / "cases")])
    assert both.exit_code == 1 and "1 passed, 1 failed" in both.stdout
    alpha = RUN.invoke(main, ["test", str(tmp_path / "cases"), "-k", "ALPH"])
    assert alpha.exit_code == 0 and "1 passed, 0 failed" in alpha.stdout
    none = RUN.invoke(main, ["test", str(tmp_path / "cases"), "-k", "gamma"])
    assert none.exit_code == 2 and "no case matches -k gamma" in none.stderr


def test_strict_refuses_a_case_that_expects_nothing(tmp_path: Path) -> None:
    case = write(tmp_path / "empty.yaml", """
        case: expects-nothing
        as_of: 2024-03-12T09:00
        children: [{id: C1, born: 2012-05-01}]
    """)
    assert RUN.invoke(main, ["test", str(case)]).exit_code == 0
    strict = RUN.invoke(main, ["test", str(case), "--strict"])
    assert strict.exit_code == 2 and "F015" in strict.stdout and "expects nothing" in strict.stdout


def test_a_missing_path_is_a_usage_error(tmp_path: Path) -> None:
    result = RUN.invoke(main, ["test", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 2 and "no such file or folder" in result.stderr


def test_obligations_for_a_child_not_in_the_data_is_an_error(tmp_path: Path) -> None:
    """'0 obligations' for a mistyped id reads as 'nothing is required': exit 2 with the nearest ids."""
    case = cp_case(tmp_path, "obligations:\n  - action: missing_cp_conference\n")
    result = RUN.invoke(main, ["obligations", str(case), "--child", "C9"])
    assert result.exit_code == 2 and "X001" in result.stderr and "did you mean 'C1'?" in result.stderr
    hidden = RUN.invoke(main, ["obligations", str(case), "--child", "C9", "--redact"])
    assert hidden.exit_code == 2 and "'C1'" not in hidden.stderr  # no real id in a redacted run's hint


def test_obligations_for_an_unknown_child_in_a_bulk_folder_on_either_engine(tmp_path: Path) -> None:
    from facts.bulk import write_bulk
    from facts.synth import synthesize
    write_bulk(synthesize(12, 3), tmp_path / "bulk")
    hints = set()
    for engine in ("duckdb", "pydatalog"):
        result = RUN.invoke(main, ["obligations", str(tmp_path / "bulk"), "--child", "C00001", "--engine", engine,
                                   "--at", "2025-01-01T00:00"])
        assert result.exit_code == 2 and "X001" in result.stderr, result.output
        hints.add(next(line for line in result.stderr.splitlines() if "hint" in line))
    assert len(hints) == 1 and "did you mean" in hints.pop()  # the same answer whichever engine read it


def test_junit_stays_well_formed_with_control_characters_in_names(tmp_path: Path) -> None:
    """YAML escapes can put any character in a case name; XML 1.0 cannot hold most control characters."""
    write(tmp_path / "evil.yaml", r'''
        case: "evil\x1b[2J\x07\x00name"
        as_of: 2024-03-12T09:00
        children: [{id: C1, born: 2012-05-01}]
        episodes: [{id: E1, child: C1, reported: 2024-03-04T08:00}]
        expect:
          obligations: [{action: missing_cp_conference}]
    ''')
    junit = tmp_path / "junit.xml"
    result = RUN.invoke(main, ["test", str(tmp_path / "evil.yaml"), "--junit", str(junit)])
    assert result.exit_code == 1
    root = ET.parse(junit).getroot()  # raises if not well-formed
    [case] = root.iter("testcase")
    assert case.get("name") == "evil\\x1b[2J\\x07\\x00name"


def test_diff_markdown_escapes_html_and_markdown(tmp_path: Path) -> None:
    from engine.meaning.obligations import Obligation
    from engine.regression.diff import CaseDiff, Change, PolicyDiff, render_markdown
    ob = Obligation("<b onmouseover=x>C1</b>", None, "locate_child", "police", "must", None, None, "[X](javascript:y)")
    d = PolicyDiff("<img src=x onerror=alert(1)>", "head`x",
                   (CaseDiff("<script>alert(1)</script>", "a.yaml", "t", (Change("added", None, ob),)),))
    md = render_markdown(d)
    assert "`<img src=x onerror=alert(1)>`" in md  # in a code span: shown, never rendered
    assert "<script>" not in md and "<b " not in md
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in md and "\\[X\\](javascript:y)" in md
    assert "`` head`x ``" in md


def test_a_misspelt_recorded_action_makes_the_case_an_error_where_it_is_written(tmp_path: Path) -> None:
    """A recorded 'retrun_interview' would discharge nothing, so the case would test an interview never done;
    the other case in the folder still runs."""
    good = cp_case(tmp_path, "obligations:\n  - action: missing_cp_conference\n", "good")
    bad = write(tmp_path / "bad.yaml", good.read_text().replace("case: good", "case: bad") + """actions:
  - action: retrun_interview
    child: C1
    by: protect_team
    at: 2024-03-05T09:00
""")
    result = RUN.invoke(main, ["test", str(tmp_path)])
    assert result.exit_code == 2, result.output
    line = bad.read_text().splitlines().index("  - action: retrun_interview") + 1
    assert f"{bad}:{line}:13: error[F014]: recorded action names action 'retrun_interview'" in result.stdout
    assert "did you mean 'return_interview'?" in result.stdout and "1 passed, 0 failed, 1 error" in result.stdout
