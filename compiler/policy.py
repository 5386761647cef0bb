"""The whole compiler: a policy folder -> `CompiledPolicy` (or every problem at once).

Input: a folder of `.clause` files (searched recursively, in path order) and the
source texts their `document` lines name. Output: the AST, each clause's normal form
(compiler/normal.py), the Datalog program generated from it, the source texts, and the
warnings. Errors from all files and all checks
are collected and raised together as one `ClauseError`. A warning the policy
accepts (`accept CODE ID... "why"`) stays in the list, marked with its reason.
`discover_policy` finds the folder a command uses when none is given (as git finds
its repository). The parser (Lark) and the
checks are imported when a policy is compiled, not when the cache (compiler/cache.py)
answers: a command on one case should not pay for them.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import Collection, Iterable

from compiler import ast
from compiler.codegen import Program, generate
from compiler.core.diagnostics import ClauseError, Diagnostic, Span, display_path, error, raise_if_errors, warning
from compiler.normal import NormalClause, normalise
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
    normal: dict[str, NormalClause]  # clause id -> its normal form (cases, scope, overriders), policy order

    def clause(self, clause_id: str) -> ast.Clause | None:
        return self.program.clauses.get(clause_id)

    def document(self, doc_id: str) -> ast.Document | None:
        return next((d for d in self.ast.items(ast.Document) if d.id.value == doc_id), None)

    @cached_property
    def action_names(self) -> frozenset[str]:
        """The actions a recorded action may name (`known_names`): any other could discharge nothing."""
        return frozenset(self.known_names()["action"])

    def known_names(self) -> dict[str, tuple[str, ...]]:
        """The names an obligation of this policy can carry: the vocabulary's actions and actors plus
        the policy's declarations, and its clause and exception ids (sorted)."""
        from compiler.core import vocabulary
        declared = {kind: {d.name.value for d in self.ast.items(ast.Declaration) if d.kind == kind}
                    for kind in ("action", "actor")}
        ids = tuple(sorted(self.program.clauses))
        return {"action": tuple(sorted(set(vocabulary.ACTIONS) | declared["action"])),
                "actor": tuple(sorted(set(vocabulary.ACTORS) | declared["actor"])),
                "clause": ids, "exception": ids}


def discover_policy(start: Path | None = None) -> tuple[Path, str]:
    """The nearest `policy/` folder holding `.clause` files, from `start` (the current folder)
    upwards, else the bundled policy; and how it was found."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / "policy"
        if candidate.is_dir() and next(candidate.rglob("*.clause"), None) is not None:
            if candidate == BUNDLED.resolve():
                break
            return candidate, "found from the current folder"
    return BUNDLED.resolve(), "bundled"


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
    """Every .clause file under `root`, and every link so named but to a folder: one to nothing or to itself
    is then E000 (or E025, out of the folder), not skipped. A link is named as it is, not as its target."""
    found = (p for p in root.rglob("*.clause") if p.is_file() or (p.is_symlink() and not p.is_dir()))
    return sorted(display_path(p, follow=not p.is_symlink()) for p in found)


def parse_policy(root: Path, texts: dict[str, str] | None = None) -> tuple[ast.Policy, list[Diagnostic]]:
    """Parse every file; syntax errors are collected per file, not raised."""
    from compiler.check import inside
    from compiler.parse import parse_file
    diagnostics: list[Diagnostic] = []
    files = []
    paths = sorted(texts) if texts is not None else policy_files(root)
    for path in paths:
        if texts is None and not inside(Path(path), root):  # a link out of the folder: never read it
            diagnostics.append(error("E025", Span(path), "this .clause file is a link to a file outside the policy folder",
                                     "keep policy files inside the policy folder; copy the file in instead of linking it"))
            continue
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
    diagnostics = accept_warnings(policy, diagnostics + found, judged=("W101",))
    raise_if_errors(diagnostics)
    policy = with_local_standards(policy)
    normal = normalise(policy)
    return CompiledPolicy(root, policy, generate(normal), sources, tuple(diagnostics), quotes, normal)



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


def accept_warnings(policy: ast.Policy, diagnostics: Iterable[Diagnostic], judged: Collection[str]) -> list[Diagnostic]:
    """Mark each warning an `accept` line names (same code, same clauses) as accepted, with its reason.

    `judged` are the codes these diagnostics were checked for (the compiler finds W101; the
    analysis, engine/lint.py, W104 and W105): an acceptance of one of them that matches no
    warning is itself a warning (W106), so an acceptance cannot outlive what it accepted.
    """
    out = list(diagnostics)
    clauses = {c.id.value for c in policy.clauses}
    for a in policy.items(ast.Acceptance):
        names = {x.value for x in a.clauses}
        if a.code.value not in judged or not names <= clauses:
            continue  # not judged here, or an unknown clause (E011)
        hits = [i for i, d in enumerate(out) if d.code == a.code.value and d.severity == "warning"
                and not d.accepted and set(d.subjects) == names]
        for i in hits:
            out[i] = replace(out[i], accepted=a.reason.value)
        if not hits:
            about = " and ".join(sorted(names))
            out.append(warning("W106", a.span, f"this 'accept' matches no {a.code.value} warning about {about}",
                               "remove it, or name exactly the clauses the warning names"))
    return out
