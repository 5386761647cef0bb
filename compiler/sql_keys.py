"""Stage 3b, its first step: the SQL back-end's column types, and the program's rules over integer keys.

Input: a `Program`'s rules (compiler/codegen.py). Output: each predicate's column types, the id columns tagged
CHILD or EPISODE (`column_types`), and the rules with the program's "" (no episode) at an id's column as
the key 0 (`keyed`). compiler/sql.py translates those rules; the SQL types are `sql_types` of the tags.

Why keys: every child and episode id column holds an integer (KEY), the id's rank in text order (0: no
episode), which the engine gives the input (engine/backends/duck_load.py `intern_ids`) and turns back
into text for the output. Ranks keep the text's order, and a UK year's joins, sets and sorts compare
4 bytes where they compared strings (its whole command: 14% less CPU). The tags keep the two kinds
apart: the same number is one child's key and another episode's.

Invariants: which columns hold ids is fixed for base and derived predicates (BASE_COLUMNS, DERIVED_IDS)
and worked out for the rest; a rule that meets an id with anything else (a variable at an id's column and
at another, a constant at an id's column, a column holding ids and text) is refused with ValueError, as
keys could not say it; the compiler never writes one (an id is C or E, nothing else).
"""
from __future__ import annotations

from dataclasses import replace

from compiler.codegen import BASE_PREDICATES, DERIVED_PREDICATES, NO_EPISODE, NO_EPISODE_KEY, Lit, Rule, Var

TEXT, INT, KEY = "VARCHAR", "BIGINT", "INTEGER"
# the tags of id columns while types are worked out; KEY in the tables
CHILD, EPISODE = "child", "episode"
IDS = (CHILD, EPISODE)
BASE_COLUMNS: dict[str, tuple[str, ...]] = {
    "child": (CHILD,), "episode": (EPISODE, CHILD), "status": (CHILD, TEXT), "flag": (CHILD, TEXT),
    "status_at": (EPISODE, TEXT), "flag_at": (EPISODE, TEXT),
    "child_field": (CHILD, TEXT, TEXT), "episode_true": (EPISODE, TEXT), "episode_value": (EPISODE, TEXT, TEXT),
    "age": (EPISODE, INT), "elapsed": (EPISODE, INT), "window_count": (EPISODE, INT, INT),
    "off_day": (EPISODE, TEXT, INT), "weekend": (EPISODE, TEXT, INT), "law_day": (EPISODE, INT),
    "law_day_child": (CHILD, INT), "window_true": (EPISODE, INT, TEXT),
}

# the derived predicates' id columns, fixed by what they mean (compiler/codegen.py DERIVED_PREDICATES): the
# first columns; the rest take the type of what the rules put there (`column_types`)
DERIVED_IDS: dict[str, tuple[str, ...]] = {
    "known": (CHILD,), "known_at": (EPISODE,), "category_by": (EPISODE,), "category": (EPISODE,),
    "risk_by": (EPISODE,), "risk": (EPISODE,), "exception_holds": (CHILD, EPISODE), "obligation": (CHILD, EPISODE)}
assert set(DERIVED_IDS) == set(DERIVED_PREDICATES)


def sql_types(columns: tuple[str, ...]) -> tuple[str, ...]:
    """Tagged column types -> the tables' SQL types (an id's tag -> KEY)."""
    return tuple(KEY if t in IDS else t for t in columns)


BASE_TYPES = {p: sql_types(cols) for p, cols in BASE_COLUMNS.items()}
assert set(BASE_COLUMNS) == set(BASE_PREDICATES)


def column_types(by_pred: dict[str, list[Rule]]) -> dict[str, tuple[str, ...]]:
    """Each predicate's tagged column types (`by_pred`: the program's rules by head predicate). A derived column past its DERIVED_IDS takes the type of what its
    rules put there: INT when any rule puts an integer; CHILD or EPISODE when every rule puts an id of that kind
    (or "", no episode); else TEXT. Raises ValueError for a column holding ids and anything else: its values could
    not all be keys of one kind."""
    schema = dict(BASE_COLUMNS)
    for pred in by_pred:
        if pred in BASE_COLUMNS:
            raise ValueError(f"a rule defines the base predicate {pred}")
    for pred, arity in DERIVED_PREDICATES.items():  # those no rule defines: what they mean, and empty
        if pred not in by_pred:
            schema[pred] = DERIVED_IDS[pred] + (TEXT,) * (arity - len(DERIVED_IDS[pred]))
    known: dict[str, list] = {p: [*DERIVED_IDS.get(p, ()), *[None] * (len(rs[0].head.args) - len(DERIVED_IDS.get(p, ())))]
                              for p, rs in by_pred.items()}
    puts: dict[str, list[set]] = {}
    changed = True
    while changed:  # a fixpoint: a column's type only rises (not known, then an id's kind, then TEXT; INT above all)
        changed = False
        for pred, rules in by_pred.items():
            put: list[set] = [set() for _ in known[pred]]
            for r in rules:
                bound: dict[str, object] = {}
                for x in r.body:
                    if isinstance(x, Lit) and not x.negated:
                        for a, t in zip(x.args, schema.get(x.pred) or known.get(x.pred) or ()):
                            if isinstance(a, Var):
                                bound.setdefault(a.name, t)
                for i, a in enumerate(r.head.args):
                    put[i].add(bound.get(a.name, TEXT) if isinstance(a, Var) else
                               INT if isinstance(a, int) else "" if a == NO_EPISODE else TEXT)
            puts[pred] = put
            for i, t in enumerate(map(_join, put)):
                t = _join({known[pred][i], t})
                if t != known[pred][i]:
                    known[pred][i], changed = t, True
    for pred, put in puts.items():
        for i, (t, values) in enumerate(zip(known[pred], put)):
            if t == TEXT and values & set(IDS):
                raise ValueError(f"column {i} of {pred} holds ids and other values: {sorted(map(str, values))}")
    for pred, types in known.items():
        schema[pred] = tuple(t or TEXT for t in types)
    return schema


def keyed(rule: Rule, schema: dict[str, tuple[str, ...]]) -> Rule:
    """`rule` over keys: NO_EPISODE at an id's column is the key NO_EPISODE_KEY. Raises ValueError for a rule
    that meets an id with anything else (a variable at an id's column and at another, or another constant at
    an id's column), which keys cannot say; the compiler never writes one: an id is C or E, nothing else."""
    seen: dict[str, set[str]] = {}

    def lit(x: Lit) -> Lit:
        types = schema.get(x.pred, ())
        for i, a in enumerate(x.args):
            t = types[i] if i < len(types) else TEXT
            if isinstance(a, Var):
                seen.setdefault(a.name, set()).add(t)
            elif t in IDS and a != NO_EPISODE:
                raise ValueError(f"a constant at an id's column ({x.pred} column {i}) in {rule}")
        args = tuple(NO_EPISODE_KEY if a == NO_EPISODE and i < len(types) and types[i] in IDS else a
                     for i, a in enumerate(x.args))
        return x if args == x.args else replace(x, args=args)
    out = replace(rule, head=lit(rule.head), body=tuple(lit(x) if isinstance(x, Lit) else x for x in rule.body))
    for name, types in seen.items():
        if types & set(IDS) and len(types) > 1:
            raise ValueError(f"{name} is an id and another value ({', '.join(sorted(types))}) in {rule}")
    return out


def _join(types: set) -> str | None:
    """The one column type that holds all of `types`; None while nothing is known ('' is the empty text, no
    episode, which an id's column holds too)."""
    if INT in types:
        return INT
    ids = types & set(IDS)
    if TEXT in types or len(ids) > 1:
        return TEXT
    return ids.pop() if ids else None


