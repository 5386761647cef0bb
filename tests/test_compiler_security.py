"""Policy text is data: Python code in any part of a policy is compiled harmlessly or rejected,
and evaluating the result with pyDatalog runs nothing. No product module hands text to
pyDatalog.load / ask, exec or eval (see ../shared/notes/pydatalog.md)."""
from __future__ import annotations

import ast as pyast
import dataclasses
from datetime import date, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import main
from compiler.codegen import Lit
from compiler.core.diagnostics import ClauseError
from compiler.policy import compile_policy
from engine import evaluate
from engine.backends.pydatalog import run
from engine.meaning.base_facts import base_facts
from facts.model import Child, Episode, FactSet
from compiler.core.london import LONDON

ROOT = Path(__file__).resolve().parent.parent
PAYLOADS = [
    "__import__('os').system('touch {marker}')",
    "'); __import__('os').system('touch {marker}') #",
    "<script>alert(1)</script> {{{{ }}}} %s ${{x}} {marker}",
]


def policy_text(code: str) -> str:
    q = code.replace("\\", "\\\\").replace('"', '\\"')
    return f'''document DOC "{q}" source "sources/src.txt"
declare action check_in "{q}"
section DOC "{q}" from "Duties"
clause T-1 "{q}"
  says "The police check in at once. {q}"
  note "{q}"
  overlaps T-2 "{q}"
  when the child has been reported missing
  then police must check_in immediately
clause T-2 "{q}"
  says "The police check in at once. {q}"
  when the child has been reported missing
  then police should check_in
not encoded T-NE "{q}"
  says "Also {q}"
  because "{q}"
'''


@pytest.fixture(params=range(len(PAYLOADS)), ids=["call", "quote-break", "markup"])
def hostile(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Path, str, Path]:
    marker = tmp_path / "pwned-XYZ"
    code = PAYLOADS[request.param].format(marker=marker)
    folder = tmp_path / "policy"
    (folder / "sources").mkdir(parents=True)
    (folder / "sources" / "src.txt").write_text(f"Duties\n\nThe police check in at once. {code}\n\nAlso {code}\n",
                                                encoding="utf-8")
    (folder / "p.clause").write_text(policy_text(code), encoding="utf-8")
    return folder, code, marker


def facts(child_id: str) -> FactSet:
    return FactSet((Child(child_id, date(2012, 5, 1)),),
                   (Episode(f"E1 {child_id}", child_id, datetime(2024, 3, 4, 8, tzinfo=LONDON)),))


def test_code_in_policy_text_is_data(hostile: tuple[Path, str, Path]) -> None:
    folder, code, marker = hostile
    policy = compile_policy(folder)
    assert policy.clause("T-1").notes[0].value == code
    result = evaluate(policy, facts(code), datetime(2024, 3, 5, 9, tzinfo=LONDON))
    assert {(o.child, o.clause, o.action) for o in result.obligations} == {(code, "T-1", "check_in"), (code, "T-2", "check_in")}
    runner = CliRunner()
    for args in (["compile", "--emit", "datalog"], ["compile", "--emit", "ast"], ["sources", "--format", "html"],
                 ["sources", "--format", "json"], ["check", "--format", "json"]):
        out = runner.invoke(main, [*args, str(folder)])
        assert out.exit_code == 0, (args, out.output)
        if "html" in args:
            assert "<script>" not in out.output
    assert not marker.exists()


def test_code_in_rule_constants_stays_data(hostile: tuple[Path, str, Path]) -> None:
    """Were a clause id or action ever to hold code, pyDatalog would still store it as a string."""
    folder, code, marker = hostile
    policy = compile_policy(folder)

    def poison(lit: Lit) -> Lit:
        return dataclasses.replace(lit, args=tuple(code if a in ("T-1", "check_in") else a for a in lit.args))

    rules = tuple(dataclasses.replace(r, head=poison(r.head)) for r in policy.program.rules)
    program = dataclasses.replace(policy.program, rules=rules)
    derived = run(program, base_facts(facts(code), datetime(2024, 3, 5, 9, tzinfo=LONDON), program))
    assert any(row[2] == code and row[5] == code for row in derived["obligation"])
    assert not marker.exists()


@pytest.mark.parametrize("line", [
    "clause __import__('os').system('touch x') \"t\"",
    "declare action __import__('os') \"t\"",
    "document X-1;import_os \"t\" source \"s.txt\"",
    "clause T-1 \"t\" says \"x\" then police must os.system('x')",
])
def test_code_in_names_and_ids_is_rejected(line: str) -> None:
    with pytest.raises(ClauseError) as e:
        compile_policy(ROOT / "policy", texts={"p.clause": line})
    assert [d.code for d in e.value.diagnostics] == ["E001"]


def product_sources() -> list[Path]:
    return sorted(p for d in ("compiler", "engine", "facts", "cli") for p in (ROOT / d).rglob("*.py"))


def dangerous_calls(source: str, name: str) -> list[str]:
    """Calls of exec/eval/compile/__import__, and of pyDatalog's text interfaces (load, ask)."""
    tree = pyast.parse(source)
    from_pydatalog = {a.asname or a.name for n in pyast.walk(tree) if isinstance(n, pyast.ImportFrom)
                      and (n.module or "").startswith("pyDatalog") for a in n.names}
    found = []
    for node in pyast.walk(tree):
        if not isinstance(node, pyast.Call):
            continue
        f = node.func
        if isinstance(f, pyast.Name) and (f.id in ("exec", "eval", "compile", "__import__")
                                          or (f.id in ("load", "ask") and f.id in from_pydatalog)):
            found.append(f"{name}:{node.lineno} {f.id}")
        if isinstance(f, pyast.Attribute) and f.attr in ("load", "ask") and isinstance(f.value, pyast.Name) \
                and f.value.id in from_pydatalog | {"pyDatalog"}:
            found.append(f"{name}:{node.lineno} {f.value.id}.{f.attr}")
    return found


def test_no_module_executes_text() -> None:
    sources = product_sources()
    assert len(sources) > 10 and any(p.name == "pydatalog.py" for p in sources)
    assert [c for p in sources for c in dangerous_calls(p.read_text(encoding="utf-8"), str(p.relative_to(ROOT)))] == []


def test_the_scan_finds_what_it_looks_for() -> None:
    probe = "from pyDatalog import pyDatalog, pyParser as pp\npyDatalog.load('x')\neval('1')\npp.ask('q(X)')\nexec('2')\n"
    assert dangerous_calls(probe, "probe.py") == [
        "probe.py:2 pyDatalog.load", "probe.py:3 eval", "probe.py:4 pp.ask", "probe.py:5 exec"]
