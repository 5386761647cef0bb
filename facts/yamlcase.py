"""Regression-case YAML files -> `Case` objects (format: ../shared/spec/case-format.md).

Input: paths of case files, or folders searched recursively for `*.yaml`/`*.yml`
(sorted; files and folders whose name starts with '.' are skipped). Output: `Case`
objects whose facts and expectations carry the span they were written at.
Invariants: loading never constructs arbitrary Python objects and never leaks an
exception other than `ClauseError`, which carries every problem found in every
file (codes in `validate.py`). Scalars keep their source text: `id: 007` is "007",
and times are read by compiler/core/london.py, not by YAML's timestamp rules. A file is parsed
by libyaml where it agrees with PyYAML (`reads_fast`), by PyYAML otherwise and for every error.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Collection, Iterable, Mapping

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.events import AliasEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.resolver import Resolver

try:
    from yaml.cyaml import CParser
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    CParser = None  # type: ignore[assignment,misc]

from facts import limits
from compiler.core.diagnostics import ClauseError, Diagnostic, Span, error, raise_if_errors
from facts.model import Case, Expectations
from facts.collect import FactCollector
from facts.validate import BAD, Field, Record, convert, ident, instant, mapping, records, text, unknown_field

TOP = {"case": ident, "description": text, "as_of": instant, "children": records,
       "episodes": records, "actions": records, "expect": mapping}
EXPECT_KEYS = ("obligations", "not_obligations", "episodes")
_YAML = "tag:yaml.org,2002:"
SUFFIXES = (".yaml", ".yml")
Known = Mapping[str, Collection[str]]


class _Building:
    """Composes nodes and builds located values from them (mixed into a YAML loader).

    Mappings become `Record`s (keeping each key's and value's position) and
    sequences lists of `Field`s; duplicate keys, non-text keys, unsupported tags and
    aliases become diagnostics. Only plain data is ever built. Aliases (`*name`) are
    refused where they are composed, before anything is expanded: a 2 KB file of nested
    aliases would otherwise stand for gigabytes of data, and a case is written to be read.
    """

    file: str
    diags: list[Diagnostic]
    _refused: set[str]

    def _start(self, file: str) -> None:
        self.file = file
        self.diags = []
        self._refused = set()

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        if self.check_event(AliasEvent):
            event = self.get_event()
            mark = event.start_mark
            if event.anchor in self._refused:  # each alias name once: a bomb repeats them
                return ScalarNode("tag:yaml.org,2002:null", "", mark, event.end_mark)
            self._refused.add(event.anchor)
            self.diags.append(error("F009", Span(self.file, mark.line + 1, mark.column + 1),
                                    f"a YAML alias ('*{event.anchor}') is not allowed in a case file",
                                    "write the value out in full; case files are read by people"))
            return ScalarNode("tag:yaml.org,2002:null", "", mark, event.end_mark)
        return super().compose_node(parent, index)

    def span(self, node: Node) -> Span:
        """Where `node` starts; scalars also record where they end (for the caret)."""
        s, e = node.start_mark, node.end_mark
        if isinstance(node, ScalarNode):
            return Span(self.file, s.line + 1, s.column + 1, e.line + 1, e.column + 1)
        return Span(self.file, s.line + 1, s.column + 1)

    def _tag_ok(self, node: Node, allowed: tuple[str, ...]) -> None:
        if node.tag not in tuple(_YAML + t for t in allowed):
            self.diags.append(error("F009", self.span(node), f"unsupported YAML tag '{node.tag}'",
                                    "remove the '!' tag; case files hold plain text, numbers, lists and mappings"))

    def build(self, node: Node) -> Any:
        """Plain data for a node (no node is shared: aliases are refused when composed)."""
        if isinstance(node, MappingNode):
            self._tag_ok(node, ("map",))
            fields: dict[str, Field] = {}
            for knode, vnode in node.value:
                if not isinstance(knode, ScalarNode):
                    self.diags.append(error("F009", self.span(knode), "a field name must be plain text"))
                    continue
                name = knode.value
                if name in fields:
                    first = fields[name].key_span
                    self.diags.append(error("F008", self.span(knode),
                                            f"duplicate field '{name}' (first given at line {first.line})",
                                            "give each field once", (first,)))
                    continue
                fields[name] = self.field(vnode, self.span(knode))
            return Record(fields, self.span(node))
        if isinstance(node, SequenceNode):
            self._tag_ok(node, ("seq",))
            return [self.field(item) for item in node.value]
        return self._scalar(node)

    def field(self, node: Node, key_span: Span | None = None) -> Field:
        span = self.span(node)
        source = node.value if isinstance(node, ScalarNode) else None
        return Field(self.build(node), span, key_span or span, source)

    def _scalar(self, node: ScalarNode) -> Any:
        tag = node.tag[len(_YAML):] if node.tag.startswith(_YAML) else node.tag
        if tag in ("str", "timestamp"):
            return node.value
        if tag == "null":
            return None
        makers = {"bool": self.construct_yaml_bool, "int": self.construct_yaml_int, "float": self.construct_yaml_float}
        if tag in makers:
            try:
                return makers[tag](node)
            except (ValueError, KeyError, TypeError, OverflowError, IndexError):  # IndexError: `!!int` on an empty value
                return node.value
        self._tag_ok(node, ("str",))
        return node.value


class CaseLoader(_Building, yaml.SafeLoader):
    """PyYAML's pure-Python reader and parser: the reference, and the one whose errors are reported."""

    def __init__(self, stream: str, file: str) -> None:
        yaml.SafeLoader.__init__(self, stream)
        self._start(file)


if getattr(yaml, "__with_libyaml__", False):
    class _FastLoader(_Building, Composer, CParser, SafeConstructor, Resolver):  # type: ignore[misc]
        """libyaml's parser (C) under the same Python composer and builder: the same nodes, marks and
        values, a whole case read about twice as fast. Used first where `reads_fast`; any YAML error is
        read again by `CaseLoader`, so a diagnostic is always PyYAML's."""

        def __init__(self, stream: str, file: str) -> None:
            CParser.__init__(self, stream)
            Composer.__init__(self)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)
            self._start(file)
else:  # pragma: no cover - PyYAML built without libyaml
    _FastLoader = CaseLoader  # type: ignore[misc,assignment]


def _position(text: str, index: int) -> tuple[int, int]:
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


def _syntax_error(file: str, text: str, exc: Exception) -> Diagnostic:
    hint = "check indentation, and quote values containing ': ' or '#'"
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        where = Span(file, mark.line + 1, mark.column + 1) if mark else Span(file, 1, 1)
        detail = ", ".join(p for p in (exc.context, exc.problem) if p) or "invalid YAML"
        if "another document" in detail:
            hint = "write one case per file"
        return error("F001", where, f"YAML syntax error: {detail}", hint)
    if isinstance(exc, yaml.reader.ReaderError):
        line, col = _position(text, exc.position)
        code = ord(exc.character) if isinstance(exc.character, str) else exc.character
        return error("F001", Span(file, line, col),
                     f"YAML syntax error: character #x{code:04x} is not allowed in a YAML file",
                     "remove the control character")
    if isinstance(exc, RecursionError):
        return error("F001", Span(file, 1, 1), "YAML syntax error: the file nests too deeply", hint)
    return error("F001", Span(file, 1, 1), f"YAML syntax error: {exc}", hint)


def _read(path: Path, file: str, diags: list[Diagnostic]) -> str | None:
    limit = limits.max_case_bytes()
    try:
        refused = limits.refuse(path, file, limit, "a case file")
        if refused is not None:
            diags.append(refused)
            return None
        with path.open("rb") as fh:
            data = fh.read(limit + 1)  # a file that grew since it was measured is cut, not swallowed
        if len(data) > limit:
            diags.append(limits.too_large(file, len(data), limit, "a case file"))
            return None
    except FileNotFoundError:
        diags.append(error("F011", Span(file), f"no such file or folder: {file}"))
        return None
    except OSError as exc:
        diags.append(error("F011", Span(file), f"cannot read {file}: {exc.strerror or exc}"))
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        before = data[:exc.start]
        line, col = before.count(b"\n") + 1, exc.start - (before.rfind(b"\n") + 1) + 1
        diags.append(error("F001", Span(file, line, col),
                           f"the file is not UTF-8 text: byte 0x{data[exc.start]:02x} cannot be decoded",
                           "save the file as UTF-8"))
        return None


def _compose(make: type, text: str, file: str) -> tuple[_Building, Node | None, Any]:
    loader = make(text, file)  # the reader rejects control characters here
    try:
        node = loader.get_single_node()
        return loader, node, None if node is None else loader.field(node).value
    finally:
        loader.dispose()


def reads_fast(text: str) -> bool:
    """Whether libyaml reads `text` first: ASCII without tabs, where the two parsers were found to agree
    on every input tried (tests/test_yaml_loaders.py). libyaml takes tabs inside plain values that PyYAML
    refuses, and reads some unusual characters (a BOM mid-file) otherwise."""
    return text.isascii() and "\t" not in text


def _parse(text: str, file: str, diags: list[Diagnostic]) -> Record | None:
    for make in ((_FastLoader, CaseLoader) if reads_fast(text) else (CaseLoader,)):
        try:
            loader, node, root = _compose(make, text, file)
            break
        except (yaml.YAMLError, RecursionError) as exc:
            if make is CaseLoader:  # PyYAML's reading of an error is the one reported
                diags.append(_syntax_error(file, text, exc))
                return None
    diags.extend(loader.diags)
    if node is None:
        diags.append(error("F010", Span(file, 1, 1), "the case file is empty", "start with 'case: my-case-name'"))
        return None
    if not isinstance(root, Record):
        diags.append(error("F010", loader.span(node),
                           f"a case file must be a mapping of fields (case, as_of, children, ...), not {_kind(root)}",
                           "start with 'case: my-case-name'"))
        return None
    return root


def _kind(value: Any) -> str:
    return "a list" if isinstance(value, list) else "a single value"


def _case(root: Record, coll: FactCollector) -> Case | None:
    values, ok = convert(root, TOP, ("case", "as_of"), "the case", coll.diags)
    for key, add in (("children", coll.add_child), ("episodes", coll.add_episode), ("actions", coll.add_action)):
        for item in values.get(key) or ():
            add(item.value)
    expect: dict[str, list] = {k: [] for k in EXPECT_KEYS}
    section = values.get("expect")
    if section is not None:
        for key, f in section.fields.items():
            if key not in EXPECT_KEYS:
                coll.diags.append(unknown_field(key, f.key_span, EXPECT_KEYS, "'expect'"))
                continue
            items = [] if f.value is None else records(f, key, "'expect'", coll.diags)
            for item in items if items is not BAD else ():
                entry = coll.expectation(item.value, "episode" if key == "episodes" else "obligation")
                if entry is not None:
                    expect[key].append(entry)
    facts = coll.finish()
    if not ok or coll.diags:
        return None
    span = root.fields["case"].key_span
    return Case(values["case"], values.get("description", ""), values["as_of"], facts,
                Expectations(*(tuple(expect[k]) for k in EXPECT_KEYS)), span)


def _dedupe(diags: list[Diagnostic]) -> list[Diagnostic]:
    return list(dict.fromkeys(diags))


def _load_one(path: Path, diags: list[Diagnostic], known: Known | None = None) -> Case | None:
    file = str(path)
    text_ = _read(path, file, diags)
    if text_ is None:
        return None
    root = _parse(text_, file, diags)
    if root is None:
        return None
    coll = FactCollector(known=known or {})
    case = _case(root, coll)
    diags.extend(_dedupe(coll.diags))
    return case


def load_case(path: str | Path, known: Known | None = None) -> Case:
    """One case file -> Case. Raises ClauseError with every problem in the file.

    `known`: the names a policy has (field -> names, e.g. `CompiledPolicy.known_names()`); an
    expectation naming another action, actor or clause is an error (F015)."""
    diags: list[Diagnostic] = []
    case = _load_one(Path(path), diags, known)
    raise_if_errors(_dedupe(diags))
    if case is None:  # cannot happen: no case means a diagnostic was recorded
        raise ClauseError([error("F001", Span(str(path)), "the case could not be read")])
    return case


def case_files(paths: Iterable[str | Path]) -> list[Path]:
    """Expand folders to their case files (recursive, sorted, hidden names skipped); keep files as given."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            found = [f for f in p.rglob("*") if f.suffix.lower() in SUFFIXES and f.is_file()
                     and not any(part.startswith(".") for part in f.relative_to(p).parts)]
            out.extend(sorted(found, key=lambda f: f.relative_to(p).as_posix()))
        else:
            out.append(p)
    return list(dict.fromkeys(out))


@dataclass(frozen=True)
class InvalidCase:
    """A case file that cannot be run, with every problem in it."""

    path: Path
    diagnostics: tuple[Diagnostic, ...]


def load_each(paths: Iterable[str | Path], known: Known | None = None) -> list[Case | InvalidCase]:
    """Case files and folders -> one Case or InvalidCase per file, in file order, so one bad file
    does not hide the others' results. Case names must be unique (F008, on the later file)."""
    out: list[Case | InvalidCase] = []
    seen: dict[str, Span] = {}
    for path in case_files(paths):
        diags: list[Diagnostic] = []
        case = _load_one(path, diags, known)
        if case is not None and case.name in seen:
            first = seen[case.name]
            diags.append(error("F008", case.span, f"duplicate case name '{case.name}' (also in {first.file})",
                               "give every case a unique 'case' name", (first,)))
        errors = [d for d in _dedupe(diags) if d.severity == "error"]
        if case is None or errors:
            out.append(InvalidCase(path, tuple(errors or _dedupe(diags))))
            continue
        seen[case.name] = case.span
        out.append(case)
    return out


def load_cases(paths: Iterable[str | Path], known: Known | None = None) -> list[Case]:
    """Case files and folders -> Cases in file order. Case names must be unique (F008).

    Raises ClauseError with every problem of every file.
    """
    loaded = load_each(paths, known)
    raise_if_errors([d for x in loaded if isinstance(x, InvalidCase) for d in x.diagnostics])
    return [x for x in loaded if isinstance(x, Case)]


__all__ = ["CaseLoader", "ClauseError", "InvalidCase", "case_files", "load_case", "load_cases", "load_each"]
