"""Extract profiles: how an authority's tables map to Clause's facts, as data (YAML).

Input: a profile name shipped with Clause (`ssd`, `ssda903`: facts/extracts/profiles/*.yaml) or
the path of a profile file. Output: a checked `Profile`: for each table its file, the column
holding each fact, the codes its cells may hold and what each means, and the date formats.
Invariants: a profile is data, never code: every value is checked here (unknown keys, facts,
meanings and format tokens are F017 diagnostics with the profile file's line and column), so
readers (tables.py in Python, engine/backends/duck_extract.py in SQL) may trust it; the date formats
are compiled once into one regex each, which both readers use.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from compiler.core.diagnostics import ClauseError, Diagnostic, Span, error, raise_if_errors
from compiler.core.vocabulary import STATUSES
from facts.validate import Field, Record, did_you_mean

SHIPPED = Path(__file__).parent / "profiles"
NAMES = ("ssd", "ssda903")
# the facts each kind of table can give, and which are required
FACTS = {
    "people": {"id": True, "born": True},
    "missing": {"child": True, "start": True, "id": False, "end": False, "type": False,
                "interview_offered": False, "interview_accepted": False},
    "status": {"child": True, "start": True, "end": False, "id": False},
}
MEANINGS = {"type": ("missing", "absent"), "interview_offered": ("yes", "no", "none"),
            "interview_accepted": ("yes", "no", "none")}
# [0-9], not \d: Python's \d matches other scripts' digits, DuckDB's (RE2) does not
TOKENS = {"%Y": "(?P<Y>[0-9]{4})", "%m": "(?P<m>[0-9]{2})", "%d": "(?P<d>[0-9]{2})", "%H": "(?P<H>[0-9]{2})",
          "%M": "(?P<M>[0-9]{2})", "%S": "(?P<S>[0-9]{2})", "%f": "(?P<f>[0-9]{1,6})"}
LITERALS = set("-/ :T.")
NAME_MAX = 255  # bytes in a file name (Linux, macOS); a longer one cannot be opened


@dataclass(frozen=True, slots=True)
class DateFormat:
    """One way dates are written: `text` as in the profile, `regex` (named groups Y m d [H M [S [f]]]).
    Every part but %f has a fixed width, so `offsets` gives each part's 1-based position (%f: to the end)."""

    text: str
    regex: str
    has_time: bool

    @property
    def offsets(self) -> dict[str, tuple[int, int]]:
        """part -> (1-based start, width; 0 for %f: the rest of the text)."""
        out, i, pos = {}, 0, 1
        while i < len(self.text):
            if self.text[i] == "%":
                part = self.text[i + 1]
                width = 4 if part == "Y" else 0 if part == "f" else 2
                out[part] = (pos, width)
                pos += width
                i += 2
            else:
                pos += 1
                i += 1
        return out


@dataclass(frozen=True, slots=True)
class Table:
    kind: str                         # people, missing or status
    file: str                         # the file name, matched without regard to case
    columns: dict[str, str]           # fact -> column name
    codes: dict[str, dict[str, str]]  # fact -> {code as written: meaning}
    status: str | None = None         # for a status table: the status its intervals give
    required: bool = False            # for a status table: whether the file must be there (else F011, a warning)
    span: Span = field(default=Span(""), compare=False)


@dataclass(frozen=True, slots=True)
class Profile:
    name: str
    description: str
    formats: tuple[DateFormat, ...]
    people: Table
    missing: Table
    statuses: tuple[Table, ...]
    source: str  # the profile file

    @property
    def tables(self) -> tuple[Table, ...]:
        return (self.people, self.missing, *self.statuses)


def compile_format(text: str) -> DateFormat | None:
    """A format of TOKENS and LITERALS -> DateFormat; None when it uses anything else or lacks %Y %m %d."""
    parts, i = [], 0
    while i < len(text):
        if text[i] == "%":
            token = text[i:i + 2]
            if token not in TOKENS or TOKENS[token] in parts:
                return None
            parts.append(TOKENS[token])
            i += 2
        elif text[i] in LITERALS:
            parts.append("[.]" if text[i] == "." else text[i])
            i += 1
        else:
            return None
    if "%f" in text and not text.endswith("%f"):
        return None  # a fraction of a second is the last part (its length varies)
    used = {t for t in TOKENS if TOKENS[t] in parts}
    if not {"%Y", "%m", "%d"} <= used or ("%M" in used) != ("%H" in used) or ("%S" in used and "%M" not in used) \
            or ("%f" in used and "%S" not in used):
        return None
    return DateFormat(text, "^" + "".join(parts) + "$", "%H" in used)


def resolve(name_or_path: str) -> Path:
    """A shipped profile's file, or the path given."""
    if name_or_path in NAMES:
        return SHIPPED / f"{name_or_path}.yaml"
    return Path(name_or_path)


class _Checker:
    def __init__(self, file: str) -> None:
        self.file, self.diags = file, []

    def bad(self, span: Span, message: str, hint: str = "") -> None:
        self.diags.append(error("F017", span, message, hint))

    def mapping(self, f: Field | None, what: str, span: Span) -> Record | None:
        if f is None:
            self.bad(span, f"the profile has no '{what}'", f"add '{what}:' (see the shipped profiles)")
            return None
        if not isinstance(f.value, Record):
            self.bad(f.span, f"'{what}' must be a mapping")
            return None
        return f.value

    def text(self, f: Field | None, what: str, span: Span) -> str | None:
        if f is None or not isinstance(f.value, (str, int)) or isinstance(f.value, bool) or not str(f.value).strip():
            self.bad(f.span if f else span, f"'{what}' must be given, as text")
            return None
        return (f.text or str(f.value)).strip()

    def keys(self, rec: Record, allowed: tuple[str, ...], where: str) -> None:
        for key, f in rec.fields.items():
            if key not in allowed:
                self.bad(f.key_span, f"unknown key '{key}' in {where}", did_you_mean(key, list(allowed)))

    def table(self, rec: Record, kind: str, where: str) -> Table | None:
        self.keys(rec, ("file", "columns", "codes") + (("status", "required") if kind == "status" else ()), where)
        status, must = None, False
        if kind == "status" and (f := rec.fields.get("required")) is not None:
            if isinstance(f.value, bool):
                must = f.value
            else:
                self.bad(f.span, f"'required' in {where} must be true or false",
                         "write required: true, or leave it out (then the file may be absent, with a warning)")
        if kind == "status":
            status = self.text(rec.fields.get("status"), "status", rec.span)
            if status is not None and status not in STATUSES:
                self.bad(rec.fields["status"].span, f"unknown status '{status}' in {where}", did_you_mean(status, STATUSES))
                status = None
        file = self.text(rec.fields.get("file"), "file", rec.span)
        if file is not None and (any(c in file for c in "/\\\0") or file in (".", "..") or len(file.encode()) > NAME_MAX):
            self.bad(rec.fields["file"].span, f"'file' in {where} must be the name of a file in the extract's folder",
                     f"give a name alone, without a folder, of at most {NAME_MAX} bytes, e.g. ssd_person.csv")
            file = None
        cols = self.mapping(rec.fields.get("columns"), "columns", rec.span)
        columns: dict[str, str] = {}
        if cols is not None:
            self.keys(cols, tuple(FACTS[kind]), f"{where} columns")
            for fact, f in cols.fields.items():
                if fact in FACTS[kind] and (name := self.text(f, fact, f.span)) is not None:
                    columns[fact] = name
            for fact, required in FACTS[kind].items():
                if required and fact not in cols.fields:
                    self.bad(cols.span, f"{where} names no column for '{fact}'", f"add '{fact}: COLUMN'")
            seen: dict[str, str] = {}
            for fact, name in columns.items():
                if name.lower() in seen:
                    self.bad(cols.fields[fact].span, f"column '{name}' is named for both '{seen[name.lower()]}' and '{fact}'")
                seen[name.lower()] = fact
        codes: dict[str, dict[str, str]] = {}
        if "codes" in rec.fields and (crec := self.mapping(rec.fields["codes"], "codes", rec.span)) is not None:
            self.keys(crec, tuple(m for m in MEANINGS if m in FACTS[kind]), f"{where} codes")
            for fact, f in crec.fields.items():
                if fact not in MEANINGS or (m := self.mapping(f, fact, f.span)) is None:
                    continue
                codes[fact] = {}
                for code, g in m.fields.items():
                    meaning = None if g.value is None else (g.text or str(g.value)).strip()
                    if g.value is None and g.text in ("none", "None"):
                        meaning = "none"
                    if meaning not in MEANINGS[fact]:
                        self.bad(g.span, f"code '{code}' of '{fact}' means '{meaning}', which Clause does not know",
                                 "expected one of: " + ", ".join(MEANINGS[fact]))
                    else:
                        codes[fact][code] = meaning
        if kind == "missing" and "type" in columns and not codes.get("type"):
            self.bad(rec.span, f"{where} reads 'type' but lists no codes for it",
                     "add codes: type: {M: missing, A: absent}")
        if file is None or cols is None:
            return None
        return Table(kind, file, columns, codes, status, must, rec.span)


def load_profile(name_or_path: str) -> Profile:
    """A shipped profile's name or a profile file's path -> Profile. Raises ClauseError (F011 no such
    file, F001 YAML syntax, F017 every problem of its content)."""
    from facts.yamlcase import _parse
    path = resolve(name_or_path)
    file = str(path)
    if not path.is_file():
        hint = "give ssd, ssda903, clause or the path of a profile file (copy one from facts/extracts/profiles/)"
        raise ClauseError([error("F011", Span(file), f"no such profile: {name_or_path}", hint)])
    diags: list[Diagnostic] = []
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ClauseError([error("F001", Span(file), f"cannot read the profile {file}: {exc}")]) from None
    root = _parse(text, file, diags)
    raise_if_errors(diags)
    assert root is not None
    c = _Checker(file)
    c.keys(root, ("profile", "description", "date_formats", "people", "missing", "statuses"), "the profile")
    name = c.text(root.fields.get("profile"), "profile", root.span) or path.stem
    description = str(root.fields["description"].value) if "description" in root.fields else ""
    formats: list[DateFormat] = []
    f = root.fields.get("date_formats")
    if f is None or not isinstance(f.value, list) or not f.value:
        c.bad(f.span if f else root.span, "'date_formats' must list at least one format", 'e.g. date_formats: ["%d/%m/%Y"]')
    else:
        for item in f.value:
            compiled = compile_format(str(item.value)) if isinstance(item.value, str) else None
            if compiled is None:
                c.bad(item.span, f"'{item.value}' is not a date format Clause reads",
                      "use %Y %m %d (required), %H %M, %S, %f (last) and the characters - / : . T and space")
            else:
                swapped = compiled.regex.replace("<d>", "<x>").replace("<m>", "<d>").replace("<x>", "<m>")
                clash = next((g for g in formats if g.regex == swapped and g.regex != compiled.regex), None)
                if clash is not None:  # 01/02/2024 would be both 1 February and 2 January
                    c.bad(item.span, f"'{item.value}' and '{clash.text}' read the same dates with day and month swapped",
                          "keep the one your export uses: Clause does not guess which a date like 01/02/2024 is")
                formats.append(compiled)
    tables: dict[str, Any] = {}
    for kind, key in (("people", "people"), ("missing", "missing")):
        rec = c.mapping(root.fields.get(key), key, root.span)
        tables[key] = c.table(rec, kind, f"'{key}'") if rec is not None else None
    statuses: list[Table] = []
    sf = root.fields.get("statuses")
    if sf is not None:
        if not isinstance(sf.value, list):
            c.bad(sf.span, "'statuses' must be a list of tables")
        else:
            for i, item in enumerate(sf.value):
                rec = c.mapping(item, f"statuses entry {i + 1}", item.span)
                if rec is not None and (t := c.table(rec, "status", f"statuses entry {i + 1}")) is not None:
                    statuses.append(t)
    files = [t.file.lower() for t in (tables["people"], tables["missing"], *statuses) if t is not None]
    for dup in sorted({x for x in files if files.count(x) > 1}):
        c.bad(root.span, f"the file '{dup}' is named for two tables", "give each table its own file")
    raise_if_errors(c.diags)
    return Profile(name, description, tuple(formats), tables["people"], tables["missing"], tuple(statuses), file)


def detect(folder: Path) -> str | None:
    """Which shipped profile a folder's files look like (ssd, ssda903), or None."""
    try:
        names = {p.name.lower() for p in folder.iterdir() if p.is_file()}
    except OSError:
        return None
    # any one table of a kind is enough to know it: a folder missing its people or missing table is then
    # told which file is missing, not that it holds nothing Clause can read
    if any(n.startswith("ssd_") and n.endswith(".csv") for n in names):
        return "ssd"
    if {"header.csv", "missing.csv"} & names:
        return "ssda903"
    return None
