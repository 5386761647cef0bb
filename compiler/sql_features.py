"""Stage 3b, part two: literals that only test a rule's scope, as columns computed once.

A rule generated from a clause starts with its scope, `episode(E, C)` or `child(C)`;
most of its other literals only test that scope: `category(E, "missing")`,
`elapsed(E, M), M >= 4320`, `~exception_holds(C, E, "CFM-CP-3W")`. Joined rule by
rule, each costs DuckDB a join to plan and to run, and a local authority's year was
mostly that (734 such literals in the bundled policy, 57 distinct tests). So each
distinct test becomes a boolean column of a table holding one row per scope (`fe{n}`
per episode, `fc{n}` per child), computed once, before the first stratum that asks it,
from predicates already complete; a later stratum's table keeps the earlier columns.
The rule reads the column (or NOT the column) instead of joining.

Input: one stratum's rules, which literals they may read complete, and the feature
tables so far. Output: the stratum's new feature tables (`Features`: name, the table it
extends, its new columns; compiler/sql.py writes their SQL) and each rule's
`Shape`: its body with the scope literal reading the feature table and the tests
removed, and the flag columns it requires. Invariant: a rule's shaped SELECT gives
exactly the tuples of its plain one (a test holds for a scope row exactly when the
literal and its comparisons hold for some values of its own variables; tested against
pyDatalog on every regression case and synthetic loads, tests/test_scale_differential.py,
and on random programs, tests/test_sql_programs.py).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable, Union

from compiler.codegen import Cmp, Lit, Rule, Var

SCOPES = {"episode": "fe", "child": "fc"}


@dataclass(frozen=True)
class ScopeTest:
    """A literal (with the comparisons on its own variables) as a question about one scope row.
    `args`: per position, ("s", i) the scope's column i, ("v", k) the literal's k-th own variable,
    or ("k", constant); `compares`: (own variable k, operator, value)."""

    pred: str
    args: tuple[tuple[str, Union[int, str]], ...]
    compares: tuple[tuple[int, str, int], ...]


@dataclass(frozen=True)
class Shape:
    """A rule as its SELECT reads it: `rule` with the tests removed (the scope literal renamed to
    the feature table) and `flags`, the (column, negated) pairs it requires."""

    rule: Rule
    flags: tuple[tuple[str, bool], ...]


@dataclass(frozen=True)
class Features:
    """A feature table: `source` (the scope's table, or the scope's previous feature table, whose
    columns it keeps: a test is computed once however many strata ask it) and its new columns.
    compiler/sql.py writes the statement that builds it."""

    table: str
    source: str
    columns: tuple[tuple[str, ScopeTest], ...]


def scope(rule: Rule) -> Lit | None:
    """The rule's scope literal, when it has one: a first literal episode(E, C) or child(C)."""
    first = rule.body[0] if rule.body else None
    if (isinstance(first, Lit) and not first.negated and first.pred in SCOPES
            and all(isinstance(a, Var) for a in first.args) and len(set(first.args)) == len(first.args)):
        return first
    return None


def scope_tests(rule: Rule, complete: Callable[[Lit], bool]) -> dict[int, ScopeTest]:
    """Body positions of the literals that only test the scope -> their ScopeTest (the comparisons on
    their own variables go with them). A literal qualifies when `complete` says every tuple it can
    match is already computed and none of its own variables appears in the head or another literal."""
    scope_lit = scope(rule)
    if scope_lit is None:
        return {}
    names = {a.name: i for i, a in enumerate(scope_lit.args)}
    out = {}
    for n, x in enumerate(rule.body[1:], 1):
        if not isinstance(x, Lit) or not complete(x):
            continue
        own = [a.name for a in x.args if isinstance(a, Var) and a.name not in names]
        elsewhere = {a.name for y in (rule.head, *rule.body) if isinstance(y, Lit) and y is not x  # identity:
                     for a in y.args if isinstance(a, Var)}  # a body holds each literal once (codegen.body_for)
        compared = any(isinstance(c, Cmp) and c.var.name in own for c in rule.body)
        if any(v in elsewhere for v in own) or (x.negated and compared):
            continue
        index = {v: k for k, v in enumerate(dict.fromkeys(own))}
        args = tuple(("s", names[a.name]) if isinstance(a, Var) and a.name in names else
                     ("v", index[a.name]) if isinstance(a, Var) else ("k", a) for a in x.args)
        compares = tuple((index[c.var.name], c.op, c.value) for c in rule.body if isinstance(c, Cmp) and c.var.name in index)
        out[n] = ScopeTest(x.pred, args, compares)
    return out


def shape(rules: tuple[Rule, ...], level: int, complete: Callable[[Lit], bool],
          known: dict[str, tuple[str, dict[ScopeTest, str]]]) -> tuple[list[Features], list[Shape]]:
    """One stratum's feature tables and its rules' shapes, in rule order. `known`: per scope, the
    latest feature table and its columns (numbered as first used); updated with this stratum's.
    A stratum that asks no new test of a scope reads the scope's latest table."""
    found = [scope_tests(rule, complete) for rule in rules]
    new: dict[str, dict[ScopeTest, str]] = {}
    for rule, mine in zip(rules, found):
        for t in mine.values():
            pred = rule.body[0].pred  # the scope (scope_tests finds none without one)
            cols, fresh = known.get(pred, ("", {}))[1], new.setdefault(pred, {})
            if t not in cols and t not in fresh:
                fresh[t] = f"f{len(cols) + len(fresh)}"
    features = []
    for pred, fresh in sorted(new.items()):
        if fresh:
            source, cols = known.get(pred, (pred, {}))
            features.append(Features(f"{SCOPES[pred]}{level}", source, tuple((name, t) for t, name in fresh.items())))
            known[pred] = (f"{SCOPES[pred]}{level}", {**cols, **fresh})
    shapes = []
    for rule, mine in zip(rules, found):
        if not mine:
            shapes.append(Shape(rule, ()))
            continue
        scope_lit = rule.body[0]
        table, cols = known[scope_lit.pred]
        flags = tuple((cols[t], rule.body[n].negated) for n, t in mine.items())
        owned = {a.name for n in mine for a in rule.body[n].args if isinstance(a, Var)} - {a.name for a in scope_lit.args}
        body = (Lit(table, scope_lit.args),) + tuple(
            x for n, x in enumerate(rule.body[1:], 1)
            if n not in mine and not (isinstance(x, Cmp) and x.var.name in owned))
        shapes.append(Shape(replace(rule, body=body), flags))
    return features, shapes
