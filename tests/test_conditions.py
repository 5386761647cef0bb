"""Explanations match rule bodies against the relations an evaluation holds (engine/backends/reference.py,
through engine/explain/conditions.py): every answer must be exactly the one pyDatalog gives when asked
the same body directly."""
from __future__ import annotations

import operator
from pathlib import Path

import pytest

from compiler.codegen import DERIVED_PREDICATES, Cmp, Lit, Var
from engine.backends import pydatalog as runtime
from engine import evaluate
from engine.explain.conditions import Asked, scopes
from facts.yamlcase import load_case
from tests.evaluated import policy as bundled_policy
from tests.loads import LARGE

POLICY = bundled_policy()
CASES = sorted(Path("tests/cases").rglob("*.yaml"))
COMPARE = {">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt}


def ask_pydatalog(lits: tuple, bindings: dict) -> list[dict]:
    """The body asked of pyDatalog itself, bound variables as constants (the way explanations asked
    before they matched against derived relations)."""
    variables: dict[str, object] = {}
    body = None
    for x in lits:
        if isinstance(x, Cmp) and x.var.name in bindings:
            if not COMPARE[x.op](bindings[x.var.name], x.value):
                return []
            continue
        if isinstance(x, Lit):
            x = Lit(x.pred, tuple(bindings.get(a.name, a) if isinstance(a, Var) else a for a in x.args), x.negated)
        t = runtime._literal(x, variables)
        body = t if body is None else body & t
    if body is None:
        return [dict(bindings)]
    if not variables:
        return [dict(bindings)] if body.data else []
    return [dict(bindings, **dict(zip(variables, row))) for row in body.data]


def _key(rows: list[dict]) -> set[frozenset]:
    return {frozenset(r.items()) for r in rows}


# make test: every twentieth case, so each folder of the policy is represented, plus the ones with
# exceptions and windows; make fuzz (CLAUSE_TEST_LOAD=large): every case
SAMPLE = (CASES if LARGE else
          CASES[::20] + [c for c in CASES if any(w in c.name for w in ("ooh", "third-episode", "weekend"))][:8])


@pytest.mark.parametrize("path", SAMPLE, ids=lambda p: p.stem)
def test_every_rule_body_holds_exactly_as_pydatalog_says(path: Path) -> None:
    case = load_case(path)
    ev = evaluate(POLICY, case.facts, case.as_of)
    asked = Asked(ev)  # pyDatalog still holds this evaluation's facts: nothing ran since
    checked = 0
    for clause in POLICY.program.clauses.values():
        for bindings in scopes(ev, clause):
            for rule in (r for r in POLICY.program.rules if r.clause == clause.id.value):
                mine = asked.holds(rule.body, bindings)
                assert _key(mine) == _key(ask_pydatalog(rule.body, bindings)), (path.name, str(rule))
                checked += 1
    assert checked > 0


def test_matching_reads_its_own_evaluation_after_another_ran() -> None:
    """Matching reads the relations its evaluation holds, whatever pyDatalog has loaded since (the
    test, not the product, loads each evaluation's facts again to ask pyDatalog)."""
    first, second = (load_case(p) for p in (CASES[0], CASES[-1]))
    a = evaluate(POLICY, first.facts, first.as_of)
    b = evaluate(POLICY, second.facts, second.as_of)
    assert a.facts != b.facts
    for ev in (a, b, a):
        for pred in ("category", "risk", "known"):
            lit = (Lit(pred, tuple(Var(f"X{i}") for i in range(DERIVED_PREDICATES[pred]))),)
            got = Asked(ev).holds(lit, {})
            runtime.load(ev.policy.program, ev.base)
            assert _key(got) == _key(ask_pydatalog(lit, {}))
