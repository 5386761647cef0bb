"""What the language server knows about a policy: diagnostics, hovers, definitions, completions.

Input: a policy folder and the unsaved text of the editor's open files, which override
the files on disk. Output: plain values (Markdown text, spans, names) in the compiler's
own positions (1-based lines, columns in characters); `cli/lsp/server.py` turns them into
LSP messages. Invariants: the diagnostics are the compiler's own (code, message, hint, as
`clause check --no-analysis` reports them; warnings the policy accepts are left out); a policy with errors is still analysed as far
as it parses, so hovers and definitions keep working while another file is broken;
nothing here writes a file.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from compiler import ast
from compiler.check import check, inside
from compiler.core import vocabulary as vocab
from compiler.core.diagnostics import ClauseError, Diagnostic, Span, error
from compiler.parse import GRAMMAR
from compiler.policy import accept_warnings, load_sources, parse_policy
from compiler.sources import SourceText, normalise

KEYWORDS = tuple(sorted(set(re.findall(r'"([a-z]+(?: [a-z]+)?)"', GRAMMAR.read_text(encoding="utf-8")))))


def policy_root(file: Path) -> Path:
    """The policy folder a file belongs to: a folder named `policy`, or the highest folder
    above the file reached through folders that each hold .clause files of their own."""
    folder = file.resolve().parent
    while folder.name != "policy" and folder.parent != folder and any(folder.parent.glob("*.clause")):
        folder = folder.parent
    return folder


@dataclass
class Analysis:
    """One policy folder parsed and checked, with the texts it was made from."""

    root: Path
    texts: dict[str, str]  # every .clause file's text, keyed by its absolute path
    policy: ast.Policy
    sources: dict[str, SourceText]
    quotes: dict[tuple[str, int], tuple[str, int, int]]  # (id, i) -> (doc, start, end), as CompiledPolicy has
    diagnostics: list[Diagnostic]
    index: dict[str, ast.Clause | ast.NotEncoded | ast.Document] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for kind in (ast.Document, ast.NotEncoded, ast.Clause):
            for item in self.policy.items(kind):
                self.index.setdefault(item.id.value, item)

    def items(self, path: str) -> tuple:
        return next((f.items for f in self.policy.files if f.path == path), ())


def analyse(root: Path, open_texts: dict[str, str]) -> Analysis:
    """Parse and check the folder, the open files' text standing in for theirs on disk."""
    from compiler.parse import parse_file
    root = root.resolve()
    texts, unreadable = {}, []
    for p in sorted(root.rglob("*.clause")):
        if not inside(p, root):  # a link out of the folder: never read (as the compiler does)
            unreadable.append(error("E025", Span(str(p)), "this .clause file is a link to a file outside the policy folder",
                                    "keep policy files inside the policy folder; copy the file in instead of linking it"))
        elif p.is_file() and str(p) not in open_texts:
            try:
                texts[str(p)] = p.read_bytes().decode("utf-8")
            except UnicodeDecodeError:
                try:
                    parse_file(p)
                except ClauseError as e:  # the compiler's E001, with the first bad byte's position
                    unreadable += e.diagnostics
            except OSError:
                continue  # gone since the listing; the next change looks again
    texts.update({k: v for k, v in open_texts.items() if Path(k).is_relative_to(root)})
    texts = dict(sorted(texts.items()))
    policy, diagnostics = parse_policy(root, texts)
    sources = load_sources(policy, root)
    found, quotes = check(policy, sources, root)
    diagnostics = accept_warnings(policy, diagnostics + found + unreadable, judged=("W101",))  # as compile_policy
    shown = [d for d in diagnostics if not d.accepted]  # accepted in the policy: counted by `clause check`, not repeated
    return Analysis(root, texts, policy, sources, quotes, sorted(shown, key=Diagnostic.sort_key))


def word_end(text: str, line: int, column: int) -> int:
    """The column just after the word at (line, column): where a span without an end stops."""
    lines = text.split("\n")
    if not 0 < line <= len(lines):
        return column
    m = re.compile(r"\S*").match(lines[line - 1], max(column - 1, 0))
    return max(column + 1, m.end() + 1) if m else column + 1


def _inside(span: Span, line: int, column: int) -> bool:
    if not span.line:
        return False
    end_line, end_column = span.end_line or span.line, span.end_column or span.column + 1
    return (span.line, span.column) <= (line, column) < (end_line, end_column)


def _references(item: object) -> list[ast.Name]:
    """The ids an item names: its own, those it is a version of, overrides or overlaps, those an
    `accept` line names, a section's document."""
    if isinstance(item, ast.Clause):
        version = [item.version_of] if item.version_of else []
        return [item.id, *version, *item.overrides, *(n for o in item.overlaps for n in o.others)]
    if isinstance(item, ast.Acceptance):
        return list(item.clauses)
    if isinstance(item, (ast.NotEncoded, ast.Document)):
        return [item.id]
    if isinstance(item, ast.Section):
        return [item.document]
    return []


def _name_at(analysis: Analysis, path: str, line: int, column: int) -> ast.Name | None:
    for item in analysis.items(path):
        for name in _references(item):
            if _inside(name.span, line, column):
                return name
    return None


def definition(analysis: Analysis, path: str, line: int, column: int) -> Span | None:
    """Where the clause, exception or document named at this position is defined."""
    name = _name_at(analysis, path, line, column)
    target = analysis.index.get(name.value) if name else None
    return target.id.span if target is not None else None


def hover(analysis: Analysis, path: str, line: int, column: int) -> str | None:
    """Markdown for the quote or id at this position, or None."""
    for item in analysis.items(path):
        for i, quote in enumerate(getattr(item, "says", ())):
            if _inside(quote.span, line, column):
                return _quote_hover(analysis, item, i)
    name = _name_at(analysis, path, line, column)
    target = analysis.index.get(name.value) if name else None
    return _id_hover(analysis, target) if target is not None else None


def _quote_hover(analysis: Analysis, item: ast.Clause | ast.NotEncoded, i: int) -> str:
    doc = analysis.index.get(item.document)
    title = f"{doc.title.value} ({item.document})" if isinstance(doc, ast.Document) else item.document
    head = f"**{item.id.value}**, quote {i + 1} of {len(item.says)}: {title}"
    head += f", section “{item.section}”" if item.section else ""
    found = analysis.quotes.get((item.id.value, i))
    if found is None or found[0] not in analysis.sources:
        return f"{head}\n\n> {normalise(item.says[i].value)}\n\nnot found in the source text (see the diagnostic)"
    source = analysis.sources[found[0]]
    _, start, end = found
    line, column = source.position(start)
    sentences = [s.text for s in source.sentences if s.start < end and s.end > start]
    body = "\n>\n".join(f"> {s}" for s in sentences or [normalise(item.says[i].value)])
    return f"{head}\n\n{body}\n\n{source.path}, line {line}, column {column}"


def _id_hover(analysis: Analysis, item: ast.Clause | ast.NotEncoded | ast.Document) -> str:
    where = f"{_shown(item.span.file, analysis.root)}:{item.span.line}"
    if isinstance(item, ast.Document):
        return f"**{item.id.value}**: {item.title.value}\n\nsource: {item.source.value} ({where})"
    kind = "not encoded" if isinstance(item, ast.NotEncoded) else "exception" if item.is_exception else "clause"
    lines = [f"**{item.id.value}** ({kind}): {item.title.value}"]
    if isinstance(item, ast.Clause) and item.overrides:
        lines.append(f"overrides {'actor of ' if item.override_actor else ''}{', '.join(n.value for n in item.overrides)}")
    lines += [f"> {normalise(q.value)}" for q in item.says]
    if isinstance(item, ast.NotEncoded):
        lines.append(f"because: {item.because.value}")
    lines.append(where)
    return "\n\n".join(lines)


def _shown(file: str, root: Path) -> str:
    try:
        return str(Path(file).relative_to(root.parent))
    except ValueError:
        return file


def completions(analysis: Analysis | None, before: str) -> list[tuple[str, str]]:
    """(name, what it is) for the word being typed, given the line's text before the cursor:
    after `status` the statuses, after `flag` the flags, after a modality the actions,
    after `then` or `also` the actors; elsewhere every name and keyword."""
    declared = analysis.policy.items(ast.Declaration) if analysis else ()
    actors = sorted(set(vocab.ACTORS) | {d.name.value for d in declared if d.kind == "actor"})
    actions = sorted(set(vocab.ACTIONS) | {d.name.value for d in declared if d.kind == "action"})
    groups = {
        "status": [(s, "status") for s in vocab.STATUSES],
        "flag": [(f, "child flag") for f in vocab.FLAGS],
        "actor": [(a, "actor") for a in actors],
        "action": [(a, "action") for a in actions],
    }
    words = re.findall(r"[a-z_]+", before)
    typing = bool(before) and not before[-1].isspace()
    previous = words[-2] if typing and len(words) > 1 else words[-1] if words and not typing else ""
    if previous in ("status", "flag"):
        return groups[previous]
    if previous in vocab.MODALITIES:
        return groups["action"]
    if previous in ("then", "also"):
        return groups["actor"]
    rest = [(m, "modality") for m in vocab.MODALITIES] + [(c, "category") for c in vocab.CATEGORIES]
    rest += [(r, "risk level") for r in vocab.RISK_LEVELS] + [(f, "child field") for f in vocab.CHILD_FIELDS]
    rest += [(f, "episode field") for f in (*vocab.EPISODE_BOOLEANS, *vocab.EPISODE_LEVELS)]
    rest += [(k, "keyword") for k in KEYWORDS]
    entries = [entry for g in groups.values() for entry in g] + rest
    first: dict[str, str] = {}
    for name, what in entries:
        first.setdefault(name, what)  # safeguarding_concerns is a child flag and an episode field
    return list(first.items())
