"""pyDatalog, used through its object API only: rules and facts in, tuples out.

Input: a `Program` and `BaseFact`s. Output: every derived relation the rules define, each
asked once, whole, and sorted (engine/evaluation.py keeps them; nothing asks pyDatalog again).
Each load starts from the program's template logic with no facts (pyDatalog keeps one logic
per thread), so evaluations never leak into each other. Nothing here parses or executes text:
constants from the policy and the facts stay data (see ../shared/notes/pydatalog.md).
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Iterable, Mapping, Union

from pyDatalog import pyDatalog, pyEngine, pyParser

from compiler.codegen import BASE_PREDICATES, DERIVED_PREDICATES, Cmp, Lit, Program, Rule, Var
from engine.meaning.base_facts import BaseFact

_SENTINEL = "\x00clause-declare\x00"


def _arg(a: Union[Var, str, int], variables: dict[str, object]) -> object:
    if isinstance(a, Var):
        if a.name not in variables:
            variables[a.name] = pyDatalog.Variable(a.name)
        return variables[a.name]
    return a


def _literal(x: Union[Lit, Cmp], variables: dict[str, object]):
    """A pyDatalog literal object (pyParser.Query) for one rule element, built without parsing: what
    asking pyDatalog a body directly needs (`&`, `.data`); rules are asserted as `_engine_literal`s."""
    if isinstance(x, Cmp):
        return pyParser.Query(x.op, [_arg(x.var, variables), x.value])
    return pyParser.Query(("~" if x.negated else "") + x.pred, [_arg(a, variables) for a in x.args])


def _term(a: Union[Var, str, int]) -> object:
    """One argument as pyDatalog's engine term: a variable by its name, or a constant (as `_constant`)."""
    return pyEngine.Var(a.name) if isinstance(a, Var) else pyEngine.Term_of(_constant(a))


def _engine_literal(x: Union[Lit, Cmp]) -> pyEngine.Literal:
    """A rule element as pyDatalog's engine literal, built directly: `_literal(...).lua` is the same
    literal at about ten times the cost, most of a command's start-up for a few hundred rules."""
    if isinstance(x, Cmp):
        return pyEngine.Literal(x.op, [_term(x.var), _term(x.value)])
    return pyEngine.Literal(("~" if x.negated else "") + x.pred, [_term(a) for a in x.args])


def _add_rule(rule: Rule) -> None:
    """Assert one clause straight into pyDatalog's engine: head and body literals."""
    pyEngine.assert_(pyEngine.Clause(_engine_literal(rule.head), [_engine_literal(x) for x in rule.body]))


def _constant(value: object) -> object:
    """A fact argument as pyDatalog's own `assert_fact` stores it (it reads the strings 'True' and
    'False' as booleans; ids so spelt are refused on input, this keeps the two routes identical)."""
    return True if value == "True" else False if value == "False" else value


def _fact(pred: str, args: tuple) -> pyEngine.Clause:
    """A fact as pyDatalog's engine clause, built directly: `pyDatalog.assert_fact` builds the same
    clause through its parser objects, at about six times the cost."""
    return pyEngine.Clause(pyEngine.Literal(pred, [pyEngine.Const(_constant(a)) for a in args]), [])


def declare(predicates: Mapping[str, int]) -> None:
    """pyDatalog raises on a predicate it has never seen; make each one known, empty."""
    for pred, arity in predicates.items():
        pyEngine.assert_(_fact(pred, (_SENTINEL,) * arity))
        pyEngine.retract(_fact(pred, (_SENTINEL,) * arity))


_loaded = threading.local()

TEMPLATES = 4  # programs whose rules a thread keeps compiled: a server reloading a policy, or a run
# comparing two (diff), needs a few; a process compiling thousands (the fuzz campaign) must not keep them all


def _template(program: Program) -> object:
    """This thread's logic holding the program's rules and no facts, built once per program (the
    TEMPLATES most recently used are kept)."""
    cache: OrderedDict[int, tuple[Program, object]] = getattr(_loaded, "templates", None) or OrderedDict()
    _loaded.templates = cache
    hit = cache.get(id(program))
    if hit is not None and hit[0] is program:
        cache.move_to_end(id(program))
        return hit[1]
    while len(cache) >= TEMPLATES:
        cache.popitem(last=False)
    pyDatalog.Logic()
    declare(BASE_PREDICATES)
    defined = {r.head.pred for r in program.rules}
    declare({p: n for p, n in DERIVED_PREDICATES.items() if p not in defined})
    for rule in program.rules:
        _add_rule(rule)
    _add_unions(program)
    cache[id(program)] = (program, pyDatalog.Logic(True))
    return cache[id(program)][1]


# Every derived relation in one query: pyDatalog tables what it derives only within a query, so
# asking relation by relation derived category_by again for category, and so on. Two unions, each
# tuple led by its predicate's name and padded to the widest: VIEWS of every derived relation but
# `obligation`, EVERY of them all (names no policy can define).
VIEWS, EVERY = "clause_views_", "clause_every_"
_WIDTH = max(DERIVED_PREDICATES.values())


def _add_unions(program: Program) -> None:
    declare({VIEWS: _WIDTH + 1, EVERY: _WIDTH + 1})  # known even when the program defines nothing
    for pred in sorted({r.head.pred for r in program.rules} & set(DERIVED_PREDICATES)):
        xs = [pyDatalog.Variable(f"X{i}") for i in range(DERIVED_PREDICATES[pred])]
        head = pyParser.Query(EVERY if pred == "obligation" else VIEWS, [pred, *xs] + [""] * (_WIDTH - len(xs)))
        pyEngine.assert_(pyEngine.Clause(head.lua, [pyParser.Query(pred, xs).lua]))
    xs = [pyDatalog.Variable(f"X{i}") for i in range(_WIDTH + 1)]
    pyEngine.assert_(pyEngine.Clause(pyParser.Query(EVERY, xs).lua, [pyParser.Query(VIEWS, xs).lua]))


def _ask_union(name: str) -> dict[str, tuple[tuple, ...]]:
    """Each derived relation the union holds, split by predicate and sorted as `query` sorts."""
    out: dict[str, list[tuple]] = {}
    for row in pyParser.Term(name)(*(pyDatalog.Variable(f"X{i}") for i in range(_WIDTH + 1))).data:
        out.setdefault(row[0], []).append(tuple(row[1:1 + DERIVED_PREDICATES[row[0]]]))
    return {p: tuple(sorted(ts, key=repr)) for p, ts in out.items()}


def load(program: Program, facts: Iterable[BaseFact]) -> None:
    """This thread's logic, holding the program and exactly these facts.

    The rules are compiled into pyDatalog once per program (a template logic); each
    load starts from a copy of it. The copy shares the template's predicate tables,
    so the facts of the previous load are retracted first: no evaluation ever sees
    another's facts.
    """
    previous = getattr(_loaded, "facts_in", None)
    if previous is not None:  # retract in the template that holds them, whatever ran since
        pyDatalog.Logic(previous[0])
        for pred, args in previous[1]:
            pyEngine.retract(_fact(pred, args))
        _loaded.facts_in = None
    template = _template(program)
    pyDatalog.Logic(template)
    loaded: list[tuple[str, tuple]] = []
    _loaded.facts_in = (template, loaded)  # recorded first: a failure midway is still retracted next time
    for f in facts:
        loaded.append((f.pred, f.args))
        pyEngine.assert_(_fact(f.pred, f.args))


def query(pred: str, arity: int, fixed: Mapping[int, object] | None = None) -> tuple[tuple, ...]:
    """Every tuple of `pred` in the loaded logic, sorted; with `fixed`, only those holding these values
    at these positions (pyDatalog then tries only the rules whose heads can match)."""
    fixed = fixed or {}
    args = [fixed[i] if i in fixed else pyDatalog.Variable(f"X{i}") for i in range(arity)]
    rows = pyParser.Term(pred)(*args).data
    if fixed:  # .data holds the variables' values only: put the fixed ones back
        rows = [tuple(fixed[i] if i in fixed else next(it) for i in range(arity)) for it in map(iter, rows)]
    return tuple(sorted(rows, key=repr))


def run(program: Program, facts: Iterable[BaseFact], action: str | None = None) -> dict[str, tuple[tuple, ...]]:
    """Load the facts and ask for every derived relation, whole, in one query (those no rule defines
    are empty); with `action`, the `obligation` relation holds only that action's obligations (asked
    apart, with the action fixed): what explaining one needs, at a fraction of the cost."""
    load(program, facts)
    asked = _ask_union(EVERY if action is None else VIEWS)
    if action is not None:
        asked["obligation"] = query("obligation", DERIVED_PREDICATES["obligation"], {2: action})
    return {p: asked.get(p, ()) for p in DERIVED_PREDICATES}
