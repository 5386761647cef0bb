"""The reference interpreter: rule bodies matched against relations, and a whole program evaluated
by that same matching (an oracle independent of pyDatalog).

Input: `Relations` (tuples per predicate) and literals with the bindings they are asked under; or a
`Program` and base facts. Output: every way a body holds (variable bindings); or every derived
relation, sorted as engine/backends/pydatalog.py sorts them. Invariants: matching only looks tuples
up (explanations and coverage derive nothing); a body is read left to right as pyDatalog reads it (a
positive literal binds its variables, a comparison tests a bound one, a negated literal holds when
no tuple agrees, its unbound variables existential); the fixpoint runs the strata of
compiler/strata.py (the stratification the checks and the SQL back-end use), a level's recursive
groups repeated together until a whole round adds nothing; set semantics throughout.
tests/test_reference.py checks it gives pyDatalog's exact relations on every regression case.
"""
from __future__ import annotations

import operator
from collections import defaultdict
from datetime import datetime
from typing import Iterable, Mapping, Sequence

from compiler.codegen import DERIVED_PREDICATES, Cmp, Lit, Program, Var
from compiler.policy import CompiledPolicy
from compiler.strata import strata
from engine.evaluation import Evaluation, assemble
from engine.meaning.base_facts import BaseFact, base_facts
from facts.model import FactSet

COMPARE = {">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt}
_FREE = object()  # an argument position no binding fixes


class Relations:
    """Tuples per predicate, hash-indexed by predicate and by (predicate, position, value).

    Built whole from the tuples it is given; only `derive` adds to one, before handing it out."""

    __slots__ = ("_rows",)

    def __init__(self, rows: Mapping[str, Iterable[tuple]]) -> None:
        self._rows: dict[tuple, list[tuple]] = defaultdict(list)
        for pred, tuples in rows.items():
            self._add(pred, tuples)

    def _add(self, pred: str, tuples: Iterable[tuple]) -> None:
        rows = self._rows
        everything = rows[(pred,)]
        for t in tuples:
            everything.append(t)
            for i, v in enumerate(t):
                rows[(pred, i, v)].append(t)

    def tuples(self, pred: str) -> Sequence[tuple]:
        return self._rows.get((pred,), ())

    def candidates(self, pred: str, wanted: list) -> Sequence[tuple]:
        """The fewest tuples that can agree with `wanted` (values, or _FREE), from the best index."""
        keys = [(pred, i, w) for i, w in enumerate(wanted) if w is not _FREE] or [(pred,)]
        return min((self._rows.get(k, ()) for k in keys), key=len)

    def matches(self, lit: Lit, bindings: dict) -> list[dict]:
        """`bindings` extended by each tuple of the literal's predicate that agrees with it."""
        wanted = [bindings.get(a.name, _FREE) if isinstance(a, Var) else a for a in lit.args]
        out = []
        for t in self.candidates(lit.pred, wanted):
            new = dict(bindings)
            for a, w, v in zip(lit.args, wanted, t):
                agrees = new.setdefault(a.name, v) == v if w is _FREE else w == v  # a free variable binds once
                if not agrees:
                    break
            else:
                out.append(new)
        return out


def holds(relations: Relations, lits: Iterable[Lit | Cmp], bindings: dict) -> list[dict]:
    """Every way the literals hold under `bindings`, left to right as pyDatalog reads a body."""
    rows = [dict(bindings)]
    for x in lits:
        if isinstance(x, Cmp):
            rows = [b for b in rows if COMPARE[x.op](b[x.var.name], x.value)]
        elif x.negated:
            rows = [b for b in rows if not relations.matches(x, b)]
        else:
            rows = [m for b in rows for m in relations.matches(x, b)]
        if not rows:
            break
    return rows


def relations_of(evaluation: Evaluation) -> Relations:
    """An evaluation's relations, indexed: its base facts and every derived relation it holds."""
    rows: dict[str, list[tuple]] = defaultdict(list)
    for f in evaluation.base:
        rows[f.pred].append(f.args)
    return Relations({**rows, **evaluation.derived.tuples})


def _sorted(tuples: Iterable[tuple]) -> tuple[tuple, ...]:
    return tuple(sorted(tuples, key=repr))


def derive(program: Program, base: Iterable[BaseFact]) -> dict[str, tuple[tuple, ...]]:
    """Every derived relation of the program over these base facts (each derived predicate, sorted
    as pyDatalog's are; predicates no rule defines are empty)."""
    rows: dict[str, set[tuple]] = defaultdict(set)
    for f in base:
        rows[f.pred].add(f.args)
    db = Relations(rows)
    for level in strata(program):
        for group in level:
            if not group.recursive:
                new = {_head(r, b) for r in group.rules for b in holds(db, r.body, {})} - rows[group.table]
                rows[group.table] |= new
                db._add(group.table, new)
        recursive = [g for g in level if g.recursive]
        while recursive:  # a cycle may run through several groups: repeat them all until none grows
            grew = False
            for group in recursive:
                new = {_head(r, b) for r in group.rules for b in holds(db, r.body, {})} - rows[group.table]
                rows[group.table] |= new
                db._add(group.table, new)
                grew = grew or bool(new)
            if not grew:
                break
    return {p: _sorted(rows.get(p, ())) for p in DERIVED_PREDICATES}


def _head(rule, bindings: dict) -> tuple:
    return tuple(bindings[a.name] if isinstance(a, Var) else a for a in rule.head.args)


def evaluate_reference(policy: CompiledPolicy, facts: FactSet, at: datetime) -> Evaluation:
    """The evaluation `engine.evaluation.evaluate` gives, derived by this interpreter instead of pyDatalog."""
    base = tuple(base_facts(facts, at, policy.program))
    return assemble(policy, facts, at, base, derive(policy.program, base))
