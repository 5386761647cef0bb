"""The whole compiler: a policy folder -> `CompiledPolicy` (or every problem at once).

Input: a folder of `.clause` files (searched recursively, in path order) and the
source texts their `document` lines name. Output: the AST, the checked Datalog
program, the source texts, and the warnings. Errors from all files and all checks
are collected and raised together as one `ClauseError`. The parser (Lark) and the
checks are imported when a policy is compiled, not when the cache (compiler/cache.py)
answers: a command on one case should not pay for them.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from compiler import ast
from compiler.codegen import Program, generate
from compiler.core.diagnostics import ClauseError, Diagnostic, Span, display_path, error, raise_if_errors
from compiler.sources import SourceText

BUNDLED = Path(__file__).resolve().parent.parent / "policy"


@dataclass(frozen=True)
class CompiledPolicy:
    root: Path
    ast: ast.Policy
    program: Program
    sources: dict[str, SourceText]
    warnings: tuple[Diagnostic, ...]
    quotes: dict[tuple[str, int], tuple[str, int, int]]  # (id, i) -> (doc, start, end)

    def clause(self, clause_id: str) -> ast.Clause | None:
        return self.program.clauses.get(clause_id)

    def document(self, doc_id: str) -> ast.Document | None:
        return next((d for d in self.ast.items(ast.Document) if d.id.value == doc_id), None)


def load_sources(policy: ast.Policy, root: Path) -> dict[str, SourceText]:
    """Each document's source text; an unreadable one is left out (the checks report it)."""
    from compiler.check import inside
    out = {}
    for d in policy.items(ast.Document):
        path = root / d.source.value
        if not inside(path, root):
            continue  # a policy reads only files in its own folder (the checks report E025)
        try:
            out[d.id.value] = SourceText(display_path(path), path.read_text(encoding="utf-8"))
        except (OSError, ValueError):  # unreadable, not UTF-8, or a NUL in the path
            continue
    return out


def policy_files(root: Path) -> list[str]:
    return sorted(display_path(p) for p in root.rglob("*.clause") if p.is_file())


def parse_policy(root: Path, texts: dict[str, str] | None = None) -> tuple[ast.Policy, list[Diagnostic]]:
    """Parse every file; syntax errors are collected per file, not raised."""
    from compiler.parse import parse_file
    diagnostics: list[Diagnostic] = []
    files = []
    paths = sorted(texts) if texts is not None else policy_files(root)
    for path in paths:
        try:
            files.append(parse_file(path, texts[path] if texts is not None else None))
        except ClauseError as e:
            diagnostics += e.diagnostics
        except OSError as e:
            diagnostics.append(error("E000", Span(path), f"cannot read the file: {e.strerror}"))
    return ast.Policy(tuple(files)), diagnostics


def compile_policy(root: Path | str | None = None, texts: dict[str, str] | None = None) -> CompiledPolicy:
    """Parse, check and generate. Raises ClauseError with every error (and warning)."""
    root = Path(root) if root is not None else BUNDLED
    if texts is None and not root.is_dir():
        raise ClauseError([error("E000", Span(str(root)), "no such policy folder",
                                 "give a folder holding .clause files, or leave it out for the bundled policy")])
    policy, diagnostics = parse_policy(root, texts)
    if texts is None and not policy.files and not diagnostics:
        diagnostics.append(error("E000", Span(str(root)), "the folder holds no .clause files"))
    sources = load_sources(policy, root)
    from compiler.check import check
    found, quotes = check(policy, sources, root)
    diagnostics += found
    raise_if_errors(diagnostics)
    policy = with_local_standards(policy)
    return CompiledPolicy(root, policy, generate(policy), sources, tuple(diagnostics), quotes)


def with_local_standards(policy: ast.Policy) -> ast.Policy:
    """Each obligation whose procedure sets no time (no `within`, not `immediately`, not recurring) takes
    the due time of its action's local standard, marked with the standard's id so explanations and output
    say it is the authority's standard, not the procedure's."""
    standards = {s.action.value: s for s in policy.items(ast.LocalStandard)}
    if not standards:
        return policy

    def timed(c: object) -> object:
        s = standards.get(c.action.value) if isinstance(c, ast.Obligation) else None
        t = c.timing if s is not None else None
        if t is None or t.due_after is not None or t.immediately or t.every is not None:
            return c
        return replace(c, timing=replace(t, due_after=s.within, standard=s.id.value))

    files = tuple(replace(f, items=tuple(replace(i, then=tuple(timed(c) for c in i.then)) if isinstance(i, ast.Clause)
                                         else i for i in f.items)) for f in policy.files)
    return ast.Policy(files)
