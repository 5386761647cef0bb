"""pyDatalog, used through its object API only: rules and facts in, tuples out.

Input: a `Program` and `BaseFact`s. Output: every derived relation the rules define, each
asked once, whole, and sorted (engine/evaluation.py keeps them; nothing asks pyDatalog again).
Each load starts from the program's template logic with no facts (pyDatalog keeps one logic
per thread), so evaluations never leak into each other. Nothing here parses or executes text:
constants from the policy and the facts stay data (see ../shared/notes/pydatalog.md).
"""
from __future__ import annotations

import threading
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
    """A pyDatalog literal object (pyParser.Query) for one rule element, built without parsing."""
    if isinstance(x, Cmp):
        return pyParser.Query(x.op, [_arg(x.var, variables), x.value])
    return pyParser.Query(("~" if x.negated else "") + x.pred, [_arg(a, variables) for a in x.args])


def _add_rule(rule: Rule) -> None:
    """Assert one clause straight into pyDatalog's engine: head and body literal objects."""
    variables: dict[str, object] = {}
    head = _literal(rule.head, variables)
    body = [_literal(x, variables).lua for x in rule.body]
    pyEngine.assert_(pyEngine.Clause(head.lua, body))


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

def _template(program: Program) -> object:
    """This thread's logic holding the program's rules and no facts, built once per program."""
    cache: dict[int, tuple[Program, object]] = getattr(_loaded, "templates", None) or {}
    _loaded.templates = cache
    hit = cache.get(id(program))
    if hit is not None and hit[0] is program:
        return hit[1]
    pyDatalog.Logic()
    declare(BASE_PREDICATES)
    defined = {r.head.pred for r in program.rules}
    declare({p: n for p, n in DERIVED_PREDICATES.items() if p not in defined})
    for rule in program.rules:
        _add_rule(rule)
    cache[id(program)] = (program, pyDatalog.Logic(True))
    return cache[id(program)][1]


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
    """Load the facts and ask for every derived relation the rules define, whole (the others are
    empty); with `action`, the `obligation` relation holds only that action's obligations: what
    explaining one needs, at a fraction of the cost."""
    load(program, facts)
    defined = {r.head.pred for r in program.rules}
    out = {p: query(p, n) if p in defined else () for p, n in DERIVED_PREDICATES.items() if p != "obligation"}
    fixed = {2: action} if action is not None else None
    out["obligation"] = query("obligation", DERIVED_PREDICATES["obligation"], fixed) if "obligation" in defined else ()
    return out
