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



@dataclass(frozen=True, slots=True)
class Child:
    id: str
    born: date
    statuses: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()
    responsible_authority: str = "liverpool"
    placed_in: str = "liverpool"
    span: Span = field(default=Span(""), compare=False)


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
