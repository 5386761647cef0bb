"""Stage 1: policy text -> AST.

Input: the text of one `.clause` file and its path. Output: a `PolicyFile` of
frozen AST nodes, or a `ClauseError` holding one E001 diagnostic (the first
syntax error, in the words of compiler/parse_errors.py). The Lark tree never leaves this
module; every node's `Span` names the file, position and enclosing clause id.
"""
from __future__ import annotations

from datetime import date

import bisect
import re
from functools import lru_cache
from pathlib import Path

from lark import Lark, Token, Transformer, Tree, v_args
from lark.exceptions import UnexpectedInput, VisitError

from compiler import ast
from compiler.core.diagnostics import ClauseError, Diagnostic, Span, error
from compiler.parse_errors import syntax_error

GRAMMAR = Path(__file__).with_name("grammar.lark")
# Limits that keep every later stage (all recursive over conditions) well inside
# Python's recursion limit, and every duration inside what datetime can represent.
MAX_DEPTH = 100
MAX_NUMBER = 9999

@lru_cache(maxsize=2)
def parser(keep_all_tokens: bool = False) -> Lark:
    """The compiled grammar, built once per process, its analysis kept in the cache folder so
    later processes load it: sealed (compiler/core/sealed.py), since Lark's own cache would
    unpickle whatever file it finds; keyed by the grammar's text and Lark's version.
    `keep_all_tokens` keeps the keywords in the tree too: the formatter (compiler/fmt.py) lays them out."""
    import hashlib
    import io

    import lark

    from compiler.core import sealed
    from compiler.core.files import cache_dir
    text = GRAMMAR.read_text(encoding="utf-8")
    folder = cache_dir()
    entry = None
    if folder is not None:
        digest = hashlib.sha256(f"{lark.__version__}\0{text}".encode()).hexdigest()[:32]
        entry = folder / f"{'fmt-' if keep_all_tokens else ''}grammar-{digest}.lark"
        data = sealed.read(entry)
        if data is not None:
            try:
                return Lark.load(io.BytesIO(data))
            except Exception:  # noqa: BLE001 - an entry of another format: rebuild it
                pass
    built = Lark(text, parser="lalr", propagate_positions=True, maybe_placeholders=False, keep_all_tokens=keep_all_tokens)
    if entry is not None:
        buf = io.BytesIO()
        built.save(buf)
        sealed.write(entry, buf.getvalue())
    return built


def parse_file(path: Path | str, text: str | None = None) -> ast.PolicyFile:
    """Parse one file; `text` overrides reading it (for tests and fuzzing)."""
    path = str(path)
    if text is None:
        raw = Path(path).read_bytes()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            line = raw[: e.start].count(b"\n") + 1
            col = len(raw[raw.rfind(b"\n", 0, e.start) + 1: e.start].decode("utf-8")) + 1
            raise ClauseError([error("E001", Span(path, line, col), "the file is not valid UTF-8 text",
                                     "save the policy file as UTF-8")]) from None
    try:
        tree = parser().parse(text)
    except UnexpectedInput as e:
        raise ClauseError([syntax_error(path, text, e, _keywords())]) from None
    deep = _too_deep(tree)
    if deep is not None:
        raise ClauseError([_nesting_error(Span(path, deep.meta.line, deep.meta.column))])
    try:
        items = _Builder(path, tree).transform(tree).children
    except VisitError as e:
        if isinstance(e.orig_exc, ClauseError):
            raise e.orig_exc from None
        if isinstance(e.orig_exc, RecursionError):
            raise ClauseError([_nesting_error(Span(path, 1, 1))]) from None
        raise
    except RecursionError:
        raise ClauseError([_nesting_error(Span(path, 1, 1))]) from None
    return ast.PolicyFile(path, tuple(items))


def _too_deep(tree: Tree) -> Tree | None:
    """The first subtree nested more than MAX_DEPTH levels down, found without recursion."""
    stack = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            return node
        stack.extend((c, depth + 1) for c in reversed(node.children) if isinstance(c, Tree))
    return None


def _nesting_error(span: Span) -> Diagnostic:
    return error("E001", span, f"the conditions are nested too deeply (at most {MAX_DEPTH} levels)",
                 "split the clause, or remove redundant brackets")


@lru_cache(maxsize=1)
def _keywords() -> dict[str, str]:
    """Keyword terminals and their words ("THEN" -> "then"), for syntax errors."""
    return {t.name: t.pattern.value for t in parser().terminals if t.pattern.type == "str"}


def _unquote(token: Token) -> str:
    """The text between the quotes: a straight-quoted text takes backslash escapes, a curly one is verbatim."""
    if str(token).startswith("“"):
        return str(token)[1:-1]
    return re.sub(r"\\(.)", r"\1", str(token)[1:-1])


@v_args(meta=True)
class _Builder(Transformer):
    """Lark tree -> AST. Knows each top-level item's extent to stamp clause ids."""

    def __init__(self, path: str, tree: Tree) -> None:
        super().__init__()
        self.path = path
        self.current_section: tuple[str, str] = ("", "")
        starts, ids = [], []
        for item in tree.children:
            if isinstance(item, Tree) and item.data in ("clause", "exception", "not_encoded", "local_standard") and not item.meta.empty:
                starts.append(item.meta.start_pos)
                ids.append((item.meta.end_pos, str(item.children[0])))
        self._starts, self._ids = starts, ids

    # -- positions --
    def _clause_at(self, pos: int) -> str:
        i = bisect.bisect_right(self._starts, pos) - 1
        if i >= 0 and pos < self._ids[i][0]:
            return self._ids[i][1]
        return ""

    def span(self, meta) -> Span:
        if getattr(meta, "empty", True):
            return Span(self.path)
        return Span(self.path, meta.line, meta.column, meta.end_line, meta.end_column, self._clause_at(meta.start_pos))

    def tok_span(self, tok: Token) -> Span:
        return Span(self.path, tok.line, tok.column, tok.end_line or tok.line, tok.end_column or tok.column,
                    self._clause_at(tok.start_pos or 0))

    def name(self, tok: Token) -> ast.Name:
        return ast.Name(str(tok), self.tok_span(tok))

    def text(self, tok: Token) -> ast.Text:
        return ast.Text(_unquote(tok), self.tok_span(tok))

    # -- small pieces --
    def unit(self, meta, c):
        return str(c[0])

    def anchor(self, meta, c):
        return str(c[0])

    def age_side(self, meta, c):
        return str(c[0])

    def decl_kind(self, meta, c):
        return str(c[0])

    def number(self, tok: Token) -> int:
        # Length first: int() refuses strings of more than 4,300 digits.
        if len(tok.lstrip("0")) > len(str(MAX_NUMBER)) or int(tok) > MAX_NUMBER:
            shown = tok if len(tok) <= 12 else tok[:12] + "..."
            raise ClauseError([error("E001", self.tok_span(tok), f"the number {shown} is too large; at most {MAX_NUMBER}")])
        return int(tok)

    def _duration(self, number: Token, unit: str) -> ast.Duration:
        days = unit.startswith("day")
        return ast.Duration(self.number(number) * (1440 if days else 60), "days" if days else "hours")

    def moment(self, meta, c):
        if len(c) == 1:
            return ast.Moment(c[0], None, self.span(meta))
        return ast.Moment(c[2], self._duration(c[0], c[1]), self.span(meta))

    def id_list(self, meta, c):
        return tuple(self.name(t) for t in c)

    def override_target(self, meta, c):
        return (len(c) == 3, c[-1])

    def says(self, meta, c):
        return ("says", self.text(c[0]))

    def note(self, meta, c):
        return ("note", self.text(c[0]))

    def because(self, meta, c):
        return ("because", self.text(c[0]))

    def overlaps(self, meta, c):
        return ("overlaps", ast.Overlap(c[0], self.text(c[1]), self.span(meta)))

    def when(self, meta, c):
        return ("when", c[0])

    def then(self, meta, c):
        return ("then", tuple(c))

    def body(self, meta, c):
        parts: dict[str, list] = {"says": [], "note": [], "overlaps": [], "when": [], "then": []}
        for key, value in c:
            parts[key].append(value)
        return parts

    # -- conditions --
    def has_status(self, meta, c):
        return ast.HasStatus(self.name(c[0]), self.span(meta))

    def no_status(self, meta, c):
        return ast.NoStatus(self.span(meta))

    def has_flag(self, meta, c):
        return ast.HasFlag(self.name(c[0]), self.span(meta))

    def child_field(self, meta, c):
        return ast.ChildField(self.name(c[0]), self.name(c[1]), self.span(meta))

    def age(self, meta, c):
        return ast.Age(self.number(c[0]), c[1], self.span(meta))

    def returned(self, meta, c):
        return ast.Returned(self.span(meta))

    def window(self, meta, c):
        return ast.Window(self.number(c[0]), self._duration(c[1], c[2]), self.span(meta))

    def window_flag(self, meta, c):
        return ast.WindowFlag(self.name(c[0]), self._duration(c[1], c[2]), self.span(meta))

    def lasted(self, meta, c):
        strict = len(c) == 3
        number, unit = c[-2], c[-1]
        return ast.Lasted(self._duration(number, unit), strict, self.span(meta))

    def episode_field(self, meta, c):
        return ast.EpisodeField(self.name(c[0]), self.name(c[1]) if len(c) > 1 else None, self.span(meta))

    def category(self, meta, c):
        return ast.Category(self.name(c[0]), self.span(meta))

    def risk(self, meta, c):
        return ast.Risk(self.name(c[0]), self.span(meta))

    def off_day(self, meta, c):
        return ast.OffDay(c[0], True, self.span(meta))

    def weekend(self, meta, c):
        return ast.OffDay(c[0], False, self.span(meta))

    def reported(self, meta, c):
        return ast.Reported(self.span(meta))

    def negation(self, meta, c):
        return ast.Not(c[0], self.span(meta))

    def and_cond(self, meta, c):
        return ast.And(tuple(c), self.span(meta))

    def or_cond(self, meta, c):
        return ast.Or(tuple(c), self.span(meta))

    # -- conclusions --
    def actors(self, meta, c):
        return tuple(self.name(t) for t in c)

    def starts(self, meta, c):
        return ("start", c[0])

    def within(self, meta, c):
        return ("within", (self._duration(c[0], c[1]), c[2] if len(c) > 2 else None))

    def immediately(self, meta, c):
        return ("immediately", True)

    def every(self, meta, c):
        return ("every", self._duration(c[0], c[1]))

    def until_returned(self, meta, c):
        return ("until_returned", True)

    def obligation(self, meta, c):
        actors, words, timings = c[0], [t for t in c[1:] if isinstance(t, Token)], [t for t in c[1:] if isinstance(t, tuple)]
        modality, *rest = words
        verb, action = (rest[0], rest[1]) if len(rest) == 2 else (None, rest[0])
        t: dict = {}
        for key, value in timings:
            t[key] = value
        due_after, due_anchor = t.get("within", (None, None))
        timing = ast.Timing(t.get("start"), due_after, due_anchor, t.get("immediately", False), t.get("every"),
                            t.get("until_returned", False) or "every" in t)
        return ast.Obligation(actors, self.name(modality), self.name(verb) if verb else None, self.name(action),
                              timing, self.span(meta))

    def set_category(self, meta, c):
        return ast.SetCategory(self.name(c[0]), self.span(meta))

    def set_risk(self, meta, c):
        return ast.SetRisk(self.name(c[0]), None, self.span(meta))

    def set_risk_from(self, meta, c):
        return ast.SetRisk(None, self.name(c[0]), self.span(meta))

    def actor_instead(self, meta, c):
        return ast.ActorInstead(self.name(c[0]), self.span(meta))

    # -- versions --
    def _date(self, tok: Token) -> date:
        try:
            return date.fromisoformat(str(tok))
        except ValueError:
            raise ClauseError([error("E001", self.tok_span(tok), f"{tok} is not a date",
                                     "write dates as YYYY-MM-DD, e.g. 2023-10-25")]) from None

    def in_force_from(self, meta, c):
        return ast.Period(self._date(c[0]), self._date(c[1]) if len(c) > 1 else None, self.span(meta))

    def in_force_until(self, meta, c):
        return ast.Period(None, self._date(c[0]), self.span(meta))

    def version(self, meta, c):
        return ("version", self.name(c[0]))

    # -- items --
    def document(self, meta, c):
        return ast.Document(self.name(c[0]), self.text(c[1]), self.text(c[2]), self.span(meta),
                            c[3] if len(c) > 3 else None)

    def section(self, meta, c):
        self.current_section = (str(c[0]), _unquote(c[1]))
        return ast.Section(self.name(c[0]), self.text(c[1]), self.text(c[2]) if len(c) > 2 else None, self.span(meta))

    def declaration(self, meta, c):
        return ast.Declaration(c[0], self.name(c[1]), self.text(c[2]), self.span(meta))

    def _clause(self, meta, ident: Token, title: Token, body: dict, overrides=(), override_actor=False,
                header: list | None = None) -> ast.Clause:
        when = body["when"][0] if body["when"] else None
        version = next((x[1] for x in header or () if isinstance(x, tuple)), None)
        period = next((x for x in header or () if isinstance(x, ast.Period)), None)
        return ast.Clause(self.name(ident), self.text(title), self.current_section[0], self.current_section[1],
                          tuple(body["says"]), tuple(body["note"]), tuple(body["overlaps"]), when,
                          body["then"][0], tuple(overrides), override_actor, self.span(meta), version, period)

    def clause(self, meta, c):
        return self._clause(meta, c[0], c[1], c[-1], header=c[2:-1])

    def exception(self, meta, c):
        override_actor, ids = c[-2]
        return self._clause(meta, c[0], c[1], c[-1], ids, override_actor, header=c[2:-2])

    def acceptance(self, meta, c):
        return ast.Acceptance(self.name(c[0]), tuple(self.name(t) for t in c[1:-1]), self.text(c[-1]), self.span(meta))

    def local_standard(self, meta, c):
        return ast.LocalStandard(self.name(c[0]), self.text(c[1]), self.name(c[2]), self._duration(c[3], c[4]),
                                 self.span(meta))

    def not_encoded(self, meta, c):
        says = tuple(v for k, v in c[2:-1])
        return ast.NotEncoded(self.name(c[0]), self.text(c[1]), self.current_section[0], self.current_section[1], says,
                              c[-1][1], self.span(meta))
