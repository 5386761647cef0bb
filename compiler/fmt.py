"""The formatter: a `.clause` file's text -> the same policy in the canonical layout.

Input: one file's text and its path (for diagnostics). Output: the formatted text,
or a `ClauseError` with the file's syntax error (a file that does not parse is never
rewritten). Layout: an item's head on one line at the margin; each part (`says`,
`note`, `overlaps`, `when`, `then`, `because`, a document's `source`) and each `also`
on its own line indented two spaces; the `and`s (or `or`s) that join a condition's
top level each start a line, right-aligned under `when`; words separated by one
space; a blank line around clauses, exceptions, `not encoded` entries and sections.

It works from the parse tree with every token kept (keywords too) and from the
source text between tokens, which holds only whitespace and comments; the tree only
says where lines break. Invariants, checked on every call before anything is
returned: the output has the input's tokens, in order and byte for byte (so quotes
are never touched and the compiled program is the same), and its comments, in
order (trailing whitespace removed). fmt(fmt(x)) == fmt(x).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from lark import Token, Tree
from lark.exceptions import UnexpectedInput

from compiler.core.diagnostics import ClauseError, Span, error

PARTS = {"says", "note", "overlaps", "when", "then", "because"}
LINE_WORDS = {("then", "also"), ("document", "source")}  # (rule, keyword): the keyword starts a line
BLOCKS = {"clause", "exception", "not_encoded", "section"}  # items set off by blank lines
INDENT = 2
_COMMENT = re.compile(r"#[^\n]*")
_NO_SPACE_AFTER, _NO_SPACE_BEFORE = {"("}, {")", ","}


@dataclass(frozen=True)
class _Word:
    """A token and where the layout puts it: `indent` when it starts a line, else None."""

    token: Token
    indent: int | tuple[str, int] | None  # ("(", id of a bracket): the column just inside it
    kind: str  # the rule of the top-level item it belongs to
    item_start: bool


@dataclass(frozen=True)
class _Comment:
    text: str
    trailing: bool  # on the same line as the token before it
    blank_before: bool


@dataclass(frozen=True)
class _Gap:
    """What the source has between two tokens: comments, and whether a blank line ends it."""

    comments: tuple[_Comment, ...]
    blank_at_end: bool


def format_text(text: str, path: str = "<text>") -> str:
    """The canonical layout of one file's text. Raises ClauseError if it does not parse."""
    from compiler.parse import parse_file
    parse_file(path, text)  # the compiler's own diagnostics for a file that does not parse
    words, gaps = _read(text, path)
    out = _layout(words, gaps)
    if _signature(words, gaps) != _signature(*_read(out, path)):
        raise _refused(path)
    return out


def _refused(path: str) -> ClauseError:
    return ClauseError([error("E001", Span(path), "the formatter would change this file's meaning; it is left as it is",
                              "please report this as a bug, with the file")])


def format_file(path: Path, shown: str) -> tuple[str, str]:
    """(the file's text, its formatted text); ClauseError if it cannot be read or parsed."""
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise ClauseError([error("E000", Span(shown), f"cannot read the file: {e.strerror}")]) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        from compiler.parse import parse_file
        parse_file(path)  # raises the compiler's E001, with the position of the first bad byte
        raise
    return text, format_text(text, shown)


def _signature(words: list[_Word], gaps: list[_Gap]) -> tuple:
    return [(w.token.type, str(w.token)) for w in words], [c.text for g in gaps for c in g.comments]


def _tree(text: str, path: str) -> Tree:
    try:
        from compiler.parse import parser
        return parser(keep_all_tokens=True).parse(text)
    except UnexpectedInput as e:
        raise ClauseError([error("E001", Span(path, getattr(e, "line", 1) or 1, getattr(e, "column", 1) or 1),
                                 "syntax error: the formatter cannot read the file here")]) from None


def _read(text: str, path: str) -> tuple[list[_Word], list[_Gap]]:
    """The words in order, and the gap before each word (one more: after the last)."""
    words = [w for item in _tree(text, path).children for w in _item_words(item)]
    gaps, end = [], 0
    for w in words:
        gaps.append(_gap(text[end:w.token.start_pos], not gaps, path))
        end = w.token.end_pos
    gaps.append(_gap(text[end:], not words, path))
    return words, gaps


def _gap(text: str, first: bool, path: str) -> _Gap:
    """The comments in the text between two tokens; the rest is whitespace (the parser ignores nothing else)."""
    if _COMMENT.sub("", text).strip():
        raise _refused(path)
    comments, at = [], 0
    for m in _COMMENT.finditer(text):
        before = text[at:m.start()]
        trailing = not first and at == 0 and "\n" not in before
        comments.append(_Comment(m.group().rstrip(), trailing, before.count("\n") >= 2))
        at = m.end()
    return _Gap(tuple(comments), text[at:].count("\n") >= 2)


def _item_words(item: Tree) -> Iterator[_Word]:
    starts: dict[int, int | tuple] = {}  # id(token) -> indent of the line it starts
    _mark(item, starts)
    for i, tok in enumerate(_tokens(item)):
        yield _Word(tok, 0 if i == 0 else starts.get(id(tok)), str(item.data), i == 0)


def _tokens(node: Tree | Token) -> Iterator[Token]:
    if isinstance(node, Token):
        yield node
        return
    for child in node.children:
        yield from _tokens(child)


def _mark(node: Tree, starts: dict[int, int | tuple]) -> None:
    """Record the tokens that start a line inside `node`, with their indents."""
    for child in node.children:
        if isinstance(child, Token):
            if (node.data, str(child)) in LINE_WORDS:
                starts[id(child)] = INDENT
            continue
        first = next(_tokens(child), None)
        if child.data in PARTS and first is not None:
            starts[id(first)] = INDENT
        if child.data == "when":
            _mark_condition(child, starts)
        _mark(child, starts)


def _mark_condition(when: Tree, starts: dict[int, int | tuple]) -> None:
    """The `and`s or `or`s of the condition's top level start lines, right-aligned under `when`;
    so do those of a bracketed group that holds another bracketed group of several conditions,
    each at the column just inside its group's opening bracket (innermost groups stay on one line)."""
    root = when.children[-1]
    if isinstance(root, Tree) and root.data in ("and_cond", "or_cond"):
        for child in root.children:
            if isinstance(child, Token) and str(child) in ("and", "or"):
                starts[id(child)] = INDENT + len("when") - len(str(child))
    for group in _groups(root):
        if any(True for inner in _groups(group.children[1]) if inner is not group):
            for child in group.children[1].children:
                if isinstance(child, Token) and str(child) in ("and", "or"):
                    starts[id(child)] = ("(", id(group.children[0]))


def _groups(node: Tree | Token) -> Iterator[Tree]:
    """The bracketed groups of several conditions in a condition, outermost first."""
    if not isinstance(node, Tree):
        return
    first = node.children[0] if node.children else None
    if (isinstance(first, Token) and str(first) == "(" and isinstance(node.children[1], Tree)
            and node.children[1].data in ("and_cond", "or_cond")):
        yield node
    for child in node.children:
        yield from _groups(child)


def _layout(words: list[_Word], gaps: list[_Gap]) -> str:
    """Lay the words out; comments keep their places, blank lines survive only between items."""
    lines: list[str] = []
    line: list[str] = []
    line_indent = home = 0  # home: the indent of the line the current word belongs to

    def emit() -> None:
        nonlocal line
        if line:
            lines.append(" " * line_indent + _join(line))
        line = []

    def blank() -> None:
        if lines and lines[-1]:
            lines.append("")

    inside: dict[int, int] = {}  # id of an opening bracket -> the column just inside it
    for i, gap in enumerate(gaps):
        w = words[i] if i < len(words) else None
        between_items = w is None or w.item_start
        force = (w is not None and w.item_start and i > 0 and (w.kind in BLOCKS or words[i - 1].kind in BLOCKS))
        start = None if w is None else inside[w.indent[1]] if isinstance(w.indent, tuple) else w.indent
        indent = 0 if w is None else start if start is not None else home + 2 * INDENT
        for c in gap.comments:
            if c.trailing and line:
                line.append("  " + c.text)
                emit()
                continue
            emit()
            if between_items and (c.blank_before or force):
                blank()
                force = False
            lines.append(" " * indent + c.text)
        if w is None:
            break
        if start is not None or not line:
            emit()
            if between_items and (gap.blank_at_end or force):
                blank()
            home = start if start is not None else home
            line_indent = indent
        line.append(str(w.token))
        if str(w.token) == "(":
            inside[id(w.token)] = line_indent + len(_join(line))
    emit()
    return "\n".join(lines) + "\n" if lines else ""


def _join(parts: list[str]) -> str:
    out = ""
    for p in parts:
        if out and not (out[-1] in _NO_SPACE_AFTER or p in _NO_SPACE_BEFORE or p.startswith("  #")):
            out += " "
        out += p
    return out
