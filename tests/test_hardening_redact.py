"""`--redact` hides episode ids and case names as well as child ids, in every output.

A case named after the child, whose child and episode ids are the child's name, is run through every
command that takes --redact, in every format, on both engines; no output (stdout, stderr, files written)
holds any of the three, and the pseudonyms stand in their place. The server's pages and JSON likewise.
A report's tally and the cases' DuckDB pass are made once per input and shared by the formats
(`one_evaluation_per_input`).
"""
from __future__ import annotations

import json
import shutil
import sys
import urllib.request
from datetime import date, datetime
from pathlib import Path
from typing import Callable, Iterator
from urllib.parse import quote

import pytest
from click.testing import CliRunner

from cli.main import main
from compiler.policy import CompiledPolicy
from engine import compliance
from engine.backends import cases
from engine.output.redact import case_pseudonym, episode_pseudonym, pseudonym
from facts.bulk import write_bulk
from facts.model import FactSet
from facts.yamlcase import load_cases

sys.path.insert(0, str(Path(__file__).resolve().parent))
from serving import served  # noqa: E402

SECRETS = ("Jane Roe case", "JaneRoe", "JANE-EP")
CASE = """case: Jane Roe case
as_of: 2024-03-21T09:00
children:
  - id: JaneRoe
    born: 2008-09-02
    statuses: [looked_after]
    flags: [cse]
episodes:
  - {id: JANE-EP1, child: JaneRoe, reported: 2024-03-08T22:00, returned: 2024-03-09T15:00}
  - {id: JANE-EP2, child: JaneRoe, reported: 2024-03-16T20:00, returned: 2024-03-17T18:00, safeguarding_concerns: true}
actions:
  - {action: return_interview, child: JaneRoe, episode: JANE-EP2, by: protect_team, at: 2024-03-20T19:00}
expect:
  obligations:
    - {action: return_interview, child: JaneRoe, episode: JANE-EP2}
  episodes:
    - {id: JANE-EP2, category: missing}
"""


@pytest.fixture(scope="module", autouse=True)
def one_evaluation_per_input() -> Iterator[None]:
    """A report's compliance tally (a DuckDB evaluation, renamed in its tables before anything is tallied)
    and the cases' one DuckDB pass are pure functions of their input, and each format only renders them:
    made once per input, for every format of the CLI and for the server's page and API alike. (A bulk
    folder's DuckDB obligations stream from their database as they are printed: evaluated each time.)"""
    tally, one_pass, seen = compliance.compute, cases.evaluate_cases, {}

    def once(key: tuple, make: Callable[[], object]) -> object:
        if key not in seen:
            seen[key] = make()
        return seen[key]

    def compute(policy: CompiledPolicy, facts: FactSet | str, start: date, end: date, at: datetime | None = None,
                rename: Callable | None = None, rename_episode: Callable | None = None) -> object:
        key = (policy.root, facts if isinstance(facts, FactSet) else str(facts), start, end, at, rename, rename_episode)
        return once(key, lambda: tally(policy, facts, start, end, at, rename, rename_episode))

    def evaluate_cases(policy: CompiledPolicy, runs: list[tuple[FactSet, datetime]]) -> list:
        return list(once((policy.root, tuple(runs)), lambda: one_pass(policy, runs)))
    with pytest.MonkeyPatch.context() as m:
        m.setattr(compliance, "compute", compute)
        m.setattr(cases, "evaluate_cases", evaluate_cases)
        yield


def lay_out(root: Path, case_file: str, bulk: str) -> Path:
    """CASE as cases/`case_file` and as the bulk folder `bulk`, under `root`."""
    (root / "cases").mkdir()
    (root / "cases" / case_file).write_text(CASE, encoding="utf-8")
    [case] = load_cases([root / "cases" / case_file])
    write_bulk(case.facts, root / bulk)
    return root


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    return lay_out(tmp_path_factory.mktemp("redact"), "one.yaml", "bulk")


def clean(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text


def run(*args: str) -> str:
    result = CliRunner().invoke(main, [*args, "--redact"])
    assert result.exit_code in (0, 1), result.output
    return result.stdout + result.stderr


@pytest.mark.parametrize("fmt", ["table", "json", "csv"])
@pytest.mark.parametrize("engine", ["pydatalog", "duckdb"])
@pytest.mark.parametrize("where", ["cases/one.yaml", "bulk"])
def test_obligations(data, fmt, engine, where):
    out = run("obligations", str(data / where), "--format", fmt, "--engine", engine)
    clean(out)
    assert pseudonym("JaneRoe") in out and episode_pseudonym("JANE-EP2") in out
    if where.endswith(".yaml"):
        assert case_pseudonym("Jane Roe case") in out


@pytest.mark.parametrize("fmt", ["text", "json", "html"])
@pytest.mark.parametrize("command", ["why", "why-not"])
def test_why_and_why_not(data, fmt, command):
    for where in ("cases/one.yaml", "bulk"):
        out = run(command, str(data / where), "--child", "JaneRoe", "--action", "return_interview",
                  "--episode", "JANE-EP2", "--format", fmt)
        clean(out)
        assert episode_pseudonym("JANE-EP2") in out


def test_an_unknown_episode_names_no_real_id(data):
    result = CliRunner().invoke(main, ["why", str(data / "cases/one.yaml"), "--child", "JaneRoe", "--action",
                                       "strategy_discussion", "--episode", "JANE-EP9", "--redact"])
    assert result.exit_code == 2 and "X003" in result.stderr
    clean(result.stderr)
    assert "JANE-EP9" not in result.stderr


@pytest.mark.parametrize("engine", ["pydatalog", "duckdb"])
@pytest.mark.parametrize("where, text, wrong, shown", [
    ("children.csv", "id,born,statuses\nJaneRoe,2008-09-02,JaneRoe\n", "F003",
     "unknown status (withheld: --redact) in 'statuses'"),
    ("actions.csv", "child,action,by,at\nJaneRoe,JaneRoe visit,protect_team,2024-03-20T19:00\n", "F014",
     "recorded action names action (withheld: --redact), which the policy does not have"),
    ("episodes.csv", "id,child,reported,with_parents\nJANE-EP1,JaneRoe,2024-03-08T22:00,JaneRoe\n", "F009",
     "'with_parents' must be true or false, got (withheld: --redact)"),
    ("episodes.csv", "id,child,reported\nJANE-EP1,JaneRoe,JaneRoe-EP\n", "F005",
     "'reported': expected a date like 2012-05-01 (withheld: --redact)"),
    ("episodes.csv", "id,child,reported\nJANE-EP1,JaneRoe,JaneRoe 08/03\n", "F005",
     "got (withheld: --redact)"),
    ("episodes.csv", "id,child,reported\nJANE-EP1,JaneRoe,2024-02-30T10:00\n", "F005",
     "'reported': not a real date and time: expected a date and time like")])
def test_a_bad_cell_is_not_quoted(tmp_path, engine, where, text, wrong, shown):
    """A cell of free text in the wrong column (a status, an action, a yes/no or a time holding the child's
    name) was quoted in its diagnostic under --redact; it is withheld, and file, line and column say where."""
    folder = tmp_path / "bulk"
    folder.mkdir()
    (folder / "children.csv").write_text("id,born,statuses\nJaneRoe,2008-09-02,looked_after\n")
    (folder / "episodes.csv").write_text("id,child,reported\nJANE-EP1,JaneRoe,2024-03-08T22:00\n")
    (folder / where).write_text(text)
    result = CliRunner().invoke(main, ["obligations", str(folder), "--at", "2024-03-21T09:00", "--engine", engine,
                                       "--redact"])
    assert result.exit_code == 2 and f"{folder / where}:2:" in result.stderr
    assert f"error[{wrong}]: " in result.stderr and shown in result.stderr, result.stderr
    assert "JaneRoe" not in result.stderr.replace(str(tmp_path), "")


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_regression_runs_and_junit(data, tmp_path, fmt):
    junit = tmp_path / "junit.xml"
    out = run("test", str(data / "cases"), "--format", fmt, "--junit", str(junit))
    clean(out)
    clean(junit.read_text(encoding="utf-8"))
    assert case_pseudonym("Jane Roe case") in (out if fmt == "json" else junit.read_text(encoding="utf-8"))


@pytest.mark.parametrize("fmt", ["text", "json", "markdown"])
def test_diff(data, fmt):
    base = Path(__file__).resolve().parent.parent / "policy"
    out = run("diff", "--base", str(base), "--head", str(base), "--base-date", "2024-01-01", "--head-date", "2024-03-21",
              str(data / "cases"), "--format", fmt)
    clean(out)


@pytest.mark.parametrize("fmt", ["html", "csv", "json"])
def test_report(data, fmt):
    for where in ("cases/one.yaml", "bulk", "cases"):
        out = run("report", str(data / where), "--from", "2024-03-01", "--to", "2024-03-31", "--at", "2024-04-30T12:00",
                  "--format", fmt)
        clean(out)


def test_serve(data):
    for where in ("cases", "bulk"):
        with served(data / where, redact=True) as (base, _):
            child = quote(pseudonym("JaneRoe"))
            pages = [urllib.request.urlopen(base + path).read().decode() for path in (
                "/", "/api/v1/worklist", f"/child?id={child}", f"/api/v1/child?id={child}",
                f"/api/v1/why?id={child}&action=return_interview",
                f"/api/v1/why-not?id={child}&action=strategy_discussion&episode={quote(episode_pseudonym('JANE-EP2'))}",
                "/report?from=2024-03-01&to=2024-03-31", "/api/v1/report?from=2024-03-01&to=2024-03-31")]
            for page in pages:
                clean(page)
            assert episode_pseudonym("JANE-EP2") in pages[1]
            assert json.loads(pages[5])["trees"]


@pytest.fixture(scope="module")
def named_after_her(tmp_path_factory) -> Path:
    """The same case in a file and a bulk folder whose paths name the child (cases/JaneRoe.yaml)."""
    return lay_out(tmp_path_factory.mktemp("named"), "JaneRoe.yaml", "JaneRoe-bulk")


@pytest.mark.parametrize("fmt", ["text", "json", "html"])
def test_explanations_cite_a_hidden_file_for_a_path_that_names_the_child(named_after_her, fmt):
    """An explanation cites each fact's file and line: under --redact the file is `file-` and ten hex
    digits with its extension, the line kept; a bulk folder's note says "the folder"."""
    from engine.output.redact import hidden_file
    for where, file in (("cases/JaneRoe.yaml", "cases/JaneRoe.yaml"), ("JaneRoe-bulk", "JaneRoe-bulk/episodes.csv")):
        out = run("why", str(named_after_her / where), "--child", "JaneRoe", "--action", "return_interview",
                  "--episode", "JANE-EP2", "--format", fmt)
        clean(out)
        assert hidden_file(str(named_after_her / file)) in out
        assert hidden_file(str(named_after_her / file)).endswith(".yaml" if where.endswith(".yaml") else ".csv")


def test_serve_cites_a_hidden_file_for_a_path_that_names_the_child(named_after_her):
    for where in ("cases", "JaneRoe-bulk"):
        with served(named_after_her / where, redact=True) as (base, _):
            child = quote(pseudonym("JaneRoe"))
            for path in (f"/child?id={child}", f"/api/v1/why?id={child}&action=return_interview"):
                page = urllib.request.urlopen(base + path).read().decode()
                clean(page)
                assert "file-" in page


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_test_and_diff_cite_a_hidden_file_for_case_files_that_name_the_child(tmp_path, fmt):
    """`clause test` cites each case's file (its result, a failure's line, JUnit) and an invalid one's (its
    report entry, its diagnostics), `clause diff` each changed case's file: under --redact, `file-` and ten
    hex digits (the file's name may be the child's)."""
    from engine.output.redact import hidden_file
    cases, draft = tmp_path / "JaneRoe-cases", tmp_path / "JaneRoe-drafts"
    cases.mkdir()
    draft.mkdir()
    (draft / "JaneRoe-draft.yaml").write_text("case: [\n", encoding="utf-8")
    failing = CASE.replace("{id: JANE-EP2, category: missing}", "{id: JANE-EP2, category: absent}")
    (cases / "JaneRoe.yaml").write_text(failing, encoding="utf-8")
    junit = tmp_path / "junit.xml"
    result = CliRunner().invoke(main, ["test", str(cases), str(draft), "--format", fmt, "--junit", str(junit), "--redact"])
    assert result.exit_code == 2, result.output
    for text in (result.stdout + result.stderr, junit.read_text(encoding="utf-8")):
        clean(text)
        assert hidden_file(str(cases / "JaneRoe.yaml")) in text and hidden_file(str(draft / "JaneRoe-draft.yaml")) in text
    hidden = hidden_file(str(cases / "JaneRoe.yaml"))
    if fmt == "json":  # the failure's place: its hidden file and its line
        [failure] = json.loads(result.stdout)["cases"][0]["failures"]
        assert failure["at"]["file"] == hidden and failure["at"]["line"] > 1
    else:
        assert f"{hidden}:" in result.stdout
    base, head = Path(__file__).resolve().parent.parent / "policy", tmp_path / "policy"
    shutil.copytree(base, head)  # a head that moves the return interview's due time: the case changes
    clause = head / "lmcp" / "08-return.clause"
    clause.write_text(clause.read_text(encoding="utf-8").replace("conduct return_interview from returned within 72 hours",
                                                                 "conduct return_interview from returned within 48 hours"),
                      encoding="utf-8")
    out = run("diff", "--base", str(base), "--head", str(head), str(cases), "--format", "json" if fmt == "json" else "text")
    clean(out)
    assert hidden in out
