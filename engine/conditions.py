"""Condition atoms tested one at a time against the loaded logic.

Input: an `Evaluation` (re-loaded into pyDatalog if another ran since), a
clause's atom and the child/episode it is asked about. Output: whether the atom
holds, the variable bindings, and the base facts that bear on it (with their
file and line). Explanations and condition coverage both read these results, so
"why", "why not" and coverage can never disagree with the rules themselves.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from compiler import ast
from compiler.codegen import BASE_PREDICATES, Cmp, Lit, Var, atom_literals
from compiler.logic import atoms_of, is_episode_scoped
from engine import runtime
from engine.evaluate import Evaluation
from engine.temporal import BaseFact, utc


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
        return [{"C": e.child, "E": e.id} for e in sorted(evaluation.facts.episodes, key=lambda e: (e.child, utc(e.reported), e.id))
                if utc(e.reported) <= utc(evaluation.at)
                and (child is None or e.child == child) and (episode is None or e.id == episode)]
    return [{"C": c.id, "E": ""} for c in sorted(evaluation.facts.children, key=lambda c: c.id)
            if child is None or c.id == child]


def _index(evaluation: Evaluation) -> dict[tuple, list[BaseFact]]:
    """Base facts by predicate, and by predicate and first argument (a child or episode id)."""
    cached = getattr(evaluation, "_fact_index", None)
    if cached is None:
        cached = defaultdict(list)
        for f in evaluation.base:
            cached[(f.pred,)].append(f)
            cached[(f.pred, f.args[0])].append(f)
        object.__setattr__(evaluation, "_fact_index", cached)
    return cached


def facts_for(evaluation: Evaluation, lit: Lit, bindings: dict) -> tuple[BaseFact, ...]:
    """Base facts matching a literal wherever its arguments are known."""
    if lit.pred not in BASE_PREDICATES:
        return ()
    wanted = [bindings.get(a.name) if isinstance(a, Var) else a for a in lit.args]
    key = (lit.pred,) if wanted[0] is None else (lit.pred, wanted[0])
    return tuple(f for f in _index(evaluation).get(key, ())
                 if all(w is None or w == v for w, v in zip(wanted, f.args)))


def test_atom(evaluation: Evaluation, atom: ast.Atom, negated: bool, bindings: dict) -> AtomResult:
    evaluation.ensure_loaded()
    lits = tuple(atom_literals(atom, negated, 0))
    rows = runtime.holds(lits, bindings)
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
