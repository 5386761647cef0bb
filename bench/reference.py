"""A plain-Python reference for the benchmark: an interpreter of the same `Program` objects.

Input: a compiled policy, a `FactSet`, the evaluation time. Output: the obligations and
episode facts `engine.evaluation` gives. It computes the base facts with engine/meaning/base_facts.py,
evaluates the rules stratum by stratum in the order compiler/sql.py uses (hash-indexed
nested loops over the body literals, left to right; negation as "no matching fact";
recursive strata to a fixpoint), then builds obligations with engine/meaning/obligations.py one
child at a time (so recorded actions are only scanned for their own child).

For the benchmark only: it is what "plain Python, no Datalog engine" costs, the yardstick
the brief asks DuckDB to stay within 2x of. It is not used by the product.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Iterator

from compiler.codegen import Cmp, Lit, Rule, Var
from compiler.policy import CompiledPolicy
from compiler.sql import strata
from engine.meaning import lifecycle, obligations as obl
from engine.evaluation import EpisodeFacts
from engine.meaning.base_facts import base_facts
from facts.model import FactSet

OPS = {">=": lambda a, b: a >= b, ">": lambda a, b: a > b, "<=": lambda a, b: a <= b, "<": lambda a, b: a < b}


class Facts:
    """Tuples per predicate with lazily built hash indexes on bound positions."""

    def __init__(self) -> None:
        self.rows: dict[str, set[tuple]] = defaultdict(set)
        self.index: dict[tuple, dict[tuple, list[tuple]]] = {}

    def add(self, pred: str, row: tuple) -> bool:
        if row in self.rows[pred]:
            return False
        self.rows[pred].add(row)
        self.index = {k: v for k, v in self.index.items() if k[0] != pred}
        return True

    def add_many(self, pred: str, rows: set[tuple]) -> None:
        self.rows[pred] |= rows
        self.index = {k: v for k, v in self.index.items() if k[0] != pred}

    def lookup(self, pred: str, positions: tuple[int, ...], key: tuple) -> list[tuple]:
        idx = self.index.get((pred, positions))
        if idx is None:
            idx = defaultdict(list)
            for row in self.rows[pred]:
                idx[tuple(row[i] for i in positions)].append(row)
            self.index[(pred, positions)] = idx
        return idx.get(key, [])


def _value(a, env: dict):
    return env.get(a.name) if isinstance(a, Var) else a


def _solve(body: tuple, i: int, env: dict, db: Facts) -> Iterator[dict]:
    if i == len(body):
        yield env
        return
    x = body[i]
    if isinstance(x, Cmp):
        if OPS[x.op](env[x.var.name], x.value):
            yield from _solve(body, i + 1, env, db)
        return
    bound = tuple(j for j, a in enumerate(x.args) if not isinstance(a, Var) or a.name in env)
    rows = db.lookup(x.pred, bound, tuple(_value(x.args[j], env) for j in bound))
    if x.negated:  # variables not bound here are existential: any consistent row is a hit
        if not any(_extend(x, bound, r, env) is not None for r in rows):
            yield from _solve(body, i + 1, env, db)
        return
    for r in rows:
        new = _extend(x, bound, r, env)
        if new is not None:
            yield from _solve(body, i + 1, new, db)


def _extend(x: Lit, bound: tuple[int, ...], row: tuple, env: dict) -> dict | None:
    """env with the literal's unbound variables bound to `row`, or None when they disagree."""
    new = dict(env)
    for j, a in enumerate(x.args):
        if j in bound:
            continue
        if a.name in new and new[a.name] != row[j]:
            return None
        new[a.name] = row[j]
    return new


def _heads(rule: Rule, db: Facts) -> set[tuple]:
    return {tuple(_value(a, env) for a in rule.head.args) for env in _solve(rule.body, 0, {}, db)}


def derive(policy: CompiledPolicy, facts: FactSet, at: datetime) -> Facts:
    db = Facts()
    for f in base_facts(facts, at, policy.program):
        db.rows[f.pred].add(f.args)
    for level in strata(policy.program):
        for group in level:
            while True:
                new = set().union(*(_heads(r, db) for r in group.rules)) - db.rows[group.table]
                db.add_many(group.table, new)
                if not (group.recursive and new):
                    break
    return db


def evaluate_reference(policy: CompiledPolicy, facts: FactSet, at: datetime) -> tuple[list, list[EpisodeFacts]]:
    """(obligations, episodes) as engine.evaluation gives them."""
    db = derive(policy, facts, at)
    tuples, episodes, actions = defaultdict(list), defaultdict(list), defaultdict(list)
    for t in sorted(db.rows["obligation"], key=repr):
        tuples[t[0]].append(t)
    for e in facts.episodes:
        episodes[e.child].append(e)
    for a in facts.actions:
        actions[a.child].append(a)
    out = []
    for child, ts in tuples.items():
        part = FactSet((), tuple(episodes[child]), tuple(actions[child]))
        out += lifecycle.build(ts, policy.program.clauses, part, at)
    out.sort(key=obl.Obligation.sort_key)
    first: dict[tuple[str, str], tuple] = {}
    for pred in ("category_by", "risk_by"):
        for e, value, clause in db.rows[pred]:
            if (pred, e) not in first or (value, clause) < first[(pred, e)]:
                first[(pred, e)] = (value, clause)
    eps = []
    for e in sorted(facts.episodes, key=lambda e: (e.child, e.reported, e.id)):
        if e.reported > at:
            continue
        cat, risk = first.get(("category_by", e.id), (None, None)), first.get(("risk_by", e.id), (None, None))
        eps.append(EpisodeFacts(e.id, e.child, cat[0], risk[0], cat[1], risk[1]))
    return out, eps
