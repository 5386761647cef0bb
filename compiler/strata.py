"""One stratification: dependency graphs, their strongly connected components, evaluation levels.

Input: a dependency graph (nodes, and for each node the nodes it reads, each edge marked
negated when read under 'not'), or a generated `Program`, whose graph is built here over
partitions of derived predicates. Output: the components in dependency order (each marks
whether it recurses and whether a 'not' joins two of its members), each node's level, and
for a program the `Stratum` groups the SQL translation (compiler/sql.py) and the reference
interpreter evaluate level by level.

Users: the checks (E031 recursion through negation, E032 positive recursion of a category
or risk, over the clause-level graph of compiler/check.py), compiler/sql.py and the
reference interpreter (through `strata`).

Invariants: deterministic (nodes are visited in the order given, successors sorted);
a component comes after every component it reads; a node lies on a cycle through a 'not'
exactly when its component is `negative` (every edge inside a strongly connected component
lies on a cycle through each of its members), and on some cycle exactly when `recursive`.
"""
from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from compiler.codegen import Lit, Program, Rule, Var

N = TypeVar("N", bound=Hashable)
Edges = Mapping[N, Iterable[tuple[N, bool]]]  # node -> (node it reads, read under 'not')


@dataclass(frozen=True)
class Component(Generic[N]):
    """Nodes that depend on each other (a singleton when the node is on no cycle)."""

    members: tuple[N, ...]  # sorted
    recursive: bool         # a cycle: more than one member, or a member reading itself
    negative: bool          # a 'not' between two members: no stratification exists


def components(nodes: Sequence[N], edges: Edges) -> list[Component[N]]:
    """Tarjan's algorithm (iterative), dependencies first: each component follows those it reads."""
    succ: dict[N, list[N]] = {}
    negated: set[tuple[N, N]] = set()
    for n in nodes:
        out = edges.get(n, ())
        succ[n] = sorted({m for m, _ in out})
        negated |= {(n, m) for m, neg in out if neg}
    index: dict[N, int] = {}
    low: dict[N, int] = {}
    stack: list[N] = []
    on: set[N] = set()
    found: list[Component[N]] = []
    for root in nodes:
        if root in index:
            continue
        work = [(root, iter(succ[root]))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on.add(root)
        while work:
            v, it = work[-1]
            nxt = next(it, None)
            if nxt is not None:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on.add(nxt)
                    work.append((nxt, iter(succ.get(nxt, ()))))
                elif nxt in on:
                    low[v] = min(low[v], index[nxt])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp: list[N] = []
                while True:
                    w = stack.pop()
                    on.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                members = set(comp)
                recursive = len(comp) > 1 or v in succ.get(v, ())
                negative = any((a, b) in negated for a in comp for b in succ.get(a, ()) if b in members)
                found.append(Component(tuple(sorted(comp)), recursive, negative))
    return found


def levels(comps: Sequence[Component[N]], edges: Edges) -> dict[N, int]:
    """Each node's level: 1 + the highest level of a component it reads outside its own (longest path)."""
    level: dict[N, int] = {}
    for comp in comps:
        members = set(comp.members)
        lv = 1 + max((level[m] for n in comp.members for m, _ in edges.get(n, ()) if m not in members), default=0)
        for n in comp.members:
            level[n] = lv
    return level


# ---- a generated program's partitions -----------------------------------------------

Node = tuple[str, tuple]  # (predicate, the constants at its key positions)


def key_positions(rules: list[Rule]) -> tuple[int, ...]:
    """Positions where every head of the predicate has a constant."""
    arity = len(rules[0].head.args)
    return tuple(i for i in range(arity) if all(not isinstance(r.head.args[i], Var) for r in rules))


def can_match(lit: Lit, part: tuple, keys: tuple[int, ...]) -> bool:
    """Whether the literal can match tuples of the partition with these key constants."""
    return all(isinstance(lit.args[i], Var) or lit.args[i] == part[k] for k, i in enumerate(keys))


@dataclass(frozen=True)
class Stratum:
    """Partitions of one predicate evaluated together: their rules, and whether they recurse."""

    table: str
    partitions: tuple[tuple, ...]
    rules: tuple[Rule, ...]
    recursive: bool


def strata(program: Program) -> list[list[Stratum]]:
    """The program's derived partitions in evaluation order: level by level, each level's
    groups reading only lower levels (or themselves, when recursive). A derived predicate is
    split by the constants its rule heads always carry, so `exception_holds` may depend
    negatively on another of its partitions. Raises ValueError on negation inside a cycle."""
    by_pred: dict[str, list[Rule]] = {}
    for r in program.rules:
        by_pred.setdefault(r.head.pred, []).append(r)
    keys = {p: key_positions(rs) for p, rs in by_pred.items()}
    node_rules: dict[Node, list[Rule]] = {}
    for p, rs in by_pred.items():
        for r in rs:
            node_rules.setdefault((p, tuple(r.head.args[i] for i in keys[p])), []).append(r)
    nodes = sorted(node_rules, key=repr)
    by_name: dict[str, list[Node]] = {}
    for n in nodes:
        by_name.setdefault(n[0], []).append(n)
    edges: dict[Node, set[tuple[Node, bool]]] = {n: set() for n in nodes}
    for n in nodes:
        for r in node_rules[n]:
            for x in r.body:
                if isinstance(x, Lit) and x.pred in by_pred:
                    edges[n] |= {(m, x.negated) for m in by_name[x.pred] if can_match(x, m[1], keys[x.pred])}
    comps = components(nodes, edges)
    for comp in comps:
        if comp.negative:
            raise ValueError(f"recursion through negation among {', '.join(str(n) for n in comp.members)}")
    recursive = {n for comp in comps if comp.recursive for n in comp.members}
    level = levels(comps, edges)
    out = []
    for lv in range(1, max(level.values(), default=0) + 1):
        groups = []
        for pred in sorted({n[0] for n in nodes if level[n] == lv}):
            mine = [n for n in nodes if n[0] == pred and level[n] == lv]
            for rec in (False, True):
                group = [n for n in mine if (n in recursive) == rec]
                if group:
                    groups.append(Stratum(pred, tuple(n[1] for n in group),
                                          tuple(r for n in group for r in node_rules[n]), rec))
        out.append(groups)
    return out
