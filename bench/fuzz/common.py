"""What every kind shares: the outcomes, the check that a diagnostic is a proper one, the Kind shape.

Outcomes of one input: `result` (accepted and processed to the end), `diagnostics` (refused with
well-formed diagnostics), `crash` (any other exception, or a diagnostic without a code, message or
span, or an unescaped `<script>`), `hang` (over HANG_SECONDS). A kind's `run` returns one of the
first two or raises `Bad` (or anything else: a crash); the worker turns time-outs into `hang`.
"""
from __future__ import annotations

import json
import random
import re
from pathlib import Path
from typing import Any

from compiler.core.diagnostics import ClauseError, Diagnostic, render_json, render_text

RESULT, DIAGNOSTICS, CRASH, HANG = "result", "diagnostics", "crash", "hang"
OUTCOMES = (RESULT, DIAGNOSTICS, CRASH, HANG)
HANG_SECONDS = 10.0
CODE = re.compile(r"[A-Z]\d{3}")


class Bad(Exception):
    """An invariant of the output broken without an exception of Clause's own (a crash)."""


def check_diagnostics(e: ClauseError, lines: dict[str, int] | None = None) -> str:
    """`diagnostics` if every diagnostic of `e` has a stable code, a message and a span naming a file
    (and, for a file in `lines`, a line within it); raises Bad otherwise. Both renderings must work."""
    if not e.diagnostics:
        raise Bad("a ClauseError without diagnostics")
    if not any(d.severity == "error" for d in e.diagnostics):
        raise Bad("a ClauseError without an error")
    for d in e.diagnostics:
        check_one(d, lines)
    render_text(e.diagnostics)
    json.loads(render_json(e.diagnostics))
    return DIAGNOSTICS


def check_one(d: Diagnostic, lines: dict[str, int] | None = None) -> None:
    if not CODE.fullmatch(d.code) or not d.message:
        raise Bad(f"diagnostic without a code or message: {d.code!r}")
    if not d.span.file:
        raise Bad(f"{d.code} has no span (no file)")
    n = (lines or {}).get(d.span.file)
    if n is not None and d.span.line and not (1 <= d.span.line <= n and d.span.column >= 1):
        raise Bad(f"{d.code} points outside its file: line {d.span.line} column {d.span.column} of {n} lines")


def places(e: ClauseError) -> list[tuple]:
    """Where each diagnostic is, and what it is: what two readers must agree on."""
    return sorted({(d.code, d.severity, d.span.file, d.span.line, d.span.column) for d in e.diagnostics})


def pydatalog_csv(policy: Any, facts: Any, at: Any) -> str:
    """`clause obligations --engine pydatalog --format csv` of a folder's facts: child by child, as CSV."""
    from engine.backends.batch import Run
    from engine.backends.partition import evaluate_partitioned
    from engine.output import render
    run = Run("bulk", None, evaluate_partitioned(policy, facts, at))
    return render.as_csv([(run, run.obligations())])


def duck_agrees(policy: Any, source: Any, at: Any, work: Path, text: str) -> None:
    """DuckDB on the same input (a bulk folder or an Extract) writes `text`, pyDatalog's CSV, byte for byte."""
    from engine.backends.duck import evaluate_duck
    from engine.output.stream import write_file
    out = work / "duck.csv"
    try:
        ev = evaluate_duck(policy, source, at, threads=1)
    except ClauseError as e:
        raise Bad(f"DuckDB refused what the Python reader read: {places(e)[:3]}") from None
    try:
        write_file(ev, "csv", "bulk", str(out), None)
    finally:
        ev.close()
    if out.read_text(encoding="utf-8") != text:
        raise Bad("DuckDB's CSV differs from pyDatalog's on the same input")


def duck_refuses(policy: Any, source: Any, at: Any, expected: list[tuple]) -> None:
    """DuckDB on an input the Python reader refused refuses it too, with the same diagnostics."""
    from engine.backends.duck import evaluate_duck
    try:
        evaluate_duck(policy, source, at, threads=1).close()
    except ClauseError as e:
        if places(e) != expected:
            raise Bad(f"DuckDB's diagnostics differ: {places(e)[:3]} against {expected[:3]}") from None
        return
    raise Bad("DuckDB read an input the Python reader refused")


def line_count(data: bytes) -> int:
    """Lines as any reader might count them (\\n, \\r\\n, lone \\r and Unicode separators): an upper bound."""
    text = data.decode("utf-8", "replace")
    return max(len(text.splitlines()), 1) + 1


class Kind:
    """One kind of input. `setup` prepares files once per worker; `make` builds input i from its rng
    (a label saying how it was made, and the input); `run` processes it in-process -> an outcome;
    `cli` gives the `clause` arguments that process the same input (or None), and `cli_outcome`
    maps that command's exit code to the outcome expected of `run`."""

    name = ""
    seed = 0

    def setup(self, work: Path) -> None:
        self.work = work

    def make(self, rng: random.Random) -> tuple[str, Any]:
        raise NotImplementedError

    def run(self, item: Any) -> str:
        raise NotImplementedError

    def cli(self, item: Any) -> list[str] | None:
        return None

    def cli_outcome(self, code: int) -> str:
        return {0: RESULT, 2: DIAGNOSTICS}.get(code, CRASH)
