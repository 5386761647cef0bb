"""Stage 2b: checked AST -> each clause's normal form (the checked IR), computed once.

Input: a `Policy` that passed the checks (compiler/check.py): clause ids are unique,
every override names a clause, exceptions form no cycle, every condition expands to at
most MAX_CONJUNCTIONS cases. Output: `normalise(policy)`, clause id -> `NormalClause`
in policy order, kept on the `CompiledPolicy` as `policy.normal` (and pickled with it by
compiler/cache.py). Code generation, lint and coverage read it instead of re-deriving a
clause's cases, scope or overriders, and so do explanations and the reference matcher.

Invariants: `cases` is exactly `compiler.logic.conjunctions(clause)` (one empty case for
a clause without conditions); an episode-scoped clause binds an episode in every case
(the checks' E030); `overridden_by` lists, in policy order, exactly the exceptions whose
`overrides` name the clause, and `overrides` of each of them names it back; values are
frozen and hold only AST nodes and strings.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from compiler import ast
from compiler.core.diagnostics import Span
from compiler.logic import Conjunction, atoms_of, conjunctions, scope_of

OverrideKind = Literal["whole", "actor"]  # replaces the conclusion | gives its obligations another actor


@dataclass(frozen=True)
class Override:
    """An exception to a clause, and how it overrides it."""

    exception: str
    kind: OverrideKind


@dataclass(frozen=True)
class NormalClause:
    """One clause (or exception) in normal form."""

    id: str
    clause: ast.Clause
    cases: tuple[Conjunction, ...]            # disjunctive normal form: one generated rule body per case
    atoms: tuple[ast.Atom, ...]               # every condition as written, in order (for coverage)
    episode_needs: tuple[Span, ...]           # where it refers to an episode (empty: about the child)
    overrides: tuple[str, ...]                # the clauses this exception overrides (empty: not an exception)
    override_kind: OverrideKind | None        # how it overrides them (None: not an exception)
    overridden_by: tuple[Override, ...]       # the exceptions to this clause, in policy order
    obligations: tuple[ast.Obligation, ...]   # the obligations it creates, each with its timing
    instead: str | None                       # the actor an actor override gives (None otherwise)
    in_force: ast.Period | None = None        # its own dates in force, else its document's (None: always)
    version_of: str | None = None             # the clause it is another version of

    @property
    def family(self) -> str:
        """The clause id its versions share (its own id when it is not `version of` another)."""
        return self.version_of or self.id

    @property
    def episode_scoped(self) -> bool:
        """Whether its rules are about an episode (else about the child, with episode "")."""
        return bool(self.episode_needs)

    @property
    def is_exception(self) -> bool:
        return bool(self.overrides)

    def overriders(self, kind: OverrideKind | None = None) -> tuple[str, ...]:
        """The ids of the exceptions to this clause (of one kind, if asked)."""
        return tuple(o.exception for o in self.overridden_by if kind is None or o.kind == kind)


def normal_clause(clause: ast.Clause, overridden_by: tuple[Override, ...] = (),
                  in_force: ast.Period | None = None) -> NormalClause:
    """One clause's normal form; `overridden_by` and its document's dates come from the whole
    policy (see `normalise`)."""
    cases = tuple(conjunctions(clause))
    needs, _ = scope_of(clause, cases)
    instead = next((c.actor.value for c in clause.then if isinstance(c, ast.ActorInstead)), None)
    kind: OverrideKind | None = ("actor" if clause.override_actor else "whole") if clause.overrides else None
    return NormalClause(
        id=clause.id.value, clause=clause, cases=cases, atoms=tuple(atoms_of(clause.when)),
        episode_needs=tuple(needs), overrides=tuple(t.value for t in clause.overrides), override_kind=kind,
        overridden_by=overridden_by, obligations=tuple(c for c in clause.then if isinstance(c, ast.Obligation)),
        instead=instead, in_force=clause.in_force or in_force,
        version_of=clause.version_of.value if clause.version_of else None)


def normalise(policy: ast.Policy) -> dict[str, NormalClause]:
    """Every clause of a checked policy in normal form, by id, in policy order. An exception to a
    clause is an exception to every version of it (`version of`)."""
    by: dict[str, list[Override]] = {}
    for c in policy.clauses:
        for t in c.overrides:
            by.setdefault(t.value, []).append(Override(c.id.value, "actor" if c.override_actor else "whole"))
    dates = {d.id.value: d.in_force for d in policy.items(ast.Document)}
    out = {}
    for c in policy.clauses:
        family = c.version_of.value if c.version_of else c.id.value
        out[c.id.value] = normal_clause(c, tuple(by.get(family, ())), dates.get(c.document))
    return out
