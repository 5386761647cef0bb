"""Condition algebra shared by the checks and code generation.

`dnf` turns a condition into disjunctive normal form (negation pushed down to
atoms by De Morgan), so each conjunction becomes one Datalog rule. `scope_of`
says whether a clause needs an episode and whether its conditions bind one.
"""
from __future__ import annotations

import dataclasses
from itertools import product
from typing import Iterator, Sequence

from compiler import ast
from compiler.core.diagnostics import ClauseError, Span, error

Literal = tuple[bool, ast.Atom]  # (negated, atom)
Conjunction = tuple[Literal, ...]
MAX_CONJUNCTIONS = 256


def literal_key(node: object) -> object:
    """A hashable value for an AST node that ignores positions."""
    if dataclasses.is_dataclass(node):
        return (type(node).__name__,) + tuple(
            literal_key(getattr(node, f.name)) for f in dataclasses.fields(node) if f.name != "span")
    if isinstance(node, tuple):
        return tuple(literal_key(n) for n in node)
    return node


def dnf(cond: ast.Condition, negated: bool = False) -> list[Conjunction]:
    """Disjunctive normal form; raises ClauseError(E042) past MAX_CONJUNCTIONS."""
    if isinstance(cond, ast.Not):
        return dnf(cond.operand, not negated)
    if isinstance(cond, (ast.And, ast.Or)):
        conjunctive = isinstance(cond, ast.And) != negated
        parts = [dnf(o, negated) for o in cond.operands]
        if conjunctive:
            size = 1
            for p in parts:
                size *= len(p)
            if size > MAX_CONJUNCTIONS:
                raise ClauseError([error("E042", cond.span, f"the condition expands to {size} cases; at most {MAX_CONJUNCTIONS}",
                                         "split the clause into several clauses")])
            out = [_dedupe(sum(combo, ())) for combo in product(*parts)]
        else:
            out = [c for p in parts for c in p]
            if len(out) > MAX_CONJUNCTIONS:
                raise ClauseError([error("E042", cond.span, f"the condition expands to {len(out)} cases; at most {MAX_CONJUNCTIONS}",
                                         "split the clause into several clauses")])
        seen, unique = set(), []
        for c in out:
            key = tuple(sorted(map(repr, (literal_key(x) for x in c))))
            if key not in seen:
                seen.add(key)
                unique.append(c)
        return unique
    return [((negated, cond),)]


def conjunctions(clause: ast.Clause) -> list[Conjunction]:
    """The cases of a clause's conditions (one empty case when it has none)."""
    return dnf(clause.when) if clause.when is not None else [()]


def _dedupe(conj: Conjunction) -> Conjunction:
    seen, out = set(), []
    for neg, atom in conj:
        key = (neg, literal_key(atom))
        if key not in seen:
            seen.add(key)
            out.append((neg, atom))
    return tuple(out)


def atoms_of(cond: ast.Condition | None) -> Iterator[ast.Atom]:
    """Every atom of a condition as written, in order (under any 'not')."""
    if isinstance(cond, (ast.And, ast.Or)):
        for o in cond.operands:
            yield from atoms_of(o)
    elif isinstance(cond, ast.Not):
        yield from atoms_of(cond.operand)
    elif cond is not None:
        yield cond


def is_episode_atom(atom: ast.Atom) -> bool:
    return isinstance(atom, ast.EPISODE_ATOMS)


def episode_needs(clause: ast.Clause) -> list[Span]:
    """Where a clause's conclusions refer to an episode (times, derived episode facts)."""
    spans: list[Span] = []
    for c in clause.then:
        if isinstance(c, (ast.SetCategory, ast.SetRisk)):
            spans.append(c.span)
        elif isinstance(c, ast.Obligation):
            t = c.timing
            spans += [m.span for m in (t.start, t.due_anchor) if m is not None]
            if t.every is not None:
                spans.append(c.span)
    return spans


def scope_of(clause: ast.Clause, cases: Sequence[Conjunction]) -> tuple[list[Span], bool]:
    """(spans that need an episode, whether every case of the conditions binds one), given the
    clause's cases (`conjunctions`).

    A clause is about an episode when anything in it mentions one; the episode is
    bound only by a condition that holds positively, never by one under 'not'.
    """
    needs = episode_needs(clause)
    for conj in cases:
        needs += [a.span for _, a in conj if is_episode_atom(a)]
    binds = all(any(is_episode_atom(a) and not neg for neg, a in conj) for conj in cases)
    return needs, binds


def is_episode_scoped(clause: ast.Clause) -> bool:
    """Whether the clause is about an episode. Compiled code reads `NormalClause.episode_scoped`."""
    return bool(scope_of(clause, conjunctions(clause))[0])


def satisfiable(conj: Conjunction) -> bool:
    """False when one conjunction contradicts itself (sound: True may still be impossible).

    Catches a literal and its negation, empty ranges of age, elapsed time and
    episode counts, two values for one single-valued field, and a status required
    of a child said to have none.
    """
    keys = {(neg, repr(literal_key(a))) for neg, a in conj}
    if any((not neg, k) in keys for neg, k in keys):
        return False
    ranges: dict[object, list[float]] = {}

    def bound(key: object, low: float = float("-inf"), high: float = float("inf")) -> None:
        r = ranges.setdefault(key, [float("-inf"), float("inf")])
        r[0], r[1] = max(r[0], low), min(r[1], high)

    single: dict[str, set[str]] = {}
    has_status = no_status = False
    for neg, a in conj:
        if isinstance(a, ast.Age):
            under = (a.side == "under") != neg  # not (aged 13 or under) = aged 14 or over
            years = a.years if not neg else (a.years + 1 if a.side == "under" else a.years - 1)
            bound("age", high=years) if under else bound("age", low=years)
        elif isinstance(a, ast.Lasted):
            m = a.duration.minutes + (1 if a.strictly_more else 0)
            bound("elapsed", high=m - 1) if neg else bound("elapsed", low=m)
        elif isinstance(a, ast.Window):
            key = ("window", a.within.minutes)
            bound(key, high=a.count - 1) if neg else bound(key, low=max(a.count, 1))
        elif not neg and isinstance(a, ast.Category):
            single.setdefault("category", set()).add(a.category.value)
        elif not neg and isinstance(a, ast.Risk):
            single.setdefault("risk", set()).add(a.level.value)
        elif not neg and isinstance(a, ast.ChildField):
            single.setdefault(a.field.value, set()).add(a.value.value)
        elif not neg and isinstance(a, ast.EpisodeField) and a.value is not None:
            single.setdefault(a.field.value, set()).add(a.value.value)
        elif not neg and isinstance(a, ast.HasStatus):
            has_status = True
        elif isinstance(a, ast.NoStatus):
            no_status = no_status or not neg
            has_status = has_status or neg
    windows = sorted((k[1], r) for k, r in ranges.items() if isinstance(k, tuple))
    for (small, r_small), (large, r_large) in zip(windows, windows[1:]):
        bound(("window", large), low=r_small[0])  # episodes in a short window are in a longer one
    for key in ("age", "elapsed"):
        bound(key, low=0)
    return (all(lo <= hi for lo, hi in ranges.values())
            and all(len(v) <= 1 for v in single.values())
            and not (has_status and no_status))
