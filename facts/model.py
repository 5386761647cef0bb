"""The fact model, following ../shared/spec/vocabulary.md.

Input: nothing (types only). Invariants: every fact is frozen, carries the `Span`
it was read from (so explanations can cite file and line), and times are aware
datetimes in Europe/London. Defaults follow the vocabulary.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from compiler.core.diagnostics import Span
from compiler.core.vocabulary import HOME_AUTHORITY


@dataclass(frozen=True, slots=True)
class Held:
    """A status or flag and when it is in force: `start`/`end` None = open; a date `end` is the last day in force.

    A date `start` is in force from 00:00 London on that day; a date `end` through the end of that
    London day (a plan ending 10 June covers a report on 10 June); datetimes are exact instants.
    As instants the record is in force over [start, end) (facts/held.py computes them)."""

    name: str
    start: date | datetime | None = None
    end: date | datetime | None = None
    span: Span = field(default=Span(""), compare=False)

    @property
    def throughout(self) -> bool:
        """In force for the whole of time (the plain list form)."""
        return self.start is None and self.end is None


def _held(items: tuple) -> tuple[Held, ...]:
    return tuple(x if isinstance(x, Held) else Held(x) for x in items)


@dataclass(frozen=True, slots=True)
class Child:
    """A child. `statuses`/`flags` are `Held` records; a plain name given here is
    `Held(name)`, in force throughout (so `Child("C1", born, ("looked_after",))` still reads)."""

    id: str
    born: date
    statuses: tuple[Held, ...] = ()
    flags: tuple[Held, ...] = ()
    responsible_authority: str = HOME_AUTHORITY
    placed_in: str = "liverpool"
    span: Span = field(default=Span(""), compare=False)
    field_spans: tuple[tuple[str, Span], ...] = field(default=(), compare=False)  # see `field_span`

    def __post_init__(self) -> None:
        object.__setattr__(self, "statuses", _held(tuple(self.statuses)))
        object.__setattr__(self, "flags", _held(tuple(self.flags)))

    @property
    def status_names(self) -> tuple[str, ...]:
        """Every status the child holds at some time, in input order, once each."""
        return tuple(dict.fromkeys(h.name for h in self.statuses))

    @property
    def flag_names(self) -> tuple[str, ...]:
        """Every flag the child holds at some time, in input order, once each."""
        return tuple(dict.fromkeys(h.name for h in self.flags))


@dataclass(frozen=True, slots=True)
class Episode:
    id: str
    child: str
    reported: datetime
    returned: datetime | None = None
    whereabouts_known: bool = False
    with_parents: bool = False
    safeguarding_concerns: bool = False
    police_risk: str | None = None
    inspector_risk: str | None = None
    victim_of_crime: bool = False
    # None: the time is exact. Else the record gives only a date and the moment lies from `reported`
    # (`returned`), the earliest reading, to this, the latest (facts/moments.py)
    reported_until: datetime | None = None
    returned_until: datetime | None = None
    span: Span = field(default=Span(""), compare=False)
    field_spans: tuple[tuple[str, Span], ...] = field(default=(), compare=False)  # see `field_span`


def field_span(record: Child | Episode, name: str) -> Span:
    """Where a child's or an episode's field `name` is written: its own line in a case file (`field_spans`
    holds the fields on a line other than the record's), else the record's span (a CSV row is one line)."""
    return next((span for n, span in record.field_spans if n == name), record.span)


@dataclass(frozen=True, slots=True)
class RecordedAction:
    action: str
    child: str
    by: str
    at: datetime
    episode: str | None = None
    span: Span = field(default=Span(""), compare=False)


@dataclass(frozen=True, slots=True)
class FactSet:
    """All facts of one case or one bulk extract, in input order."""

    children: tuple[Child, ...] = ()
    episodes: tuple[Episode, ...] = ()
    actions: tuple[RecordedAction, ...] = ()

    def for_child(self, child_id: str) -> "FactSet":
        return FactSet(
            tuple(c for c in self.children if c.id == child_id),
            tuple(e for e in self.episodes if e.child == child_id),
            tuple(a for a in self.actions if a.child == child_id),
        )


@dataclass(frozen=True, slots=True)
class Expectations:
    """`expect:` of a case file. Entries are field->value maps matched by subset."""

    obligations: tuple[tuple[dict[str, Any], Span], ...] = ()
    not_obligations: tuple[tuple[dict[str, Any], Span], ...] = ()
    episodes: tuple[tuple[dict[str, Any], Span], ...] = ()


@dataclass(frozen=True, slots=True)
class Case:
    """One regression case: facts, the moment they are judged at, expectations."""

    name: str
    description: str
    as_of: datetime
    facts: FactSet
    expect: Expectations
    span: Span = field(default=Span(""), compare=False)
