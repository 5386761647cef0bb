"""Policy coverage by regression cases: which clauses fired, which conditions went both ways.

Input: evaluations of cases (fed one at a time to `Coverage.add`). A clause counts as exercised by a case when the case derives an
obligation from it, an obligation names it as its `exception`, an exception of
that name held (`exception_holds`), or it set an episode's category or risk.
A condition counts as covered when the cases saw it both true and false
(engine.explain.conditions.condition_truths, the same tests explanations use); a condition
that can never be false (`the child has been reported missing` in a clause about an
episode: the episode is that report) is left out of the count.
A clause is *checked* by a case when the case's expectations say something about it: an
`obligations` or `not_obligations` entry names it (as `clause` or `exception`), or names an
action (and actor) that only this clause gives; or an `episodes` entry expects the category
or risk it derived. Firing without checking is not testing: both are reported.
Output: a `CoverageReport` (counts, percentages, what no case exercises) as text
or JSON; each clause's conditions as written are its normal form's `atoms` (policy.normal). Invariants: clauses keep policy order; case lists keep input order.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

from compiler import ast
from compiler.core.diagnostics import Span
from compiler.policy import CompiledPolicy
from compiler.normal import NormalClause
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


def givers(policy: CompiledPolicy) -> dict[tuple[str, str | None], set[str]]:
    """(action, actor) and (action, None) -> the clauses (and actor exceptions) whose rules can give them."""
    out: dict[tuple[str, str | None], set[str]] = {}
    for rule in policy.program.rules:
        if rule.head.pred != "obligation":
            continue
        action, actor, clause, exception = (rule.head.args[i] for i in (2, 3, 5, 6))
        ids = {clause} | ({exception} if exception else set())
        for key in ((action, actor), (action, None)):
            out.setdefault(key, set()).update(ids)
    return out


def checked_clauses(case: Case, evaluation: Evaluation, given: dict[tuple[str, str | None], set[str]]) -> set[str]:
    """The clauses this case's expectations check (see the module docstring)."""
    out: set[str] = set()
    for entry, _ in case.expect.obligations + case.expect.not_obligations:
        named = {entry[k] for k in ("clause", "exception") if k in entry}
        out |= named
        if not named and "action" in entry:
            only = given.get((entry["action"], entry.get("actor")), set())
            if len({c for c in only if c in evaluation.policy.program.clauses and
                    not evaluation.policy.program.clauses[c].is_exception}) == 1:
                out |= only
    for entry, _ in case.expect.episodes:
        for e in evaluation.episodes:
            if "id" in entry and e.id != entry["id"]:
                continue
            if "category" in entry and e.category == entry["category"] and e.category_clause:
                out.add(e.category_clause)
            if "risk" in entry and e.risk == entry["risk"] and e.risk_clause:
                out.add(e.risk_clause)
    return out


def never_false(n: NormalClause, atom: ast.Atom) -> bool:
    """A condition no case can make false: an episode clause's 'the child has been reported missing'."""
    return isinstance(atom, ast.Reported) and n.episode_scoped


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
    checked_by: tuple[str, ...] = ()

    @property
    def fired(self) -> bool:
        return bool(self.cases)

    @property
    def checked(self) -> bool:
        return bool(self.checked_by)

    def to_json(self) -> dict:
        return {"id": self.id, "title": self.title, "kind": self.kind, "at": self.span.to_json(),
                "cases": len(self.cases), "case_names": list(self.cases),
                "checked_by": len(self.checked_by), "checked_by_names": list(self.checked_by),
                "conditions": [c.to_json() for c in self.conditions]}


@dataclass(frozen=True)
class CoverageReport:
    cases: int
    clauses: tuple[ClauseCoverage, ...]
    never_false: int = 0  # conditions left out: no case can make them false

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
    def unchecked(self) -> tuple[ClauseCoverage, ...]:
        return tuple(c for c in self.clauses if not c.checked)

    @property
    def checked_percent(self) -> float:
        return _percent(len(self.clauses) - len(self.unchecked), len(self.clauses))

    @property
    def conditions(self) -> tuple[ConditionCoverage, ...]:
        return tuple(x for c in self.clauses for x in c.conditions)

    @property
    def conditions_both(self) -> int:
        return sum(x.both for x in self.conditions)

    @property
    def condition_percent(self) -> float:
        return _percent(self.conditions_both, len(self.conditions))

    def fails_under(self, minimum: float | None, checked: bool = False) -> bool:
        """True when clause coverage (fired, or `checked`) is below `minimum` percent (None: never)."""
        return minimum is not None and (self.checked_percent if checked else self.clause_percent) < minimum

    def to_json(self) -> dict:
        return {"cases": self.cases,
                "clauses": {"total": len(self.clauses), "covered": len(self.covered), "percent": self.clause_percent,
                            "uncovered": [c.id for c in self.uncovered]},
                "checked": {"total": len(self.clauses), "checked": len(self.clauses) - len(self.unchecked),
                            "percent": self.checked_percent, "unchecked": [c.id for c in self.unchecked]},
                "conditions": {"total": len(self.conditions), "both": self.conditions_both,
                               "percent": self.condition_percent, "never_false": self.never_false},
                "per_clause": [c.to_json() for c in self.clauses]}


@dataclass
class Coverage:
    """Accumulates coverage over cases, one evaluation at a time."""

    policy: CompiledPolicy
    fired: dict[str, list[str]] = field(default_factory=dict)
    checked: dict[str, list[str]] = field(default_factory=dict)
    truths: dict[str, dict[tuple[int, int], set[bool]]] = field(default_factory=dict)
    cases: int = 0
    _givers: dict | None = None

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
        """The `observe` hook of engine.regression.suite: one case, by its name, and what it checks."""
        self.add(case.name, evaluation)
        if self._givers is None:
            self._givers = givers(self.policy)
        for clause_id in sorted(checked_clauses(case, evaluation, self._givers)):
            names = self.checked.setdefault(clause_id, [])
            if case.name not in names:
                names.append(case.name)

    def report(self) -> CoverageReport:
        out, trivial = [], 0
        for cid, n in self.policy.normal.items():
            seen = self.truths.get(cid, {})
            trivial += sum(never_false(n, a) for a in n.atoms)
            conds = tuple(ConditionCoverage(cid, atom.span, ast.describe(atom),
                                            tuple(sorted(seen.get((atom.span.line, atom.span.column), ()))))
                          for atom in n.atoms if not never_false(n, atom))
            out.append(ClauseCoverage(cid, n.clause.title.value, "exception" if n.is_exception else "clause",
                                      n.clause.span, tuple(self.fired.get(cid, ())), conds,
                                      tuple(self.checked.get(cid, ()))))
        return CoverageReport(self.cases, tuple(out), trivial)


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
    checked = n - len(report.unchecked)
    out = [f"Clause coverage: {len(report.covered)}/{n} clauses ({report.clause_percent:.1f}%) "
           f"exercised by {report.cases} case{'s' * (report.cases != 1)}",
           f"Checked: {checked}/{n} clauses ({report.checked_percent:.1f}%) named or pinned by some expectation",
           f"Condition coverage: {report.conditions_both}/{len(report.conditions)} conditions "
           f"({report.condition_percent:.1f}%) seen both true and false"
           + (f" ({report.never_false} that can never be false not counted)" if report.never_false else ""), ""]
    width = max((len(c.id) for c in report.clauses), default=0)
    out.append("  cases  checked  " + "clause".ljust(width) + "  conditions both ways")
    for c in report.clauses:
        both = sum(x.both for x in c.conditions)
        out.append(f"  {len(c.cases):>5}  {len(c.checked_by):>7}  {c.id.ljust(width)}  {both}/{len(c.conditions)}")
    if report.uncovered:
        out += ["", "Clauses no case exercises:"]
        out += [f"  {c.id} \"{c.title}\" ({_where(c.span)})" for c in report.uncovered]
    unchecked = [c for c in report.unchecked if c.fired]
    if unchecked:
        out += ["", "Clauses that fire but no expectation checks:"]
        out += [f"  {c.id} \"{c.title}\" ({_where(c.span)}): fired in {len(c.cases)} case{'s' * (len(c.cases) != 1)}"
                for c in unchecked]
    partial = [x for x in report.conditions if not x.both]
    if partial:
        out += ["", "Conditions not seen both true and false:"]
        out += [f"  {x.clause} {_where(x.span)}: {x.text} - {x.seen_words}" for x in partial]
    return "\n".join(out) + "\n"
