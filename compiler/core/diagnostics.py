"""Positions and problems: the one `Span` and the one `Diagnostic` type.

Every AST node, generated rule, loaded fact and explanation step carries a `Span`.
Every stage reports problems as `Diagnostic`s, collects them all, and fails once
by raising `ClauseError` with the whole list. Rendering (text with the source line
and a caret, or JSON) lives here too, so every command shows problems the same way.
Order, in every format: errors, then warnings, then accepted warnings (a warning the
policy accepts, with its reason: counted in text, listed last with "accepted" in JSON).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True, order=True)
class Span:
    """A place in a file: 1-based line and column; `clause` names the enclosing clause."""

    file: str
    line: int = 0
    column: int = 0
    end_line: int = 0
    end_column: int = 0
    clause: str = ""

    def __str__(self) -> str:
        if not self.line:
            return self.file
        return f"{self.file}:{self.line}:{self.column}"

    def with_clause(self, clause: str) -> "Span":
        return Span(self.file, self.line, self.column, self.end_line, self.end_column, clause)

    def to_json(self) -> dict:
        out = {"file": self.file, "line": self.line, "column": self.column}
        if self.clause:
            out["clause"] = self.clause
        return out


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem. `code` is stable (documented in README) so tools can key on it."""

    code: str
    severity: Severity
    span: Span
    message: str
    hint: str = ""
    related: tuple[Span, ...] = ()
    accepted: str = ""  # why the policy accepts this warning (`accept ...` or `overlaps`); "" if not accepted

    def sort_key(self) -> tuple:
        """Errors first, then warnings, then accepted warnings; by place within each."""
        rank = 0 if self.severity == "error" else 2 if self.accepted else 1
        return (rank, self.span.file, self.span.line, self.span.column, self.code, self.message)

    @property
    def subjects(self) -> tuple[str, ...]:
        """The clause ids this diagnostic is about: its own clause, then the related ones."""
        ids = [s.clause for s in (self.span, *self.related) if s.clause]
        return tuple(dict.fromkeys(ids))

    def to_json(self) -> dict:
        out = {
            "code": self.code,
            "severity": self.severity,
            **self.span.to_json(),
            "message": self.message,
        }
        if self.hint:
            out["hint"] = self.hint
        if self.related:
            out["related"] = [s.to_json() for s in self.related]
        if self.accepted:
            out["accepted"] = self.accepted
        return out


@dataclass
class ClauseError(Exception):
    """Raised once a stage has collected errors; carries every diagnostic, warnings too."""

    diagnostics: list[Diagnostic] = field(default_factory=list)

    def __str__(self) -> str:
        return render_text(self.diagnostics)


def display_path(path: Path, follow: bool = True) -> str:
    """Paths in messages: relative to the working directory when under it, so output is portable.
    `follow=False` names a link as itself (resolving it would name its target, or fail on a loop)."""
    full = path.resolve() if follow else path.parent.resolve() / path.name
    try:
        return str(full.relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def error(code: str, span: Span, message: str, hint: str = "", related: tuple[Span, ...] = ()) -> Diagnostic:
    return Diagnostic(code, "error", span, message, hint, related)


def warning(code: str, span: Span, message: str, hint: str = "", related: tuple[Span, ...] = ()) -> Diagnostic:
    return Diagnostic(code, "warning", span, message, hint, related)


def has_errors(diagnostics: Iterable[Diagnostic]) -> bool:
    return any(d.severity == "error" for d in diagnostics)


def raise_if_errors(diagnostics: list[Diagnostic]) -> None:
    if has_errors(diagnostics):
        raise ClauseError(sorted(diagnostics, key=Diagnostic.sort_key))


def _source_line(span: Span, sources: dict[str, str] | None) -> str | None:
    if not span.line:
        return None
    text = (sources or {}).get(span.file)
    if text is None:
        try:
            text = Path(span.file).read_text(encoding="utf-8", errors="replace")
        except (OSError, ValueError):
            return None
    lines = text.split("\n")  # as the parser counts lines: other breaks (\f, \u2028) are not new lines
    return lines[span.line - 1].rstrip("\r") if 0 < span.line <= len(lines) else None


def render_one(d: Diagnostic, sources: dict[str, str] | None = None) -> str:
    head = f"{d.span}: {d.severity}[{d.code}]: {d.message}"
    parts = [head]
    # Fact files hold children's personal data: their lines are never echoed, only located.
    line = None if d.code.startswith(("F", "X")) else _source_line(d.span, sources)
    if line is not None:
        gutter = f"{d.span.line:>5} | "
        parts.append(gutter + line.replace("\t", " "))
        width = 1
        if d.span.end_line == d.span.line and d.span.end_column > d.span.column:
            width = d.span.end_column - d.span.column
        width = max(1, min(width, len(line) - d.span.column + 1, 60))  # underline at most 60 characters
        parts.append(" " * (len(gutter) + max(d.span.column - 1, 0)) + "^" * max(width, 1))
    for rel in d.related:
        parts.append(f"      = see {rel}{' (' + rel.clause + ')' if rel.clause else ''}")
    if d.hint:
        parts.append(f"      = hint: {d.hint}")
    return "\n".join(parts)


# Control characters (C0, DEL, C1: a terminal obeys them, e.g. ESC ] 0 ; sets the window title, ESC [ 2 J
# clears the screen) and the bidirectional overrides (which reorder what is shown).
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def printable(text: str, keep: str = "") -> str:
    """`text` with each control or bidirectional-override character (but those in `keep`) written as `\\x1b`
    or `\\u202e`: text for a terminal, in which an id from the facts is shown, never obeyed."""
    return CONTROL.sub(lambda m: m[0] if m[0] in keep else f"\\x{ord(m[0]):02x}" if ord(m[0]) < 256
                       else f"\\u{ord(m[0]):04x}", text)


def render_text(diagnostics: Iterable[Diagnostic], sources: dict[str, str] | None = None) -> str:
    """Errors, then warnings, each with its source line; accepted warnings only counted; control characters
    (from the facts, in an id or a file name) escaped."""
    ds = sorted(diagnostics, key=Diagnostic.sort_key)
    shown = [d for d in ds if not d.accepted]
    body = "\n\n".join(render_one(d, sources) for d in shown)
    errors = sum(d.severity == "error" for d in shown)
    warnings, accepted = len(shown) - errors, len(ds) - len(shown)
    summary = f"{errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}"
    if accepted:
        summary += f", {accepted} accepted warning{'s' * (accepted != 1)}"
    return printable(f"{body}\n\n{summary}" if body else summary, keep="\n\t")


def render_json(diagnostics: Iterable[Diagnostic]) -> str:
    ds = sorted(diagnostics, key=Diagnostic.sort_key)
    return json.dumps([d.to_json() for d in ds], indent=2, ensure_ascii=False)
