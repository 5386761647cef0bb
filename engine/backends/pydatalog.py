"""pyDatalog, used through its object API only: rules and facts in, tuples out.

Input: a `Program` and `BaseFact`s. Output: the derived tuples, sorted. Each call
starts a fresh `Logic()` (pyDatalog keeps one logic per thread), so evaluations
never leak into each other. Nothing here parses or executes text: constants from
the policy and the facts stay data (see ../shared/notes/pydatalog.md).
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Iterable, Mapping, Union

from pyDatalog import pyDatalog, pyEngine, pyParser

from compiler.codegen import BASE_PREDICATES, DERIVED_PREDICATES, Cmp, Lit, Program, Rule, Var
from engine.meaning.base_facts import BaseFact

QUERIED = ("obligation", "category_by", "risk_by", "exception_holds")
_SENTINEL = "\x00clause-declare\x00"


@dataclass(frozen=True)
class Derived:
    """Every derived tuple of the queried predicates, sorted for determinism."""

    tuples: Mapping[str, tuple[tuple, ...]]
    token: object = None


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


def loaded_token() -> object:
    """Identifies what this thread's logic holds, so explanations can tell if it is stale."""
    return getattr(_loaded, "token", None)


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


def load(program: Program, facts: Iterable[BaseFact]) -> object:
    """This thread's logic, holding the program and exactly these facts. Returns its token.

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
    _loaded.token = object()
    loaded: list[tuple[str, tuple]] = []
    _loaded.facts_in = (template, loaded)  # recorded first: a failure midway is still retracted next time
    for f in facts:
        loaded.append((f.pred, f.args))
        pyEngine.assert_(_fact(f.pred, f.args))
    return _loaded.token


def query(pred: str, arity: int, fixed: Mapping[int, object] | None = None) -> tuple[tuple, ...]:
    """Every tuple of `pred` in the loaded logic, sorted; with `fixed`, only those holding these values
    at these positions (pyDatalog then tries only the rules whose heads can match)."""
    fixed = fixed or {}
    args = [fixed[i] if i in fixed else pyDatalog.Variable(f"X{i}") for i in range(arity)]
    rows = pyParser.Term(pred)(*args).data
    if fixed:  # .data holds the variables' values only: put the fixed ones back
        rows = [tuple(fixed[i] if i in fixed else next(it) for i in range(arity)) for it in map(iter, rows)]
    return tuple(sorted(rows, key=repr))


def run(program: Program, facts: Iterable[BaseFact], action: str | None = None) -> Derived:
    """Load the facts and derive every queried predicate; with `action`, only that action's
    obligations (and no exception_holds): what explaining one obligation needs, at a fraction of the cost."""
    token = load(program, facts)
    if action is None:
        return Derived({p: query(p, DERIVED_PREDICATES[p]) for p in QUERIED}, token)
    return Derived({"obligation": query("obligation", DERIVED_PREDICATES["obligation"], {2: action}),
                    "category_by": query("category_by", 3), "risk_by": query("risk_by", 3)}, token)
