"""Obligations as a practitioner's table, JSON or CSV. Reads `Run`s; decides nothing.

Invariants: the order is the engine's (due first, then arising time, child,
episode, action, actor); every format shows the same rows and fields.
"""
from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from typing import Iterable

from engine.backends.batch import Run
from engine.meaning.lifecycle import span_words
from engine.meaning.obligations import FIELDS, Obligation
from compiler.core.london import format_instant

COLUMNS = ("due", "status", "child", "episode", "action", "actor", "modality", "triggered", "clause")


def _when(moment: datetime | None) -> str:
    return moment.strftime("%a %d %b %Y %H:%M") if moment else "-"


def _status(o: Obligation) -> str:
    if o.status == "overdue":
        return "OVERDUE"
    if o.status == "open" and o.open_for is not None:
        return "open " + span_words(o.open_for)
    return o.status or ""


def _row(o: Obligation) -> tuple[str, ...]:
    status = _status(o)
    action = o.action + (f" #{o.occurrence}" if o.occurrence else "")
    clause = o.clause + (f" (via {o.exception})" if o.exception else "") + "".join(
        ", " + c for c in o.clauses[1:])
    due = _when(o.due) + (f" ({o.standard})" if o.standard else "")
    return (due, status, o.child, o.episode or "-", action, o.actor, o.modality, _when(o.triggered), clause)


def table(runs: Iterable[tuple[Run, list[Obligation]]]) -> str:
    out = []
    for run, obligations in runs:
        ep = ", ".join(f"{e.id} {e.category or '?'}{', risk ' + e.risk if e.risk else ''}"
                       for e in run.evaluation.episodes)
        out.append(f"{run.name}: as at {_when(run.evaluation.at)}"
                   f" - {len(obligations)} obligation{'s' * (len(obligations) != 1)}" + (f"; episodes: {ep}" if ep else ""))
        rows = [COLUMNS] + [_row(o) for o in obligations]
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        for i, r in enumerate(rows):
            out.append("  " + "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
            if i == 0:
                out.append("  " + "  ".join("-" * w for w in widths))
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def as_json(runs: Iterable[tuple[Run, list[Obligation]]]) -> str:
    return json.dumps([{
        "case": run.name, "as_of": format_instant(run.evaluation.at),
        "episodes": [e.to_json() for e in run.evaluation.episodes],
        "obligations": [o.to_json() for o in obligations],
    } for run, obligations in runs], indent=2, ensure_ascii=False) + "\n"


def _cell(value: object) -> object:
    """A CSV cell: nothing for none, a list `;`-separated (as the bulk input writes lists)."""
    return "" if value is None else ";".join(value) if isinstance(value, list) else value


def as_csv(runs: Iterable[tuple[Run, list[Obligation]]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(("case", *FIELDS, "occurrence"))
    for run, obligations in runs:
        for o in obligations:
            j = o.to_json()
            writer.writerow((run.name, *(_cell(j[f]) for f in FIELDS), o.occurrence or ""))
    return buf.getvalue()
