"""One evaluation: compiled policy + facts + a moment -> obligations and derived facts.

Input: a `CompiledPolicy`, a `FactSet`, the evaluation time. Output: an
`Evaluation` holding the obligations, each episode's category and risk, the
base facts (with their sources) and the raw derived tuples that explanations
re-query. The pyDatalog logic stays loaded in this thread until the next call.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from compiler.policy import CompiledPolicy
from engine.meaning import obligations as obl
from engine.backends.pydatalog import Derived, load, loaded_token, run
from engine.meaning.base_facts import BaseFact, base_facts
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
class Evaluation:
    policy: CompiledPolicy
    facts: FactSet
    at: datetime
    base: tuple[BaseFact, ...]
    derived: Derived
    obligations: tuple[obl.Obligation, ...]
    episodes: tuple[EpisodeFacts, ...] = field(default=())

    def ensure_loaded(self) -> None:
        """Re-load this evaluation into pyDatalog if another one ran since (for re-querying)."""
        if loaded_token() is not self.derived.token:
            object.__setattr__(self, "derived", Derived(self.derived.tuples, load(self.policy.program, self.base)))


def _single(rows: tuple[tuple, ...], episode: str) -> tuple[str | None, str | None]:
    """The value derived for an episode, and the clause that derived it (first in order)."""
    mine = sorted(r[1:] for r in rows if r[0] == episode)
    return (mine[0][0], mine[0][1]) if mine else (None, None)


def evaluate(policy: CompiledPolicy, facts: FactSet, at: datetime, track_status: bool | None = None,
             action: str | None = None, law_date: date | None = None) -> Evaluation:
    """`track_status`: give obligations a status; default: when `facts` records any action.
    `action`: derive only that action's obligations (for explaining them; the same ones as a whole
    evaluation gives, since an obligation's status depends only on actions of its own kind).
    `law_date`: judge every episode by the clauses in force on that day, not on its report's."""
    base = tuple(base_facts(facts, at, policy.program, law_date))
    derived = run(policy.program, base, action)
    obligations = obl.build(derived.tuples["obligation"], policy.program.clauses, facts, at, track_status)
    episodes = []
    for e in sorted(facts.episodes, key=lambda e: (e.child, e.reported, e.id)):
        if e.reported > at:
            continue
        category, cat_clause = _single(derived.tuples["category_by"], e.id)
        risk, risk_clause = _single(derived.tuples["risk_by"], e.id)
        episodes.append(EpisodeFacts(e.id, e.child, category, risk, cat_clause, risk_clause))
    return Evaluation(policy, facts, at, base, derived, tuple(obligations), tuple(episodes))
