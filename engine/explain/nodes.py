"""Explanations as data: the typed nodes of a derivation (why) and of an absence (why not).

Input: built by engine/explain/why.py from one evaluation. Output: frozen values carrying ids,
the condition atoms as the policy wrote them, base facts with their records and spans, and moments
as datetimes. Invariants: no node holds English; engine/explain/render.py writes all of it (text,
JSON, HTML), so the three formats say the same thing, and redaction is the renderer's choice
(dates of birth are in the records, shown only when the renderer is allowed to).
docs/why-json.md documents every kind and field as `why --format json` gives them.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar, Iterator, Literal

from compiler import ast
from compiler.core.diagnostics import Span
from engine.meaning.obligations import Obligation
from facts.model import Child, Episode, Held, RecordedAction


@dataclass(frozen=True)
class ClauseInfo:
    """What a practitioner needs to find a clause and its source."""

    id: str
    title: str
    kind: Literal["clause", "exception"]
    document: str
    document_title: str
    section: str
    says: tuple[str, ...]
    notes: tuple[str, ...]
    span: Span
    version_of: str | None = None     # the clause this is an edition of (`version of`)
    in_force: str | None = None       # its dates in force, own or its document's ("in force from 2023-10-25")


@dataclass(frozen=True, kw_only=True)
class Node:
    """One step of an explanation; `kind` names its type in JSON."""

    kind: ClassVar[str] = ""
    children: tuple["Node", ...] = ()

    def walk(self) -> Iterator["Node"]:
        yield self
        for c in self.children:
            yield from c.walk()


@dataclass(frozen=True, kw_only=True)
class CaseNode(Node):
    kind: ClassVar[str] = "case"
    case: str
    at: datetime


@dataclass(frozen=True, kw_only=True)
class ObligationNode(Node):
    """An obligation; its children: timing, status (when tracked), then the clause that created it."""

    kind: ClassVar[str] = "obligation"
    obligation: Obligation


@dataclass(frozen=True, kw_only=True)
class TimingNode(Node):
    """When it arose and is due, and the clause's timing that set them (None: about the child)."""

    kind: ClassVar[str] = "timing"
    triggered: datetime | None
    due: datetime | None
    occurrence: int
    timing: ast.Timing
    standard: str | None = None      # the authority's local standard that set the due time, if any
    triggered_latest: datetime | None = None  # honest time: the latest readings, when a moment is known only by its day
    due_latest: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class StatusNode(Node):
    """upcoming / open / overdue / done / done_late / ended, and the recorded action that settled it."""

    kind: ClassVar[str] = "status"
    status: str
    action: str
    at: datetime
    due: datetime | None
    done_at: datetime | None = None
    recorded: RecordedAction | None = None
    triggered: datetime | None = None   # when it arose (or, upcoming, will arise)
    open_for: int | None = None         # minutes since it arose, while open or overdue


@dataclass(frozen=True, kw_only=True)
class ClauseNode(Node):
    """A clause whose rule held; `sets` names the category or risk it gave ("because": an obligation)."""

    kind: ClassVar[str] = "clause"
    clause: ClauseInfo
    sets: Literal["because", "category", "risk"] = "because"
    value: str | None = None


@dataclass(frozen=True, kw_only=True)
class ConditionNode(Node):
    """One condition atom tested under the clause's bindings (C: child, E: episode)."""

    kind: ClassVar[str] = "condition"
    atom: ast.Atom
    negated: bool
    holds: bool
    bindings: tuple[tuple[str, object], ...]


@dataclass(frozen=True, kw_only=True)
class FactNode(Node):
    """A base fact that satisfied a test, with the records it was computed from: `at` is the
    evaluation time (elapsed time runs to it when not returned); `counted` the report times a
    window counted; `flagged` the episodes in a window that have the flag (window_true); `held` the
    status or flag record in force (status, flag: at the evaluation time `at`; status_at, flag_at:
    at the episode's report)."""

    kind: ClassVar[str] = "fact"
    pred: str
    args: tuple
    span: Span
    child: Child | None = None
    episode: Episode | None = None
    at: datetime | None = None
    counted: tuple[datetime, ...] = ()
    flagged: tuple[Episode, ...] = ()
    held: Held | None = None


@dataclass(frozen=True, kw_only=True)
class RecordNode(Node):
    """What the input records where no base fact matched a test (a 'not', a failed test):
    `about` is "child" (its statuses, flags and fields; `at` the moment they were judged at: the
    episode's report when `episode` is given, else the evaluation time), "unrecorded" (an episode field not
    recorded), "no_flag_in_window" (no episode of the child `within` the window up to this one
    has the flag `field`), "not_returned" (by `at`) or "calendar" (`moment` fell at `when`, `off` or not)."""

    kind: ClassVar[str] = "record"
    about: Literal["child", "unrecorded", "no_flag_in_window", "not_returned", "calendar"]
    span: Span
    child: Child | None = None
    episode: Episode | None = None
    field: str | None = None
    within: ast.Duration | None = None
    at: datetime | None = None
    moment: ast.Moment | None = None
    when: datetime | None = None
    off: bool = False
    holidays: bool = False


@dataclass(frozen=True, kw_only=True)
class ExceptionNode(Node):
    """An exception: `replaced_actor` (it gave the obligation to `actor`), `did_not_apply` (the
    children are its failed conditions) or `applied` (why not: it replaced the clause)."""

    kind: ClassVar[str] = "exception"
    clause: ClauseInfo
    outcome: Literal["replaced_actor", "did_not_apply", "applied"]
    actor: str | None = None


@dataclass(frozen=True, kw_only=True)
class CandidateNode(Node):
    """Why not: one clause that could create the action, tried on one episode (or the child)."""

    kind: ClassVar[str] = "candidate"
    clause: ClauseInfo
    child: str
    episode: str | None
    outcome: Literal["present", "replaced", "not_arisen", "failed"]
    failed: int
    conditions: int
    at: datetime
    actors: tuple[str, ...] = ()
    exception: str | None = None

    @property
    def holds(self) -> bool:
        return self.failed == 0


@dataclass(frozen=True, kw_only=True)
class WhyNotNode(Node):
    """Why not: the question, how many obligations it has, and the candidates nearest first."""

    kind: ClassVar[str] = "why-not"
    child: str
    action: str
    episode: str | None
    present: int
    at: datetime

    @property
    def holds(self) -> bool:
        return self.present > 0
