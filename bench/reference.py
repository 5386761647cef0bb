"""The benchmark's plain-Python yardstick: engine/backends/reference.py's interpreter on a whole year.

Input: a compiled policy, a `FactSet`, the evaluation time. Output: the obligations and episode
facts `engine.evaluation` gives. The rules are derived by the product's reference interpreter (the
oracle tests/test_reference.py checks against pyDatalog); obligations are then built one child at
a time, so recorded actions are only scanned for their own child. It is what "plain Python, no
Datalog engine" costs, the yardstick the brief asks DuckDB to stay within 2x of.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from compiler.policy import CompiledPolicy
from engine.backends.reference import derive
from engine.evaluation import EpisodeFacts, assemble
from engine.meaning import lifecycle, obligations as obl
from engine.meaning.base_facts import base_facts
from facts.model import FactSet


def evaluate_reference(policy: CompiledPolicy, facts: FactSet, at: datetime) -> tuple[list, list[EpisodeFacts]]:
    """(obligations, episodes) as engine.evaluation gives them."""
    base = tuple(base_facts(facts, at, policy.program))
    derived = derive(policy.program, base)
    heads, episodes, actions = defaultdict(list), defaultdict(list), defaultdict(list)
    for t in derived["obligation"]:
        heads[t[0]].append(t)
    for e in facts.episodes:
        episodes[e.child].append(e)
    for a in facts.actions:
        actions[a.child].append(a)
    out = []
    for child, ts in heads.items():
        out += lifecycle.build(ts, policy.program.clauses, FactSet((), tuple(episodes[child]), tuple(actions[child])), at)
    out.sort(key=obl.Obligation.sort_key)
    whole = assemble(policy, facts, at, base, {**derived, "obligation": ()})
    return out, list(whole.episodes)
