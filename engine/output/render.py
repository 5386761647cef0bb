"""Obligations as a practitioner's table, JSON or CSV, from Python objects. Reads `Run`s; decides nothing.

Input: (run, obligations) pairs. Output: the text. The columns and each cell's formatting are
engine/output/columns.py's (the `python` side; engine/output/stream.py writes the same text from
DuckDB rows with the `sql` side). Invariants: the order is the engine's (due first, then arising
time, child, episode, action, actor); every format shows the same rows and fields.
"""
from __future__ import annotations

import json
from typing import Iterable

from compiler.core.london import format_instant
from engine.backends.batch import Run
from engine.meaning.obligations import Obligation
from engine.output.columns import CSV_HEADER, HEADERS, TABLE, csv_line, csv_row, data, heading


def table(runs: Iterable[tuple[Run, list[Obligation]]]) -> str:
    out = []
    for run, obligations in runs:
        out.append(heading(run.name, run.evaluation.at, len(obligations), run.evaluation.episodes))
        rows = [HEADERS] + [tuple(c.python(o) for c in TABLE) for o in obligations]
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
        "obligations": [data(o) for o in obligations],
    } for run, obligations in runs], indent=2, ensure_ascii=False) + "\n"


def as_csv(runs: Iterable[tuple[Run, list[Obligation]]]) -> str:
    out = [csv_line(CSV_HEADER)]
    for run, obligations in runs:
        out.extend(csv_line(csv_row(run.name, o)) for o in obligations)
    return "".join(out)
