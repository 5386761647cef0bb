"""Rule bodies and condition atoms tested against an evaluation's relations.

Input: an `Evaluation`, literals (a rule's body, or one clause atom's) and the
bindings they are asked under (a child, an episode). Output: whether they hold, the
variable bindings, and the base facts that bear on them (with their file and line).
The relations are pyDatalog's: its base facts, and each derived predicate as
pyDatalog derives it for this evaluation (re-loaded into pyDatalog if another ran
since); matching only looks tuples up, it derives nothing. Explanations and
condition coverage both read these results, so "why", "why not" and coverage can
never disagree with the rules themselves.
"""
from __future__ import annotations

import operator
from collections import defaultdict
from dataclasses import dataclass

from compiler import ast
from compiler.codegen import BASE_PREDICATES, DERIVED_PREDICATES, Cmp, Lit, Var, atom_literals
from compiler.logic import atoms_of, is_episode_scoped
from engine.backends import pydatalog as runtime
from engine.evaluation import Evaluation
from engine.meaning.base_facts import BaseFact
from engine.meaning.episodes import listed

COMPARE = {">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt}


@dataclass(frozen=True)
class AtomResult:
    atom: ast.Atom
    negated: bool
    holds: bool
    bindings: dict
    facts: tuple[BaseFact, ...]

    @property
    def words(self) -> str:
        return ("not " if self.negated else "") + ast.describe(self.atom)


def scopes(evaluation: Evaluation, clause: ast.Clause, child: str | None = None,
           episode: str | None = None) -> list[dict[str, str]]:
    """The bindings a clause is asked about: each visible episode, or each child."""
    if is_episode_scoped(clause):
        return [{"C": e.child, "E": e.id} for e in listed(evaluation.facts, evaluation.at)
                if (child is None or e.child == child) and (episode is None or e.id == episode)]
    return [{"C": c.id, "E": ""} for c in sorted(evaluation.facts.children, key=lambda c: c.id)
            if child is None or c.id == child]


_FREE = object()  # an argument position no binding fixes


class _Relations:
    """One evaluation's relations as pyDatalog holds them, by (predicate,) and by (predicate,
    position, value): the base facts as loaded, and each derived predicate asked of pyDatalog
    once, whole. Asking pyDatalog a body at a time re-derives its predicates on every question
    (it keeps no tables between queries): hundreds of questions for one child's explanation.
    `facts` keeps the base facts themselves (with their sources) for the explanation's leaves."""

    def __init__(self, base: tuple[BaseFact, ...]) -> None:
        self.facts: dict[tuple, list[BaseFact]] = defaultdict(list)
        self.rows: dict[tuple, list[tuple]] = defaultdict(list)
        for f in base:
            self.facts[(f.pred,)].append(f)
            self.facts[(f.pred, f.args[0])].append(f)
            self._add(f.pred, f.args)

    def _add(self, pred: str, t: tuple) -> None:
        self.rows[(pred,)].append(t)
        for i, v in enumerate(t):
            self.rows[(pred, i, v)].append(t)

    def tuples(self, evaluation: Evaluation, pred: str, wanted: list) -> list[tuple]:
        """The fewest tuples that can agree with `wanted` (values, or _FREE), from the best index."""
        if pred not in BASE_PREDICATES and (pred,) not in self.rows:
            evaluation.ensure_loaded()
            self.rows[(pred,)] = []
            for t in runtime.query(pred, DERIVED_PREDICATES[pred]):
                self._add(pred, t)
        keys = [(pred, i, w) for i, w in enumerate(wanted) if w is not _FREE] or [(pred,)]
        return min((self.rows.get(k, []) for k in keys), key=len)

    def matches(self, evaluation: Evaluation, lit: Lit, bindings: dict) -> list[dict]:
        """`bindings` extended by each tuple of the literal's predicate that agrees with it."""
        wanted = [bindings.get(a.name, _FREE) if isinstance(a, Var) else a for a in lit.args]
        out = []
        for t in self.tuples(evaluation, lit.pred, wanted):
            new = dict(bindings)
            for a, w, v in zip(lit.args, wanted, t):
                agrees = new.setdefault(a.name, v) == v if w is _FREE else w == v  # a free variable binds once
                if not agrees:
                    break
            else:
                out.append(new)
        return out


def _relations(evaluation: Evaluation) -> _Relations:
    cached = getattr(evaluation, "_relations", None)
    if cached is None:
        cached = _Relations(evaluation.base)
        object.__setattr__(evaluation, "_relations", cached)
    return cached


def holds(evaluation: Evaluation, lits: tuple[Lit | Cmp, ...], bindings: dict) -> list[dict]:
    """Every way the literals hold under `bindings`, left to right as pyDatalog reads a body: a
    positive literal binds its variables, a comparison tests a bound one, a negated literal holds
    when no tuple agrees. Nothing is derived here: the tuples are pyDatalog's (see `_Relations`)."""
    relations = _relations(evaluation)
    rows = [dict(bindings)]
    for x in lits:
        if isinstance(x, Cmp):
            rows = [b for b in rows if COMPARE[x.op](b[x.var.name], x.value)]
        elif x.negated:
            rows = [b for b in rows if not relations.matches(evaluation, x, b)]
        else:
            rows = [m for b in rows for m in relations.matches(evaluation, x, b)]
    return rows


def facts_for(evaluation: Evaluation, lit: Lit, bindings: dict) -> tuple[BaseFact, ...]:
    """Base facts matching a literal wherever its arguments are known."""
    if lit.pred not in BASE_PREDICATES:
        return ()
    wanted = [bindings.get(a.name) if isinstance(a, Var) else a for a in lit.args]
    key = (lit.pred,) if wanted[0] is None else (lit.pred, wanted[0])
    return tuple(f for f in _relations(evaluation).facts.get(key, ())
                 if all(w is None or w == v for w, v in zip(wanted, f.args)))


def test_atom(evaluation: Evaluation, atom: ast.Atom, negated: bool, bindings: dict) -> AtomResult:
    lits = tuple(atom_literals(atom, negated, 0))
    rows = holds(evaluation, lits, bindings)
    seen = rows[0] if rows else bindings
    facts: list[BaseFact] = []
    for lit in lits:
        if isinstance(lit, Cmp):
            continue
        positive = Lit(lit.pred, lit.args)
        for f in facts_for(evaluation, positive, seen):
            if f not in facts:
                facts.append(f)
    return AtomResult(atom, negated, bool(rows), dict(seen), tuple(facts))


def conjunction(evaluation: Evaluation, conj: tuple, bindings: dict) -> list[AtomResult]:
    return [test_atom(evaluation, atom, neg, bindings) for neg, atom in conj]


def condition_truths(evaluation: Evaluation) -> dict[str, dict[tuple[int, int], set[bool]]]:
    """clause id -> (line, column) of each condition as written -> truth values seen.

    Every condition of every clause is tested on every episode (or child) of the
    evaluation, as written (without the 'not' around it), for condition coverage.
    """
    out: dict[str, dict[tuple[int, int], set[bool]]] = {}
    for clause in evaluation.policy.program.clauses.values():
        seen: dict[tuple[int, int], set[bool]] = {}
        for atom in atoms_of(clause.when):
            seen.setdefault((atom.span.line, atom.span.column), set())
        for bindings in scopes(evaluation, clause):
            for atom in atoms_of(clause.when):
                seen[(atom.span.line, atom.span.column)].add(test_atom(evaluation, atom, False, bindings).holds)
        out[clause.id.value] = seen
    return out
