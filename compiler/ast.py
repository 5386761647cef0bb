"""The policy AST: frozen dataclasses built by `parse.py`, read by every later stage.

Invariants: nodes are immutable, collections are tuples, every node has a `Span`
(file, line, column and the enclosing clause id). Names keep their own span so a
check can point at the exact word that is wrong. No Lark type appears here.
"""
from __future__ import annotations

from datetime import date
from dataclasses import dataclass
from typing import Literal, Union

from compiler.core.diagnostics import Span



@dataclass(frozen=True, slots=True)
class Name:
    """An identifier as written, with its position."""

    value: str
    span: Span

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True)
class Text:
    """A string literal (quote, note, title), unescaped, with its position."""

    value: str
    span: Span


@dataclass(frozen=True, slots=True, order=True)
class Duration:
    """A length of time in minutes, remembering the unit it was written in."""

    minutes: int
    unit: Literal["hours", "days"] = "hours"

    def __str__(self) -> str:
        n = self.minutes // (1440 if self.unit == "days" else 60)
        return f"{n} {self.unit[:-1] if n == 1 else self.unit}"


@dataclass(frozen=True, slots=True)
class Moment:
    """`anchor` plus an offset: "72 hours after reported", "returned"."""

    anchor: Literal["reported", "returned"]
    offset: Duration | None
    span: Span

    @property
    def minutes(self) -> int:
        return self.offset.minutes if self.offset else 0

    def __str__(self) -> str:
        return f"{self.offset} after {self.anchor}" if self.offset else self.anchor


# ---- conditions -------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class HasStatus:
    status: Name
    span: Span


@dataclass(frozen=True, slots=True)
class NoStatus:
    span: Span


@dataclass(frozen=True, slots=True)
class HasFlag:
    flag: Name
    span: Span


@dataclass(frozen=True, slots=True)
class ChildField:
    """`the child has placed_in merseyside`."""

    field: Name
    value: Name
    span: Span


@dataclass(frozen=True, slots=True)
class Age:
    """Age in whole years at the episode's report: `aged 13 or under|over`."""

    years: int
    side: Literal["under", "over"]
    span: Span


@dataclass(frozen=True, slots=True)
class Returned:
    span: Span


@dataclass(frozen=True, slots=True)
class Reported:
    """`the child has been reported missing`: there is an episode (binds it)."""

    span: Span


@dataclass(frozen=True, slots=True)
class Window:
    """At least `count` episodes of the child reported within `minutes` up to this one."""

    count: int
    within: Duration
    span: Span


@dataclass(frozen=True, slots=True)
class WindowFlag:
    """An episode flag on any of the child's episodes in `Window`'s window up to this one's report."""

    flag: Name
    within: Duration
    span: Span


@dataclass(frozen=True, slots=True)
class Lasted:
    """Elapsed time since the report (until return or the evaluation time)."""

    duration: Duration
    strictly_more: bool
    span: Span


@dataclass(frozen=True, slots=True)
class EpisodeField:
    """`the episode has with_parents` (boolean) or `the episode has police_risk high`."""

    field: Name
    value: Name | None
    span: Span


@dataclass(frozen=True, slots=True)
class Category:
    category: Name
    span: Span


@dataclass(frozen=True, slots=True)
class Risk:
    level: Name
    span: Span


@dataclass(frozen=True, slots=True)
class OffDay:
    """The moment falls on a Saturday or Sunday, or (with `holidays`) an England bank holiday."""

    moment: Moment
    holidays: bool
    span: Span


@dataclass(frozen=True, slots=True)
class Not:
    operand: "Condition"
    span: Span


@dataclass(frozen=True, slots=True)
class And:
    operands: tuple["Condition", ...]
    span: Span


@dataclass(frozen=True, slots=True)
class Or:
    operands: tuple["Condition", ...]
    span: Span


Atom = Union[HasStatus, NoStatus, HasFlag, ChildField, Age, Returned, Reported, Window, WindowFlag, Lasted,
             EpisodeField, Category, Risk, OffDay]
Condition = Union[Atom, Not, And, Or]
EPISODE_ATOMS = (Age, Returned, Reported, Window, WindowFlag, Lasted, EpisodeField, Category, Risk, OffDay)


# ---- conclusions ------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Timing:
    """When an obligation arises, when it is due, and whether it recurs.

    `start` defaults to the report; `due_after` counts from each occurrence unless
    `due_anchor` fixes it to an episode moment; `immediately` means due on arising.
    `until_returned` (written `until returned`, implied by `every`): the duty ends
    when the child returns, so one not done by then is `ended`, not a failure.
    """

    start: Moment | None = None
    due_after: Duration | None = None
    due_anchor: Moment | None = None
    immediately: bool = False
    every: Duration | None = None
    until_returned: bool = False
    standard: str | None = None  # the local standard that set `due_after` (compiler/policy.py), not the source text


@dataclass(frozen=True, slots=True)
class Obligation:
    actors: tuple[Name, ...]
    modality: Name
    verb: Name | None
    action: Name
    timing: Timing
    span: Span


@dataclass(frozen=True, slots=True)
class SetCategory:
    category: Name
    span: Span


@dataclass(frozen=True, slots=True)
class SetRisk:
    """`the risk is high` (level) or `the risk is the inspector_risk` (from_field)."""

    level: Name | None
    from_field: Name | None
    span: Span


@dataclass(frozen=True, slots=True)
class ActorInstead:
    actor: Name
    span: Span


Conclusion = Union[Obligation, SetCategory, SetRisk, ActorInstead]


# ---- top level ---------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Overlap:
    """`overlaps A, B "why"`: a known overlap with other clauses, acknowledged and explained."""

    others: tuple[Name, ...]
    reason: Text
    span: Span


@dataclass(frozen=True, slots=True)
class Clause:
    """A clause, or an exception when `overrides` is non-empty.

    `override_actor` marks `overrides actor of ...`: only the actor of the
    overridden obligations changes; otherwise the exception replaces them.
    """

    id: Name
    title: Text
    document: str
    section: str
    says: tuple[Text, ...]
    notes: tuple[Text, ...]
    overlaps: tuple[Overlap, ...]
    when: Condition | None
    then: tuple[Conclusion, ...]
    overrides: tuple[Name, ...]
    override_actor: bool
    span: Span
    version_of: Name | None = None   # `version of ID`: another version of that clause
    in_force: Period | None = None   # `in force from ... until ...` (else its document's, else always)

    @property
    def is_exception(self) -> bool:
        return bool(self.overrides)

    def obligation(self, action: str) -> "Obligation | None":
        """The conclusion of this clause that creates `action`, if any."""
        return next((c for c in self.then if isinstance(c, Obligation) and c.action.value == action), None)


@dataclass(frozen=True, slots=True)
class NotEncoded:
    """Source sentences deliberately left out of the rules, with the reason."""

    id: Name
    title: Text
    document: str
    section: str
    says: tuple[Text, ...]
    because: Text
    span: Span


@dataclass(frozen=True, slots=True)
class Period:
    """`in force from DATE until DATE` (both days included; either may be open): which episodes a
    clause judges, by the London date of their report (as OpenFisca's periods, Catala's dates)."""

    start: date | None
    end: date | None
    span: Span

    def holds(self, day: date) -> bool:
        return (self.start is None or self.start <= day) and (self.end is None or day <= self.end)

    def overlaps(self, other: "Period") -> bool:
        return (self.start is None or other.end is None or self.start <= other.end) and \
               (other.start is None or self.end is None or other.start <= self.end)

    def __str__(self) -> str:
        parts = ["in force"] + ([f"from {self.start.isoformat()}"] if self.start else []) \
            + ([f"until {self.end.isoformat()}"] if self.end else [])
        return " ".join(parts)


@dataclass(frozen=True, slots=True)
class Document:
    id: Name
    title: Text
    source: Text
    span: Span
    in_force: Period | None = None


@dataclass(frozen=True, slots=True)
class Section:
    """A heading of a document. Quotes in it are looked up from `anchor` (or the
    title, where the source has it) onwards, so a sentence the source repeats in
    several sections resolves to the right place."""

    document: Name
    title: Text
    anchor: Text | None
    span: Span


@dataclass(frozen=True, slots=True)
class Declaration:
    """`declare action cin_review "..."`: a policy's addition to the shared vocabulary."""

    kind: Literal["action", "actor"]
    name: Name
    description: Text
    span: Span


@dataclass(frozen=True, slots=True)
class LocalStandard:
    """`local standard LS-1 "title" for ACTION within N hours|days`: the authority's own due time for
    duties of ACTION whose procedure sets none. Not the source text, so no quote is checked."""

    id: Name
    title: Text
    action: Name
    within: Duration
    span: Span



@dataclass(frozen=True, slots=True)
class Acceptance:
    """`accept W104 A B "why"`: a warning about these clauses is intended; it is counted, not shown."""

    code: Name
    clauses: tuple[Name, ...]
    reason: Text
    span: Span


Item = Union[Document, Section, Declaration, Clause, NotEncoded, Acceptance, LocalStandard]


@dataclass(frozen=True, slots=True)
class PolicyFile:
    path: str
    items: tuple[Item, ...]


@dataclass(frozen=True, slots=True)
class Policy:
    """Every file of a policy folder, in path order."""

    files: tuple[PolicyFile, ...]

    def items(self, kind: type) -> tuple:
        return tuple(i for f in self.files for i in f.items if isinstance(i, kind))

    @property
    def clauses(self) -> tuple[Clause, ...]:
        return self.items(Clause)


def to_data(node: object) -> object:
    """A JSON-ready view of any AST node: type names kept, spans as "file:line:col"."""
    import dataclasses

    if isinstance(node, Span):
        return str(node)
    if dataclasses.is_dataclass(node):
        out: dict[str, object] = {"node": type(node).__name__}
        for f in dataclasses.fields(node):
            value = getattr(node, f.name)
            if value is None or value == () or value is False:
                continue
            out[f.name] = to_data(value)
        return out
    if isinstance(node, tuple):
        return [to_data(n) for n in node]
    return node


def describe(atom: Atom) -> str:
    """An atom in the words of the language, for explanations and reports."""
    if isinstance(atom, HasStatus):
        return f"the child has status {atom.status}"
    if isinstance(atom, NoStatus):
        return "the child has no status"
    if isinstance(atom, HasFlag):
        return f"the child has flag {atom.flag}"
    if isinstance(atom, ChildField):
        return f"the child has {atom.field} {atom.value}"
    if isinstance(atom, Age):
        return f"the child is aged {atom.years} or {atom.side}"
    if isinstance(atom, Returned):
        return "the child has returned"
    if isinstance(atom, Reported):
        return "the child has been reported missing"
    if isinstance(atom, Window):
        return f"the child has been reported missing {atom.count} times within {atom.within}"
    if isinstance(atom, WindowFlag):
        return f"the child has had {atom.flag} within {atom.within}"
    if isinstance(atom, Lasted):
        return f"the episode has lasted {'more than ' if atom.strictly_more else ''}{atom.duration}"
    if isinstance(atom, EpisodeField):
        return f"the episode has {atom.field}" + (f" {atom.value}" if atom.value else "")
    if isinstance(atom, Category):
        return f"the episode is {atom.category}"
    if isinstance(atom, Risk):
        return f"the risk is {atom.level}"
    if isinstance(atom, OffDay):
        return f"{atom.moment} falls on a weekend" + (" or public holiday" if atom.holidays else "")
    raise TypeError(atom)
