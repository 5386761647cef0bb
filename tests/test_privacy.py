"""Privacy and limits: --redact pseudonymises children; errors never repeat personal data; oversized input is refused."""
from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from cli.main import main
from engine.output.redact import pseudonym

CASE = "examples/cp-plan-missing-with-parents.yaml"


def test_obligations_redacted_in_every_format() -> None:
    runner = CliRunner()
    for fmt in ("table", "json", "csv"):
        out = runner.invoke(main, ["obligations", CASE, "--redact", "--format", fmt]).stdout
        assert "C1" not in out.replace("LMCP", "").replace("CFM", "")
        assert pseudonym("C1") in out
    data = json.loads(runner.invoke(main, ["obligations", CASE, "--redact", "--format", "json"]).stdout)
    assert {o["child"] for o in data[0]["obligations"]} == {pseudonym("C1")}


def test_numeric_ids_are_redacted_as_data_not_text(tmp_path: Path) -> None:
    case = tmp_path / "one.yaml"
    case.write_text(Path(CASE).read_text(encoding="utf-8").replace("C1", "1"), encoding="utf-8")
    data = json.loads(CliRunner().invoke(main, ["obligations", str(case), "--redact", "--format", "json"]).stdout)
    assert {o["child"] for o in data[0]["obligations"]} == {pseudonym("1")}
    assert all(isinstance(o.get("occurrence", 1), int) for o in data[0]["obligations"])


def test_redaction_without_a_key_warns(monkeypatch) -> None:
    monkeypatch.delenv("CLAUSE_REDACT_KEY", raising=False)
    assert "CLAUSE_REDACT_KEY" in CliRunner().invoke(main, ["obligations", CASE, "--redact"]).stderr
    monkeypatch.setenv("CLAUSE_REDACT_KEY", "a secret")
    quiet = CliRunner().invoke(main, ["obligations", CASE, "--redact"]).stderr.splitlines()
    assert [line for line in quiet if not line.startswith("using policy ")] == []  # the policy used, no key warning


def test_pseudonyms_are_stable_and_keyed(monkeypatch) -> None:
    assert pseudonym("C1") == pseudonym("C1") != pseudonym("C2")
    monkeypatch.setenv("CLAUSE_REDACT_KEY", "another authority")
    assert pseudonym("C1") != pseudonym("C1", key="clause-redaction")


def test_explanations_redact_ids_and_dates_of_birth() -> None:
    for command in ("why", "why-not"):
        for fmt in ("text", "json", "html"):
            out = CliRunner().invoke(main, [command, CASE, "--child", "C1", "--action", "missing_cp_conference",
                                            "--format", fmt, "--redact"]).output
            assert "2012-05-01" not in out
            assert " C1" not in out and '"C1"' not in out


def test_loading_error_does_not_repeat_a_date_of_birth(tmp_path: Path) -> None:
    case = tmp_path / "c.yaml"
    case.write_text("case: x\nas_of: 2024-03-12T09:00\nchildren:\n  - id: C1\n    born: 2012-02-30\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["obligations", str(case)])
    assert result.exit_code == 2
    assert "c.yaml:5" in result.output and "born" in result.output
    assert "2012-02-30" not in result.output  # neither in the message nor as an echoed source line


def test_oversized_input_is_refused_with_a_clear_error(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("CLAUSE_MAX_CASE_BYTES", "100")
    case = tmp_path / "big.yaml"
    case.write_text("case: big\nas_of: 2024-03-12T09:00\ndescription: " + "x" * 200 + "\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["obligations", str(case)])
    assert result.exit_code == 2
    assert "F013" in result.output and "CLAUSE_MAX_CASE_BYTES" in result.output


def test_diff_reports_are_redacted(tmp_path: Path) -> None:
    import shutil
    head = tmp_path / "policy"
    shutil.copytree("policy", head)
    clause = head / "lmcp" / "02-missing-from-home.clause"
    clause.write_text(clause.read_text(encoding="utf-8").replace(
        "lasted 72 hours\n  then mash must hold strategy_discussion from 72 hours",
        "lasted 48 hours\n  then mash must hold strategy_discussion from 48 hours"), encoding="utf-8")
    # two of the cases the change moves (the whole folder's 32 would only repeat them), one with an exception
    cases = [f"tests/cases/lmcp-missing-from-home/{name}.yaml" for name in
             ("mfh-1-missing-72-hours-mash-strategy-discussion", "mfh-ooh-72-hours-saturday-0000-ooh-team-leader")]
    out = CliRunner().invoke(main, ["diff", "--base", "policy", "--head", str(head), "--redact", "--format", "json",
                                    *cases]).stdout
    changed = [case for case in json.loads(out)["cases"] if case["changes"]]
    assert len(changed) == 2 and all("mfh" not in case["case"] for case in changed)  # case names are pseudonyms too
    changes = [c for case in changed for c in case["changes"]]
    assert {(c["head"] or c["base"])["child"] for c in changes} == {pseudonym("C1")}


def test_test_reports_are_redacted(tmp_path: Path) -> None:
    case = tmp_path / "fails.yaml"
    case.write_text(Path(CASE).read_text(encoding="utf-8").replace("      actor: iro", "      actor: team_manager")
                    .replace("    - action: return_interview", "    - action: cp_conference"), encoding="utf-8")
    out = CliRunner().invoke(main, ["test", str(case), "--redact"])
    assert out.exit_code == 1 and "1 failed" in out.stdout
    assert pseudonym("C1") in out.stdout and " C1" not in out.stdout and "2012-05-01" not in out.stdout


def test_redacted_diagnostics_name_no_real_id(tmp_path: Path) -> None:
    """A duplicate id, a reference to an unknown child and the hint listing known ones printed real ids."""
    case = tmp_path / "dup.yaml"
    case.write_text("case: dup\nas_of: 2024-03-12T09:00\nchildren:\n  - {id: SMITH-J, born: 2012-05-01}\n"
                    "  - {id: SMITH-J, born: 2012-05-01}\nepisodes:\n  - {id: E1, child: SMYTH-J, reported: 2024-03-04T08:00}\n",
                    encoding="utf-8")
    plain = CliRunner().invoke(main, ["obligations", str(case)])
    assert plain.exit_code == 2 and "SMITH-J" in plain.stderr  # the check itself: ids are named without --redact
    hidden = CliRunner().invoke(main, ["obligations", str(case), "--redact"])
    assert hidden.exit_code == 2 and "F008" in hidden.stderr and "F006" in hidden.stderr
    assert "SMITH" not in hidden.output and "SMYTH" not in hidden.output and pseudonym("SMITH-J") in hidden.stderr
    after = CliRunner().invoke(main, ["obligations", str(case)])  # the next command is not redacted
    assert "SMITH-J" in after.stderr


def test_nothing_personal_in_any_redacted_output(tmp_path: Path) -> None:
    """Every command that takes --redact, every format, files included: no child id, no date of birth."""
    secret_id, born = "ZQSECRET7", "2012-05-01"
    case = tmp_path / "cases" / "c.yaml"
    case.parent.mkdir()
    case.write_text(Path(CASE).read_text(encoding="utf-8").replace("C1", secret_id), encoding="utf-8")
    assert born in case.read_text(encoding="utf-8")
    junit = tmp_path / "junit.xml"
    runs = [["obligations", str(case), "--format", f] for f in ("table", "json", "csv")]
    runs += [[cmd, str(case), "--child", secret_id, "--action", a, "--format", f]
             for cmd in ("why", "why-not") for a in ("missing_cp_conference", "return_interview")
             for f in ("text", "json", "html")]
    runs += [["test", str(case.parent), "--junit", str(junit), "--format", f, "--coverage"] for f in ("text", "json")]
    runs += [["diff", "--base", "policy", "--head", "policy", str(case.parent), "--format", f]
             for f in ("text", "json", "markdown")]
    runs += [["report", str(case.parent), "--from", "2024-01-01", "--to", "2024-12-31", "--format", f]
             for f in ("html", "csv", "json")]
    runs += [["obligations", str(case), "--child", secret_id + "X"], ["why", str(case), "--child", "nobody",
                                                                      "--action", "return_interview"]]
    seen = []
    for args in runs:
        result = CliRunner().invoke(main, [*args, "--redact"])
        seen.append(result.output + (junit.read_text(encoding="utf-8") if junit.exists() else ""))
        assert result.exception is None or isinstance(result.exception, SystemExit), (args, result.exception)
    everything = "\n".join(seen)
    assert secret_id not in everything and born not in everything
    assert pseudonym(secret_id) in everything
