"""The worklist: every obligation of an input, by state, filtered and sorted for a practitioner.

Input: (case name, obligation) pairs in the engine's order, the filters, and today's London
date. Output: `Worklist` rows and counts by state (data; cli/serve renders it as HTML or
JSON). Invariants: the states are data, `OBLIGATION_STATUSES` in the vocabulary's order with
`URGENT` first; "due today" is a view of an unfinished duty, not a state; the sort is total
(ties fall back to the engine's order), so the same input always lists the same way.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Iterable

from compiler.core.london import LONDON, format_instant
from compiler.core.vocabulary import OBLIGATION_STATUSES
from engine.meaning.obligations import Obligation

SHAPE_VERSION = 1
URGENT = ("overdue",)  # listed first
FINISHED = ("done", "done_late", "ended")  # a duty in one of these needs nothing more
SORTS = ("urgency", "due", "child", "action", "actor")


def states() -> tuple[str, ...]:
    """Every state a row can have, in the order the worklist shows them."""
    return tuple(URGENT) + tuple(s for s in OBLIGATION_STATUSES if s not in URGENT)


@dataclass(frozen=True)
class Filters:
    actor: str | None = None
    action: str | None = None
    child: str | None = None
    state: str | None = None
    due_from: date | None = None
    due_to: date | None = None
    sort: str = "urgency"

    def active(self) -> dict[str, str]:
        return {k: str(v) for k, v in self.__dict__.items() if v is not None and not (k == "sort" and v == "urgency")}


@dataclass(frozen=True)
class Row:
    case: str
    obligation: Obligation
    due_today: bool
    order: int  # position in the engine's order

    @property
    def state(self) -> str:
        """The duty's status: every duty has one (engine/meaning/lifecycle.py `state`)."""
        assert self.obligation.status is not None, "an obligation without a status reached the worklist"
        return self.obligation.status

    def to_json(self) -> dict:
        return {"case": self.case, **self.obligation.to_json(), "occurrence": self.obligation.occurrence or None,
                "state": self.state, "due_today": self.due_today,
                "done_at": format_instant(self.obligation.done_at) if self.obligation.done_at else None}


@dataclass(frozen=True)
class Worklist:
    rows: tuple[Row, ...]
    counts: dict[str, int]  # every state, after the other filters
    due_today: int
    total: int  # before any filter
    filters: Filters = field(default_factory=Filters)

    def to_json(self, at: datetime) -> dict:
        return {"version": SHAPE_VERSION, "as_of": format_instant(at), "filters": self.filters.active(),
                "states": list(self.counts), "counts": self.counts, "due_today": self.due_today,
                "total": self.total, "obligations": [r.to_json() for r in self.rows]}


def _day(moment: datetime | None) -> date | None:
    return moment.astimezone(LONDON).date() if moment else None


def _rank(row: Row, order: tuple[str, ...]) -> int:
    """Overdue first, then unfinished duties due today, then each other state in the vocabulary's order."""
    if row.state in URGENT:
        return 0
    if row.due_today:
        return 1
    return 2 + (order.index(row.state) if row.state in order else len(order))


def build(pairs: Iterable[tuple[str, Obligation]], filters: Filters, today: date) -> Worklist:
    order = states()
    rows, total = [], 0
    for i, (case, o) in enumerate(pairs):
        total += 1
        rows.append(Row(case, o, _day(o.due) == today and (o.status or "") not in FINISHED + URGENT, i))
    f = filters

    def keep(r: Row) -> bool:
        o, due = r.obligation, _day(r.obligation.due)
        return ((f.actor is None or o.actor == f.actor) and (f.action is None or o.action == f.action)
                and (f.child is None or o.child == f.child)
                and (f.due_from is None or (due is not None and due >= f.due_from))
                and (f.due_to is None or (due is not None and due <= f.due_to)))
    narrowed = [r for r in rows if keep(r)]
    counts = {s: 0 for s in order}
    for r in narrowed:
        counts[r.state] = counts.get(r.state, 0) + 1
    shown = [r for r in narrowed if f.state is None or r.state == f.state]
    key = {"urgency": lambda r: (_rank(r, order), r.order), "due": lambda r: r.order,
           "child": lambda r: (r.obligation.child, r.order), "action": lambda r: (r.obligation.action, r.order),
           "actor": lambda r: (r.obligation.actor, r.order)}[f.sort if f.sort in SORTS else "urgency"]
    return Worklist(tuple(sorted(shown, key=key)), counts, sum(r.due_today for r in narrowed), total, filters)
