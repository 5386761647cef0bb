"""Golden files, one per compiler stage, so any change in its output shows up in review.

  tests/golden/policy_small.ast.json         parse:   the AST of tests/data/policy_small (`ast.to_data`)
  tests/golden/policy_small.datalog          codegen: its Datalog (`program.to_text()`)
  tests/golden/policy_small.sources.txt      traceability: its sentence-by-sentence report
  tests/golden/policy_errors.diagnostics.txt check:   every problem of tests/data/policy_errors, rendered
  tests/golden/bundled.datalog               `clause compile --emit datalog policy` of the bundled policy
  tests/golden/bundled.sql                   `clause compile --emit sql policy`: the same program as DuckDB SQL

To regenerate after an intended change, run from anywhere:

    CLAUSE_UPDATE_GOLDEN=1 python -m pytest tests/test_compiler_golden.py

and review `git diff tests/golden`. Tests run with the repository as working
directory and relative paths, so no golden holds a machine-specific path.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import main
from compiler import ast, traceability
from compiler.codegen import Lit, Program, Var
from compiler.core.diagnostics import ClauseError, render_text
from compiler.policy import compile_policy, parse_policy

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden"
SMALL = Path("tests/data/policy_small")
ERRORS = Path("tests/data/policy_errors")
UPDATE = os.environ.get("CLAUSE_UPDATE_GOLDEN", "") not in ("", "0")


@pytest.fixture(autouse=True)
def at_repo_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def assert_golden(name: str, actual: str) -> None:
    path = GOLDEN / name
    assert str(ROOT) not in actual, "goldens must not hold absolute paths"
    if UPDATE:
        path.write_text(actual, encoding="utf-8")
        return
    assert path.is_file(), f"no golden {path.name}: run with CLAUSE_UPDATE_GOLDEN=1 to create it"
    assert actual == path.read_text(encoding="utf-8"), \
        f"output differs from tests/golden/{name}; if intended, regenerate with CLAUSE_UPDATE_GOLDEN=1"


def ast_json(policy: ast.Policy) -> str:
    files = [{"file": f.path, "items": ast.to_data(f.items)} for f in policy.files]
    return json.dumps(files, indent=1, ensure_ascii=False) + "\n"


def test_ast_golden() -> None:
    policy, problems = parse_policy(SMALL)
    assert problems == []
    assert_golden("policy_small.ast.json", ast_json(policy))


def test_datalog_golden() -> None:
    assert_golden("policy_small.datalog", compile_policy(SMALL).program.to_text())


def test_traceability_golden() -> None:
    report = traceability.trace(compile_policy(SMALL))
    assert report.gaps == 0
    assert_golden("policy_small.sources.txt", traceability.render_text(report) + "\n")


def test_diagnostics_golden() -> None:
    with pytest.raises(ClauseError) as e:
        compile_policy(ERRORS)
    codes = [d.code for d in e.value.diagnostics]
    assert len(set(codes)) >= 6 and {"E001", "W103"} <= set(codes)  # a syntax error does not hide the rest
    assert_golden("policy_errors.diagnostics.txt", render_text(e.value.diagnostics) + "\n")


def test_bundled_datalog_golden() -> None:
    result = CliRunner().invoke(main, ["compile", "--emit", "datalog", "policy"])
    assert result.exit_code == 0, result.output
    assert_golden("bundled.datalog", result.output)


def test_bundled_sql_golden() -> None:
    result = CliRunner().invoke(main, ["compile", "--emit", "sql", "policy"])
    assert result.exit_code == 0, result.output
    assert_golden("bundled.sql", result.output)


def test_small_fixture_covers_the_language() -> None:
    """The fixture keeps exercising every atom, conclusion and timing (or the goldens prove little)."""
    kinds = set()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            kinds.add(node.get("node"))
            kinds.update(f"{node.get('node')}.{k}" for k in node)
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(json.loads(ast_json(parse_policy(SMALL)[0])))
    wanted = {"Document", "Section.anchor", "Declaration", "Clause.notes", "Clause.overlaps", "Clause.override_actor",
              "NotEncoded", "And", "Or", "Not", "HasStatus", "NoStatus", "HasFlag", "ChildField", "Age", "Returned",
              "Reported", "Window", "WindowFlag", "Lasted", "Lasted.strictly_more", "EpisodeField", "EpisodeField.value", "Category",
              "Risk", "OffDay", "OffDay.holidays", "Timing.start", "Timing.due_after", "Timing.due_anchor",
              "Timing.immediately", "Timing.every", "SetCategory", "SetRisk.level", "SetRisk.from_field", "ActorInstead"}
    assert wanted <= kinds, f"the fixture lost: {sorted(wanted - kinds)}"


# ---- invariants of generated programs --------------------------------------------------

def guard_mismatches(program: Program) -> list[str]:
    """Guards `~exception_holds(C, ep, X)` that no rule can ever make true (ep: an episode or "")."""
    def shape(lit: Lit) -> tuple[object, ...]:
        return (isinstance(lit.args[1], Var), lit.args[2])

    heads = {shape(r.head) for r in program.rules if r.head.pred == "exception_holds"}
    return [f"{r.clause}: {x}" for r in program.rules for x in r.body
            if isinstance(x, Lit) and x.pred == "exception_holds" and x.negated and shape(x) not in heads]


CHILD_CLAUSE_EPISODE_EXCEPTION = '''
document SMALL "Small" source "sources/small.txt"
section SMALL "Duties"
clause A-1 "About the child"
  says "The procedure is reviewed every year."
  when the child has flag cse
  then police must locate_child
exception X-1 "About an episode" overrides A-1
  says "The procedure is reviewed every year."
  when the child has been reported missing and the child has returned
  then police must inform_police
'''


@pytest.mark.parametrize("where", ["policy", "tests/data/policy_small", "child clause, episode exception"])
def test_every_exception_guard_can_hold(where: str, tmp_path: Path) -> None:
    if where.startswith("child"):
        (tmp_path / "sources").mkdir()
        (tmp_path / "sources" / "small.txt").write_text("The procedure is reviewed every year.\n")
        policy = compile_policy(tmp_path, texts={"p.clause": CHILD_CLAUSE_EPISODE_EXCEPTION})
    else:
        policy = compile_policy(Path(where))
    assert guard_mismatches(policy.program) == []


def test_an_episode_exception_replaces_a_child_clause(tmp_path: Path) -> None:
    from datetime import date, datetime
    from zoneinfo import ZoneInfo

    from engine import evaluate
    from facts.model import Child, Episode, FactSet

    (tmp_path / "sources").mkdir()
    (tmp_path / "sources" / "small.txt").write_text("The procedure is reviewed every year.\n")
    policy = compile_policy(tmp_path, texts={"p.clause": CHILD_CLAUSE_EPISODE_EXCEPTION})
    london = ZoneInfo("Europe/London")
    child = Child("c1", date(2010, 1, 1), flags=("cse",))
    away = Episode("e1", "c1", datetime(2024, 3, 1, 9, tzinfo=london))
    back = Episode("e1", "c1", datetime(2024, 3, 1, 9, tzinfo=london), returned=datetime(2024, 3, 2, 9, tzinfo=london))
    at = datetime(2024, 3, 3, 9, tzinfo=london)
    assert {o.clause for o in evaluate(policy, FactSet((child,), (away,)), at).obligations} == {"A-1"}
    assert {o.clause for o in evaluate(policy, FactSet((child,), (back,)), at).obligations} == {"X-1"}
