"""Policy coverage by regression cases: which clauses fired, which conditions went both ways.

Input: evaluations of cases (fed one at a time to `Coverage.add`). A clause counts as exercised by a case when the case derives an
obligation from it, an obligation names it as its `exception`, an exception of
that name held (`exception_holds`), or it set an episode's category or risk.
A condition counts as covered when the cases saw it both true and false
(engine.explain.conditions.condition_truths, the same tests explanations use).
Output: a `CoverageReport` (counts, percentages, what no case exercises) as text
or JSON. Invariants: clauses keep policy order; case lists keep input order.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

from compiler import ast
from compiler.core.diagnostics import Span
from compiler.policy import CompiledPolicy
from compiler.logic import atoms_of
from engine.explain.conditions import condition_truths
from engine.evaluation import Evaluation
from facts.model import Case


def fired_clauses(evaluation: Evaluation) -> set[str]:
    """Every clause (or exception) that contributed a derived fact in this evaluation."""
    tuples = evaluation.derived.tuples
    out: set[str] = set()
    for row in tuples.get("obligation", ()):
        out.update(x for x in row[5:7] if x)
    for ob in evaluation.obligations:
        out.update(x for x in (ob.clause, ob.exception) if x)
    for pred in ("category_by", "risk_by", "exception_holds"):
        out.update(row[-1] for row in tuples.get(pred, ()) if row[-1])
    return out


def _percent(part: int, whole: int) -> float:
    return 100.0 if whole == 0 else round(100.0 * part / whole, 1)


@dataclass(frozen=True)
class ConditionCoverage:
    clause: str
    span: Span
    text: str
    seen: tuple[bool, ...]  # sorted: (), (False,), (True,) or (False, True)

    @property
    def both(self) -> bool:
        return len(self.seen) == 2

    @property
    def seen_words(self) -> str:
        return {(): "never tested", (False,): "only false", (True,): "only true"}.get(self.seen, "true and false")

    def to_json(self) -> dict:
        return {"clause": self.clause, "at": self.span.to_json(), "condition": self.text,
                "seen": list(self.seen), "both": self.both}


@dataclass(frozen=True)
class ClauseCoverage:
    id: str
    title: str
    kind: str  # clause | exception
    span: Span
    cases: tuple[str, ...]
    conditions: tuple[ConditionCoverage, ...]

    @property
    def fired(self) -> bool:
        return bool(self.cases)

    def to_json(self) -> dict:
        return {"id": self.id, "title": self.title, "kind": self.kind, "at": self.span.to_json(),
                "cases": len(self.cases), "case_names": list(self.cases),
                "conditions": [c.to_json() for c in self.conditions]}


@dataclass(frozen=True)
class CoverageReport:
    cases: int
    clauses: tuple[ClauseCoverage, ...]

    @property
    def covered(self) -> tuple[ClauseCoverage, ...]:
        return tuple(c for c in self.clauses if c.fired)

    @property
    def uncovered(self) -> tuple[ClauseCoverage, ...]:
        return tuple(c for c in self.clauses if not c.fired)

    @property
    def clause_percent(self) -> float:
        return _percent(len(self.covered), len(self.clauses))

    @property
    def conditions(self) -> tuple[ConditionCoverage, ...]:
        return tuple(x for c in self.clauses for x in c.conditions)

    @property
    def conditions_both(self) -> int:
        return sum(x.both for x in self.conditions)

    @property
    def condition_percent(self) -> float:
        return _percent(self.conditions_both, len(self.conditions))

    def fails_under(self, minimum: float | None) -> bool:
        """True when clause coverage is below `minimum` percent (None: never)."""
        return minimum is not None and self.clause_percent < minimum

    def to_json(self) -> dict:
        return {"cases": self.cases,
                "clauses": {"total": len(self.clauses), "covered": len(self.covered), "percent": self.clause_percent,
                            "uncovered": [c.id for c in self.uncovered]},
                "conditions": {"total": len(self.conditions), "both": self.conditions_both,
                               "percent": self.condition_percent},
                "per_clause": [c.to_json() for c in self.clauses]}


@dataclass
class Coverage:
    """Accumulates coverage over cases, one evaluation at a time."""

    policy: CompiledPolicy
    fired: dict[str, list[str]] = field(default_factory=dict)
    truths: dict[str, dict[tuple[int, int], set[bool]]] = field(default_factory=dict)
    cases: int = 0

    def add(self, name: str, evaluation: Evaluation) -> None:
        self.cases += 1
        for clause_id in sorted(fired_clauses(evaluation)):
            names = self.fired.setdefault(clause_id, [])
            if name not in names:
                names.append(name)
        for clause_id, seen in condition_truths(evaluation).items():
            mine = self.truths.setdefault(clause_id, {})
            for where, values in seen.items():
                mine.setdefault(where, set()).update(values)

    def observe(self, case: Case, evaluation: Evaluation) -> None:
        """The `observe` hook of engine.regression.suite: one case, by its name."""
        self.add(case.name, evaluation)

    def report(self) -> CoverageReport:
        out = []
        for cid, clause in self.policy.program.clauses.items():
            seen = self.truths.get(cid, {})
            conds = tuple(ConditionCoverage(cid, atom.span, ast.describe(atom),
                                            tuple(sorted(seen.get((atom.span.line, atom.span.column), ()))))
                          for atom in atoms_of(clause.when))
            out.append(ClauseCoverage(cid, clause.title.value, "exception" if clause.is_exception else "clause",
                                      clause.span, tuple(self.fired.get(cid, ())), conds))
        return CoverageReport(self.cases, tuple(out))


def _where(span: Span) -> str:
    path = span.file
    try:
        rel = os.path.relpath(path)
        path = rel if not rel.startswith("..") else path
    except ValueError:
        pass
    return f"{path}:{span.line}" + (f":{span.column}" if span.column else "")


def render_text(report: CoverageReport) -> str:
    """Totals, a line per clause (cases that fired it, conditions seen both ways), then the gaps."""
    n = len(report.clauses)
    out = [f"Clause coverage: {len(report.covered)}/{n} clauses ({report.clause_percent:.1f}%) "
           f"exercised by {report.cases} case{'s' * (report.cases != 1)}",
           f"Condition coverage: {report.conditions_both}/{len(report.conditions)} conditions "
           f"({report.condition_percent:.1f}%) seen both true and false", ""]
    width = max((len(c.id) for c in report.clauses), default=0)
    out.append("  cases  " + "clause".ljust(width) + "  conditions both ways")
    for c in report.clauses:
        both = sum(x.both for x in c.conditions)
        out.append(f"  {len(c.cases):>5}  {c.id.ljust(width)}  {both}/{len(c.conditions)}")
    if report.uncovered:
        out += ["", "Clauses no case exercises:"]
        out += [f"  {c.id} \"{c.title}\" ({_where(c.span)})" for c in report.uncovered]
    partial = [x for x in report.conditions if not x.both]
    if partial:
        out += ["", "Conditions not seen both true and false:"]
        out += [f"  {x.clause} {_where(x.span)}: {x.text} - {x.seen_words}" for x in partial]
    return "\n".join(out) + "\n"
