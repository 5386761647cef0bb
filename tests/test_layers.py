"""Dependencies point one way: core <- compiler, facts <- engine <- cli (checked on the import statements).

compiler.core, the bottom layer, imports nothing of ours but itself; the compiler never imports
facts, engine or cli; facts imports only the bottom layer; the engine never imports the CLI.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
OURS = ("compiler", "facts", "engine", "cli")

# package -> the packages (prefixes) it may import
ALLOWED = {
    "compiler.core": ("compiler.core",),
    "compiler": ("compiler",),
    "facts": ("facts", "compiler.core"),
    "engine": ("engine", "compiler", "facts"),
    "cli": OURS,
}


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append((node.lineno, node.module))
        elif isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
    return [(line, m) for line, m in out if m.split(".")[0] in OURS]


def _layer(module: str) -> str:
    return "compiler.core" if module.startswith("compiler.core") else module.split(".")[0]


MODULES = sorted(p for d in OURS for p in (ROOT / d).rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_point_down(path: Path) -> None:
    module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
    allowed = ALLOWED[_layer(module)]
    wrong = [f"line {line}: {m}" for line, m in _imports(path)
             if not any(m == a or m.startswith(a + ".") for a in allowed)]
    assert not wrong, f"{module} imports above its layer: {wrong}"


def test_the_check_sees_a_wrong_import(tmp_path: Path) -> None:
    bad = tmp_path / "m.py"
    bad.write_text("from engine.evaluation import evaluate\n")
    assert _imports(bad) == [(1, "engine.evaluation")]
