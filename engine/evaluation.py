"""One evaluation: compiled policy + facts + a moment -> a plain value holding everything concluded.

Input: a `CompiledPolicy`, a `FactSet`, the evaluation time. Output: an `Evaluation`: the
obligations, each episode's category and risk, the base facts (with their sources) and every
derived relation the rules define, each asked of pyDatalog once, whole. Invariants: the value is
never changed after `evaluate` returns, and nothing reads pyDatalog afterwards: explanations and
coverage match rule bodies against these relations (engine/backends/reference.py), so a later
evaluation in the same thread cannot change what an earlier one explains.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from types import MappingProxyType
from typing import Mapping

from compiler.policy import CompiledPolicy
from engine.meaning import lifecycle, obligations as obl
from engine.backends.pydatalog import run
from engine.meaning.base_facts import BaseFact, base_facts
from engine.meaning.episodes import first_derived, listed
from compiler.core.diagnostics import raise_if_errors
from facts.collect import unknown_actions
from facts.model import FactSet


@dataclass(frozen=True)
class EpisodeFacts:
    id: str
    child: str
    category: str | None
    risk: str | None
    category_clause: str | None = None
    risk_clause: str | None = None

    def to_json(self) -> dict:
        return {"id": self.id, "child": self.child, "category": self.category, "risk": self.risk}


@dataclass(frozen=True)
class Derived:
    """Every tuple of each derived predicate, sorted; a read-only mapping of tuples of tuples."""

    tuples: MappingProxyType

    @classmethod
    def of(cls, relations: Mapping[str, tuple[tuple, ...]]) -> "Derived":
        return cls(MappingProxyType({p: tuple(map(tuple, ts)) for p, ts in relations.items()}))


@dataclass(frozen=True)
class Evaluation:
    """`action`: set when only that action's obligations were derived (the `obligation` relation then
    holds only those); every other derived relation is whole."""

    policy: CompiledPolicy
    facts: FactSet
    at: datetime
    base: tuple[BaseFact, ...]
    derived: Derived
    obligations: tuple[obl.Obligation, ...]
    episodes: tuple[EpisodeFacts, ...] = ()
    action: str | None = None


def assemble(policy: CompiledPolicy, facts: FactSet, at: datetime, base: tuple[BaseFact, ...],
             derived: Mapping[str, tuple[tuple, ...]], action: str | None = None) -> Evaluation:
    """The evaluation of these derived relations, whichever back-end derived them: obligations with
    their times and states, and each visible episode's category and risk (engine/meaning/episodes.py)."""
    obligations = lifecycle.build(derived["obligation"], policy.program.clauses, facts, at)
    episodes = []
    categories, risks = first_derived(derived["category_by"]), first_derived(derived["risk_by"])
    for e in listed(facts, at):
        category, cat_clause = categories.get(e.id, (None, None))
        risk, risk_clause = risks.get(e.id, (None, None))
        episodes.append(EpisodeFacts(e.id, e.child, category, risk, cat_clause, risk_clause))
    return Evaluation(policy, facts, at, base, Derived.of(derived), tuple(obligations), tuple(episodes), action)


def evaluate(policy: CompiledPolicy, facts: FactSet, at: datetime, action: str | None = None,
             law_date: date | None = None) -> Evaluation:
    """`action`: derive only that action's obligations (for explaining them; the same ones as a whole
    evaluation gives, since an obligation's state depends only on actions of its own kind).
    `law_date`: judge every episode by the clauses in force on that day, not on its report's. Raises
    ClauseError (F014) when a recorded action names an action the policy lacks."""
    raise_if_errors(unknown_actions(facts.actions, policy.action_names))
    base = tuple(base_facts(facts, at, policy.program, law_date))
    return assemble(policy, facts, at, base, run(policy.program, base, action), action)
