"""A clause's conditions tested on one evaluation: what explanations and condition coverage read.

Input: an `Evaluation`, indexed once (`Asked.of`), and a clause's condition atoms with the bindings
they are asked under (a child, an episode). Output: whether each holds, its variable bindings, and
the base facts that bear on it (with their file and line). Invariants: every test matches the
atom's generated literals against the evaluation's own relations with the reference matcher
(engine/backends/reference.py), so "why", "why not" and coverage can never disagree with the
rules; the evaluation is only read; nothing asks pyDatalog.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from compiler import ast
from compiler.codegen import BASE_PREDICATES, Cmp, Lit, Var, atom_literals
from engine.backends.reference import Relations, holds, relations_of
from engine.evaluation import Evaluation
from engine.meaning.episodes import listed
from engine.meaning.base_facts import BaseFact


@dataclass(frozen=True)
class AtomResult:
    atom: ast.Atom
    negated: bool
    holds: bool
    bindings: dict
    facts: tuple[BaseFact, ...]


class Asked:
    """One evaluation indexed for many questions: its relations, and its base facts by (predicate,)
    and (predicate, first argument) for the explanation's leaves. Built per question, kept by none."""

    def __init__(self, evaluation: Evaluation) -> None:
        self.evaluation = evaluation
        self.relations: Relations = relations_of(evaluation)
        self.sources: dict[tuple, list[BaseFact]] = defaultdict(list)
        for f in evaluation.base:
            self.sources[(f.pred,)].append(f)
            self.sources[(f.pred, f.args[0])].append(f)

    def holds(self, lits: tuple[Lit | Cmp, ...], bindings: dict) -> list[dict]:
        return holds(self.relations, lits, bindings)

    def facts_for(self, lit: Lit, bindings: dict) -> tuple[BaseFact, ...]:
        """Base facts matching a literal wherever its arguments are known."""
        if lit.pred not in BASE_PREDICATES:
            return ()
        wanted = [bindings.get(a.name) if isinstance(a, Var) else a for a in lit.args]
        key = (lit.pred,) if wanted[0] is None else (lit.pred, wanted[0])
        return tuple(f for f in self.sources.get(key, ())
                     if all(w is None or w == v for w, v in zip(wanted, f.args)))

    def test_atom(self, atom: ast.Atom, negated: bool, bindings: dict) -> AtomResult:
        lits = tuple(atom_literals(atom, negated, 0, scoped=bool(bindings.get("E"))))
        rows = self.holds(lits, bindings)
        seen = rows[0] if rows else bindings
        facts: list[BaseFact] = []
        for lit in lits:
            if isinstance(lit, Cmp):
                continue
            for f in self.facts_for(Lit(lit.pred, lit.args), seen):
                if f not in facts:
                    facts.append(f)
        return AtomResult(atom, negated, bool(rows), dict(seen), tuple(facts))

    def conjunction(self, conj: tuple, bindings: dict) -> list[AtomResult]:
        return [self.test_atom(atom, neg, bindings) for neg, atom in conj]


def scopes(evaluation: Evaluation, clause: ast.Clause, child: str | None = None,
           episode: str | None = None) -> list[dict[str, str]]:
    """The bindings a clause is asked about: each visible episode, or each child."""
    if evaluation.policy.normal[clause.id.value].episode_scoped:
        return [{"C": e.child, "E": e.id} for e in listed(evaluation.facts, evaluation.at)
                if (child is None or e.child == child) and (episode is None or e.id == episode)]
    return [{"C": c.id, "E": ""} for c in sorted(evaluation.facts.children, key=lambda c: c.id)
            if child is None or c.id == child]


def condition_truths(evaluation: Evaluation) -> dict[str, dict[tuple[int, int], set[bool]]]:
    """clause id -> (line, column) of each condition as written -> truth values seen.

    Every condition of every clause is tested on every episode (or child) of the
    evaluation, as written (without the 'not' around it), for condition coverage.
    """
    asked = Asked(evaluation)
    out: dict[str, dict[tuple[int, int], set[bool]]] = {}
    for n in evaluation.policy.normal.values():
        seen: dict[tuple[int, int], set[bool]] = {}
        for atom in n.atoms:
            seen.setdefault((atom.span.line, atom.span.column), set())
        for bindings in scopes(evaluation, n.clause):
            for atom in n.atoms:
                seen[(atom.span.line, atom.span.column)].add(asked.test_atom(atom, False, bindings).holds)
        out[n.id] = seen
    return out
