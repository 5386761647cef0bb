"""The checked IR (compiler/normal.py) and the one stratification (compiler/strata.py).

Each clause's normal form must say what the clause says, computed independently here: its
cases are the DNF of its conditions, its scope is the scope of the rules generated for it,
its overriders are exactly the exceptions naming it; it survives the cache's pickle. The
strongly connected components must agree with reachability on random graphs (the E031/E032
checks rely on it), and the program's strata must only read what lower strata completed.
"""
from __future__ import annotations

import pickle
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from compiler import ast
from compiler.codegen import Lit, Var
from compiler.logic import atoms_of, dnf
from compiler.policy import CompiledPolicy, compile_policy
from compiler.strata import can_match, components, key_positions, levels, strata

ROOT = Path(__file__).resolve().parent.parent
POLICIES = [ROOT / "policy", ROOT / "tests" / "data" / "policy_small"]


@pytest.fixture(scope="module", params=POLICIES, ids=["bundled", "small"])
def policy(request: pytest.FixtureRequest) -> CompiledPolicy:
    return compile_policy(request.param)


def test_every_clause_has_one_normal_form_in_policy_order(policy: CompiledPolicy) -> None:
    assert list(policy.normal) == [c.id.value for c in policy.ast.clauses]
    assert all(n.clause is policy.program.clauses[cid] and n.id == cid for cid, n in policy.normal.items())


def test_cases_are_the_disjunctive_normal_form(policy: CompiledPolicy) -> None:
    for n in policy.normal.values():
        expected = [()] if n.clause.when is None else dnf(n.clause.when)
        assert list(n.cases) == expected, n.id
        assert list(n.atoms) == list(atoms_of(n.clause.when)), n.id


def test_scope_is_the_scope_of_the_generated_rules(policy: CompiledPolicy) -> None:
    """A clause's own rules start with episode(E, C) and put E in the head exactly when it is
    episode-scoped; otherwise they start with child(C) and an obligation's episode is ""."""
    checked = 0
    for n in policy.normal.values():
        own = [r for r in policy.program.rules if r.clause == n.id and not r.exception and r.head.pred != "exception_holds"]
        for r in own:
            scope = Lit("episode", (Var("E"), Var("C"))) if n.episode_scoped else Lit("child", (Var("C"),))
            assert r.body[0] == scope, (n.id, str(r))
            if r.head.pred == "obligation":
                assert (r.head.args[1] == Var("E")) == n.episode_scoped, (n.id, str(r))
            checked += 1
        assert bool(own) != (n.override_kind == "actor"), n.id  # an actor override only re-derives others' rules
    assert checked


def test_overriders_are_exactly_the_exceptions_naming_the_clause(policy: CompiledPolicy) -> None:
    clauses = policy.ast.clauses
    for n in policy.normal.values():
        naming = [(x.id.value, "actor" if x.override_actor else "whole") for x in clauses
                  for t in x.overrides if t.value == n.id]
        assert [(o.exception, o.kind) for o in n.overridden_by] == naming, n.id
        assert n.overrides == tuple(t.value for t in n.clause.overrides)
        assert n.override_kind == (None if not n.clause.overrides else "actor" if n.clause.override_actor else "whole")
        for x in n.overriders():
            assert n.id in policy.normal[x].overrides
    assert any(n.overridden_by for n in policy.normal.values())


def test_obligations_and_the_actor_instead(policy: CompiledPolicy) -> None:
    for n in policy.normal.values():
        assert n.obligations == tuple(c for c in n.clause.then if isinstance(c, ast.Obligation))
        instead = [c.actor.value for c in n.clause.then if isinstance(c, ast.ActorInstead)]
        assert n.instead == (instead[0] if instead else None)
        if n.override_kind == "actor":
            heads = {r.head.args[3] for r in policy.program.rules if r.exception == n.id}
            assert heads == {n.instead}, n.id


def test_the_normal_forms_pickle_for_the_cache(policy: CompiledPolicy) -> None:
    assert pickle.loads(pickle.dumps(policy.normal, protocol=pickle.HIGHEST_PROTOCOL)) == policy.normal


# ---- the stratification ----------------------------------------------------------------

def _reaches(edges: dict[int, list[tuple[int, bool]]], start: int, through_not: bool) -> bool:
    """Brute force: whether start gets back to itself (with a 'not' on the way, if asked)."""
    seen, stack = set(), [(start, False)]
    while stack:
        node, neg = stack.pop()
        for nxt, n in edges.get(node, ()):
            if nxt == start and (neg or n or not through_not):
                return True
            if (nxt, neg or n) not in seen:
                seen.add((nxt, neg or n))
                stack.append((nxt, neg or n))
    return False


graphs = st.integers(1, 7).flatmap(lambda size: st.tuples(
    st.just(size), st.lists(st.tuples(st.integers(0, size - 1), st.integers(0, size - 1), st.booleans()), max_size=14)))


@settings(max_examples=200, deadline=None)
@given(graphs)
def test_components_agree_with_reachability(graph: tuple[int, list[tuple[int, int, bool]]]) -> None:
    size, arcs = graph
    edges: dict[int, list[tuple[int, bool]]] = {}
    for a, b, neg in arcs:
        edges.setdefault(a, []).append((b, neg))
    comps = components(list(range(size)), edges)
    assert sorted(n for c in comps for n in c.members) == list(range(size))
    where = {n: i for i, c in enumerate(comps) for n in c.members}
    for c in comps:
        for n in c.members:
            assert c.recursive == _reaches(edges, n, through_not=False)
            assert c.negative == _reaches(edges, n, through_not=True)
    for a, b, _ in arcs:
        assert where[b] <= where[a]  # what a node reads comes first, or with it
    level = levels(comps, edges)
    for a, b, _ in arcs:
        assert level[b] < level[a] or where[a] == where[b]
    assert components(list(range(size)), edges) == comps  # deterministic


def test_each_stratum_reads_only_what_is_complete(policy: CompiledPolicy) -> None:
    levels_ = strata(policy.program)
    by_pred: dict[str, list] = {}
    for r in policy.program.rules:
        by_pred.setdefault(r.head.pred, []).append(r)
    keys = {p: key_positions(rs) for p, rs in by_pred.items()}
    for k, level in enumerate(levels_):
        later = {(g.table, part, id(g)) for lv in levels_[k:] for g in lv for part in g.partitions}
        for g in level:
            for r in g.rules:
                for x in r.body:
                    if not isinstance(x, Lit) or x.pred not in by_pred:
                        continue
                    pending = [gid for table, part, gid in later if table == x.pred and can_match(x, part, keys[x.pred])]
                    assert all(gid == id(g) and g.recursive and not x.negated for gid in pending), str(r)
