"""Field checks shared by every fact reader: raw located fields in, checked values out.

Input: `Record`s (field name -> `Field(value, span)`), built by `yamlcase.py` from
YAML mappings and by `bulk.py` from CSV rows. Values are scalars (str, int, float,
bool, None, date, datetime), lists of `Field`s, or nested `Record`s. Output: each record's
converted values (`convert`), plus `Diagnostic`s for every problem; facts/collect.py's
`FactCollector` turns them into model objects and checks what spans several records.
Invariants: every check lives here exactly once, and what a valid field is is data (`RULES`:
kind, required, allowed values from the vocabulary) from which the fast CSV reader's SQL
is made too (engine/backends/duck_load.py).

Codes (stable): F001 unreadable file or YAML/CSV syntax, F002 unknown field or
column, F003 unknown value, F004 missing required field, F005 bad date or time,
F006 unknown reference, F007 returned before reported (or reported before birth), F008 duplicate id, case
name or key, F009 wrong type, F010 empty file or document not a mapping, F011 no
such file or folder, F012 nothing loadable at a path, F013 larger than the limit (limits.py), F014 an
expectation naming an action, actor or clause the policy lacks, or a recorded action of a kind it lacks,
F015 (strict) a case that expects nothing, F016 overlapping records of one status (or flag) of one child.
A status or flag record ending before it starts is F007.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Callable

from compiler.core.diagnostics import Diagnostic, Span, error
from compiler.core.privacy import quoted, redacting, shown
from compiler.core.vocabulary import (CATEGORIES, EPISODE_LEVELS, FLAGS, HOME_AUTHORITY, MODALITIES,
                                      OBLIGATION_STATUSES, PLACEMENTS, RISK_LEVELS, STATUSES)
from facts.held import ends_before_start
from facts.model import Held
from compiler.core.london import DATE_EXAMPLE, INSTANT_EXAMPLE, NotReal, parse_date, parse_instant


TRUE_WORDS = frozenset({"true", "yes", "1"})
FALSE_WORDS = frozenset({"false", "no", "0"})


@dataclass(slots=True)
class Field:
    """One value as written: `span` is where the value is, `key_span` where its name is."""

    value: Any
    span: Span
    key_span: Span
    text: str | None = None  # source text of a scalar, used to keep ids like 007 verbatim


@dataclass(slots=True)
class Record:
    """A YAML mapping or a CSV row: field name -> Field, in the order written."""

    fields: dict[str, Field]
    span: Span


class _Bad:
    """Marks a value that failed its check (a diagnostic has been recorded)."""


BAD: Any = _Bad()
Diags = list[Diagnostic]
Check = Callable[[Field, str, str, Diags], Any]  # (field, name, label, diags) -> value | BAD


def describe(value: Any) -> str:
    """A short phrase for a wrong value in a message."""
    if isinstance(value, Record):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return "a date and time"
    if isinstance(value, date):
        return "a date"
    text = str(value)
    return quoted(text if len(text) <= 40 else text[:37] + '...')


A_DATE, AN_INSTANT = f"a date like {DATE_EXAMPLE}", f"a date and time like {INSTANT_EXAMPLE}"  # as F005 expects them


def _unreadable(exc: ValueError, expected: str) -> str:
    """Why a date or time cell does not read: the reader's words, which quote the cell, or under --redact
    only what was expected (and that the one written does not exist, when it has the shape of one)."""
    if not redacting():
        return str(exc)
    return f"{'not a real date and time: ' if isinstance(exc, NotReal) else ''}expected {expected} (withheld: --redact)"


def did_you_mean(word: str, options: tuple[str, ...] | list[str], listing: str = "expected one of") -> str:
    """Hint naming the nearest valid name, or listing (a few of) the valid names."""
    if len(options) <= 1000:  # bulk extracts can hold very many ids; keep hints cheap
        close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
        if close:
            return f"did you mean '{close[0]}'?"
    shown = ", ".join(options[:12]) + (f", ... ({len(options)} in all)" if len(options) > 12 else "")
    return f"{listing}: {shown}"


def unknown_field(key: str, span: Span, options: tuple[str, ...] | list[str], where: str) -> Diagnostic:
    return error("F002", span, f"unknown field '{key}' in {where}", did_you_mean(key, options))


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


# ---- value checks: each returns the converted value or BAD (after adding a diagnostic) ----

def ident(f: Field, name: str, label: str, diags: Diags) -> Any:
    """An id or a name: text, or a number kept as written (`007` stays "007")."""
    v = f.value
    if isinstance(v, str) and v.strip() in ("True", "False"):
        diags.append(error("F009", f.span, f"{label}: '{name}' cannot be True or False (reserved words of the rule engine)",
                           "use another id, e.g. C1"))
        return BAD
    if isinstance(v, str):
        return v.strip()
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return (f.text or str(v)).strip()
    diags.append(error("F009", f.span, f"{label}: '{name}' must be a name or id (text or a number), got {describe(v)}"))
    return BAD


# Any responsible_authority but HOME (the vocabulary's HOME_AUTHORITY) reads as another authority, so a slip
# for it ("Liverpool", "liverpol", "liverpool_city_council") or another name for it (its usual short forms,
# its DfE and ONS codes) would silently give an "other local authority" child's duties: such a name is
# refused. Python and SQL (the fast reader) side by side.
HOME = HOME_AUTHORITY
HOME_NAMES = ("lpool", "lvpl", "lcc", "341", "e08000012")  # as `_squeezed` reads L'pool, Lvpl, LCC, 341, E08000012
HOME_SQL = "regexp_replace(lower({c}), '[^a-z0-9]', '', 'g')"  # the name as `_squeezed` reads it


def _squeezed(text: str) -> str:
    return re.sub("[^a-z0-9]", "", text.lower())


def _edits(a: str, b: str) -> int:
    """Levenshtein distance (DuckDB's `levenshtein`)."""
    row = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, y in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (x != y))
    return row[-1]


def near_home(name: str) -> bool:
    """A name that is not HOME but surely means it: HOME within it, two edits from it, or one of HOME_NAMES,
    case and punctuation aside."""
    squeezed = _squeezed(name)
    return name != HOME and (HOME in squeezed or squeezed in HOME_NAMES
                             or (abs(len(squeezed) - len(HOME)) <= 2 and _edits(squeezed, HOME) <= 2))


def near_home_sql(col: str) -> str:
    """SQL: `near_home` of a column."""
    squeezed = HOME_SQL.format(c=col)
    names = ", ".join(f"'{n}'" for n in HOME_NAMES)
    return (f"({col} <> '{HOME}' AND (contains({squeezed}, '{HOME}') OR {squeezed} IN ({names}) "
            f"OR levenshtein({squeezed}, '{HOME}') <= 2))")


def authority(f: Field, name: str, label: str, diags: Diags) -> Any:
    """An authority's name; a slip for HOME is refused (`near_home`)."""
    v = ident(f, name, label, diags)
    if v is not BAD and near_home(v):
        diags.append(error("F003", f.span, f"{label}: '{name}' is {quoted(v)}, which looks like {HOME} but is not it: only "
                                           f"'{HOME}', exactly, is the policy's own authority, so the child would be "
                                           "read as another authority's", f"write {name}: {HOME}, or the other "
                                           "authority's own name"))
        return BAD
    return v


def text(f: Field, name: str, label: str, diags: Diags) -> Any:
    if isinstance(f.value, (Record, list)):
        diags.append(error("F009", f.span, f"{label}: '{name}' must be text, got {describe(f.value)}"))
        return BAD
    return f.text if f.text is not None else str(f.value)


def choice(options: tuple[str, ...], noun: str) -> Check:
    def check(f: Field, name: str, label: str, diags: Diags) -> Any:
        v = ident(f, name, label, diags)
        if v is BAD or v in options:
            return v
        diags.append(error("F003", f.span, f"{label}: unknown {noun} {quoted(v)} in '{name}'", did_you_mean(v, options)))
        return BAD
    return check


def choices(options: tuple[str, ...], noun: str) -> Check:
    """A list of names from `options`; duplicates are dropped, order kept."""
    one = choice(options, noun)

    def check(f: Field, name: str, label: str, diags: Diags) -> Any:
        if not isinstance(f.value, list):
            diags.append(error("F009", f.span,
                               f"{label}: '{name}' must be a list like [{options[0]}], got {describe(f.value)}"))
            return BAD
        out = [one(item, name, label, diags) for item in f.value]
        return BAD if any(v is BAD for v in out) else tuple(dict.fromkeys(out))
    return check


def boolean(f: Field, name: str, label: str, diags: Diags) -> Any:
    v = f.value
    if isinstance(v, bool):
        return v
    word = str(v).strip().lower() if isinstance(v, (str, int)) else None
    if word in TRUE_WORDS or word in FALSE_WORDS:
        return word in TRUE_WORDS
    diags.append(error("F009", f.span, f"{label}: '{name}' must be true or false, got {describe(v)}",
                       "write true or false (yes and no, 1 and 0 are read the same; a YAML case also reads on and off)"))
    return BAD


def instant(f: Field, name: str, label: str, diags: Diags) -> Any:
    try:
        return parse_instant(f.value)
    except ValueError as exc:
        diags.append(error("F005", f.span, f"{label}: '{name}': {_unreadable(exc, AN_INSTANT)}",
                           f"write {name}: {INSTANT_EXAMPLE}"))
        return BAD


def a_date(f: Field, name: str, label: str, diags: Diags) -> Any:
    try:
        return parse_date(f.value)
    except ValueError as exc:
        # A date of birth is a child's personal detail: say what is wrong without repeating it.
        why = f"expected {A_DATE} (the value is not repeated here)" if name == "born" else _unreadable(exc, A_DATE)
        diags.append(error("F005", f.span, f"{label}: '{name}': {why}", f"write {name}: {DATE_EXAMPLE}"))
        return BAD


def moment(f: Field, name: str, label: str, diags: Diags) -> Any:
    """A date (`YYYY-MM-DD`: a whole London day) or a date and time (an exact instant)."""
    v = f.value
    if isinstance(v, date) and not isinstance(v, datetime):
        return v
    if isinstance(v, str) and len(v.strip()) == 10:
        try:
            return parse_date(v)
        except ValueError as exc:
            diags.append(error("F005", f.span, f"{label}: '{name}': {_unreadable(exc, A_DATE)}",
                               f"write {name}: {DATE_EXAMPLE}"))
            return BAD
    try:
        return parse_instant(v)
    except NotReal as exc:  # the shape of a date and time, but no real one: say what is wrong with it
        diags.append(error("F005", f.span, f"{label}: '{name}': {_unreadable(exc, AN_INSTANT)}",
                           f"write {name}: {INSTANT_EXAMPLE}"))
        return BAD
    except ValueError:
        diags.append(error("F005", f.span, f"{label}: '{name}': expected a date like {DATE_EXAMPLE} or a date and "
                                           f"time like {INSTANT_EXAMPLE}, got {describe(v)}",
                           f"write {name}: {INSTANT_EXAMPLE} (or a date alone, {DATE_EXAMPLE}, for a whole day)"))
        return BAD


def held_list(options: tuple[str, ...], noun: str) -> Check:
    """A list of `Held` records: each a name (in force throughout) or a mapping
    `{<noun>: NAME, from: DATE, to: DATE}` (either bound may be left out: open). Exact duplicates are dropped."""
    one = choice(options, noun)
    spec = {noun: one, "from": moment, "to": moment}

    def check(f: Field, name: str, label: str, diags: Diags) -> Any:
        if not isinstance(f.value, list):
            diags.append(error("F009", f.span,
                               f"{label}: '{name}' must be a list like [{options[0]}], got {describe(f.value)}"))
            return BAD
        out: list[Any] = []
        for item in f.value:
            if isinstance(item.value, Record):
                out.append(held_record(item.value, spec, noun, f"{label}: '{name}'", diags))
            else:
                value = one(item, name, label, diags)
                out.append(value if value is BAD else Held(value, span=item.span))
        return BAD if any(v is BAD for v in out) else tuple(dict.fromkeys(out))
    return check


def held_record(rec: Record, spec: dict[str, Check], noun: str, label: str, diags: Diags) -> Any:
    """One `{<noun>: NAME, from, to}` -> Held, or BAD."""
    values, ok = convert(rec, spec, (noun,), label, diags)
    return held_of(values, noun, rec, label, diags) if ok else BAD


def held_of(values: dict[str, Any], noun: str, rec: Record, label: str, diags: Diags) -> Any:
    """Checked values -> Held, or BAD (F007) when it ends before it starts."""
    held = Held(values[noun], values.get("from"), values.get("to"), rec.span)
    if ends_before_start(held):
        diags.append(error("F007", rec.fields["to"].span,
                           f"{label}: {noun} '{held.name}' ends ('to') before it starts ('from')",
                           "check both dates; a date 'to' is the last day in force, so from and to may be the same day"))
        return BAD
    return held


def records(f: Field, name: str, label: str, diags: Diags) -> Any:
    """A list whose items are mappings; returns the item `Field`s that are mappings."""
    if not isinstance(f.value, list):
        diags.append(error("F009", f.span,
                           f"{label}: '{name}' must be a list of entries (lines starting '- '), got {describe(f.value)}"))
        return BAD
    for item in f.value:
        if not isinstance(item.value, Record):
            diags.append(error("F009", item.span,
                               f"{label}: each entry of '{name}' must be a mapping of fields like 'id: C1', "
                               f"got {describe(item.value)}"))
    # the good entries are still checked, so one bad entry does not hide the others' problems
    return [item for item in f.value if isinstance(item.value, Record)]


def mapping(f: Field, name: str, label: str, diags: Diags) -> Any:
    if not isinstance(f.value, Record):
        diags.append(error("F009", f.span, f"{label}: '{name}' must be a mapping of fields, got {describe(f.value)}"))
        return BAD
    return f.value


# ---- record specs ----

@dataclass(frozen=True, slots=True)
class Rule:
    """What a valid value of one fact field is. The Python checks below and the fast CSV reader's
    SQL (engine/backends/duck_load.py) are both made from `RULES`, so they accept the same values."""

    kind: str  # "id", "authority" (an id, not a slip for HOME), "date", "instant", "moment" (date or instant), "boolean",
    # "choice" (one of `values`) or "choices" (a list of them)
    required: bool = False
    values: tuple[str, ...] = ()
    noun: str = ""  # what one of `values` is called in a message
    day_ok: bool = False  # an instant that may be given as a date alone: the whole day (facts/moments.py)


RULES: dict[str, dict[str, Rule]] = {  # the fields in the bulk files' column order
    "child": {"id": Rule("id", True), "born": Rule("date", True),
              "statuses": Rule("choices", values=STATUSES, noun="status"),
              "flags": Rule("choices", values=FLAGS, noun="flag"),
              "responsible_authority": Rule("authority"), "placed_in": Rule("choice", values=PLACEMENTS, noun="placement")},
    "episode": {"id": Rule("id", True), "child": Rule("id", True), "reported": Rule("instant", True, day_ok=True),
                "returned": Rule("instant", day_ok=True), "whereabouts_known": Rule("boolean"), "with_parents": Rule("boolean"),
                "safeguarding_concerns": Rule("boolean"),
                **{level: Rule("choice", values=values, noun="risk level") for level, values in EPISODE_LEVELS.items()},
                "victim_of_crime": Rule("boolean")},
    "action": {"action": Rule("id", True), "child": Rule("id", True), "episode": Rule("id"), "by": Rule("id", True),
               "at": Rule("instant", True)},
    # statuses.csv, flags.csv: one record of a status or flag in force over time (`moment`: a date or a date and time)
    "status": {"child": Rule("id", True), "status": Rule("choice", True, STATUSES, "status"),
               "from": Rule("moment"), "to": Rule("moment")},
    "flag": {"child": Rule("id", True), "flag": Rule("choice", True, FLAGS, "flag"),
             "from": Rule("moment"), "to": Rule("moment")},
}
HELD_KINDS = ("status", "flag")  # the record kinds of RULES that give Held records


def _check(rule: Rule) -> Check:
    if rule.day_ok:
        return moment
    if rule.kind == "choice":
        return choice(rule.values, rule.noun)
    if rule.kind == "choices":
        return choices(rule.values, rule.noun)
    return {"id": ident, "authority": authority, "date": a_date, "instant": instant, "boolean": boolean, "moment": moment}[rule.kind]


CHILD, EPISODE, ACTION, STATUS, FLAG = ({name: _check(r) for name, r in RULES[kind].items()}
                                        for kind in ("child", "episode", "action", "status", "flag"))
# a case file's child may give a status or flag as a name or as {status: S, from, to} (a CSV cell: names only)
CHILD |= {"statuses": held_list(STATUSES, "status"), "flags": held_list(FLAGS, "flag")}
REQUIRED = {kind: tuple(name for name, r in rules.items() if r.required) for kind, rules in RULES.items()}
EXPECT_OBLIGATION = {"child": ident, "episode": ident, "action": ident, "actor": ident,
                     "modality": choice(MODALITIES, "modality"), "triggered": instant, "due": instant,
                     "clause": ident, "exception": ident, "status": choice(OBLIGATION_STATUSES, "status"),
                     "time": choice(("exact", "approximate"), "time"), "triggered_latest": instant, "due_latest": instant}
EXPECT_EPISODE = {"id": ident, "category": choice(CATEGORIES, "category"), "risk": choice(RISK_LEVELS, "risk level")}
EXAMPLES = {"id": "id: C1", "born": f"born: {DATE_EXAMPLE}", "child": "child: C1",
            "reported": f"reported: {INSTANT_EXAMPLE}", "at": f"at: {INSTANT_EXAMPLE}",
            "action": "action: strategy_discussion", "by": "by: team_manager", "case": "case: my-case-name",
            "as_of": f"as_of: {INSTANT_EXAMPLE}"}


def label_of(kind: str, rec: Record, key: str = "id") -> str:
    f = rec.fields.get(key)
    if f is not None and isinstance(f.value, (str, int, float)) and not isinstance(f.value, bool) and not is_blank(f.value):
        text = (f.text or str(f.value)).strip()
        return f"{kind} '{shown(text, kind) if kind in ('child', 'episode') and key == 'id' else text}'"
    return kind


def convert(rec: Record, spec: dict[str, Check], required: tuple[str, ...], label: str,
            diags: Diags, blank_is_absent: bool = True) -> tuple[dict[str, Any], bool]:
    """Check every field of `rec` against `spec`. Returns (good values, whether all was well).

    Unknown fields -> F002; missing or blank required fields -> F004; a blank optional
    field is absent when `blank_is_absent`, else F009 (an expectation must say what it means).
    """
    out: dict[str, Any] = {}
    ok = True
    for key, f in rec.fields.items():
        check = spec.get(key)
        if check is None:
            diags.append(unknown_field(key, f.key_span, list(spec), label))
            ok = False
        elif is_blank(f.value) and (blank_is_absent or key in required):
            continue
        elif is_blank(f.value):
            diags.append(error("F009", f.span, f"{label}: '{key}' has no value",
                               "give a value, or leave the field out to match any"))
            ok = False
        else:
            value = check(f, key, label, diags)
            ok = ok and value is not BAD
            if value is not BAD:
                out[key] = value
    for key in required:
        f = rec.fields.get(key)
        if f is None or is_blank(f.value):
            diags.append(error("F004", rec.span if f is None else f.span, f"{label}: missing required field '{key}'",
                               _misspelt(key, rec, spec) or f"add {EXAMPLES.get(key, key + ': ...')}"))
            ok = False
    return out, ok


def _misspelt(key: str, rec: Record, spec: dict[str, Check]) -> str | None:
    """F004's hint when an unknown field of the record is a misspelling of the missing one (`reportd:`,
    for which F002 says "did you mean 'reported'?"): F004 comes first, at the record's line, so it names
    the typo and the fix too."""
    for name, f in rec.fields.items():
        if name not in spec and did_you_mean(name, list(spec)) == f"did you mean '{key}'?":
            return f"'{name}' on line {f.key_span.line} looks like it: write it as '{key}'"
    return None
