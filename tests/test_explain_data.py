"""Explanations are data and evaluations are values: `why --format json` has a versioned shape of
typed fields; dates of birth are left out by the renderers when redacting, in every format; an
evaluation is never changed by explaining it, and explaining never asks pyDatalog again."""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import main
from compiler.core.london import parse_instant
from engine import evaluate
from engine.backends import pydatalog
from engine.explain import render
from engine.explain.conditions import condition_truths
from engine.explain.nodes import CaseNode
from engine.explain.why import Explainer, why, why_not
from facts.yamlcase import load_case
from tests.evaluated import case_evaluation, policy as bundled_policy
from tests.loads import LARGE

POLICY = bundled_policy()
CASE = "examples/cp-plan-missing-with-parents.yaml"
BORN = "2012-05-01"  # C1's date of birth in CASE
CASES = sorted(Path("tests/cases").rglob("*.yaml"))

SPAN = {"file": str, "line": int, "column": int}
OPTIONAL = type(None)
FIELDS: dict[str, dict[str, object]] = {  # kind -> field -> type(s), as docs/why-json.md lists them
    "case": {"case": str, "at": str},
    "obligation": {"obligation": dict},
    "timing": {"triggered": (str, OPTIONAL), "due": (str, OPTIONAL), "occurrence": int, "from": dict,
               "immediately": bool, "within_minutes": (int, OPTIONAL), "of": (dict, OPTIONAL),
               "every_minutes": (int, OPTIONAL), "time": str, "triggered_latest": (str, OPTIONAL),
               "due_latest": (str, OPTIONAL)},
    "status": {"status": str, "action": str, "at": str, "due": (str, OPTIONAL), "done_at": (str, OPTIONAL),
               "recorded": (dict, OPTIONAL)},
    "clause": {"clause": dict, "sets": str, "value": (str, OPTIONAL)},
    "condition": {"condition": str, "negated": bool, "holds": bool, "bindings": dict, "at": dict, "atom": dict},
    "fact": {"predicate": str, "arguments": list, "child": (str, OPTIONAL), "episode": (str, OPTIONAL), "source": dict},
    "record": {"about": str, "child": (str, OPTIONAL), "episode": (str, OPTIONAL), "field": (str, OPTIONAL),
               "within_minutes": (int, OPTIONAL),
               "at": (str, OPTIONAL), "moment": (dict, OPTIONAL), "when": (str, OPTIONAL), "off": (bool, OPTIONAL),
               "holidays": (bool, OPTIONAL), "statuses": (list, OPTIONAL), "flags": (list, OPTIONAL), "source": dict},
    "exception": {"clause": dict, "outcome": str, "actor": (str, OPTIONAL)},
    "candidate": {"clause": dict, "child": str, "episode": (str, OPTIONAL), "outcome": str, "holds": bool,
                  "failed": int, "conditions": int, "actors": list, "exception": (str, OPTIONAL)},
    "why-not": {"child": str, "action": str, "episode": (str, OPTIONAL), "present": int, "holds": bool, "at": str},
}
TIMES = {"at", "triggered", "due", "done_at", "when"}
HELD_PREDICATES = ("status", "flag", "status_at", "flag_at")
HELD = {"name": str, "from": (str, OPTIONAL), "to": (str, OPTIONAL), "source": (dict, OPTIONAL)}


def _nodes(node: dict):
    yield node
    for c in node.get("children", ()):
        yield from _nodes(c)


def _check(node: dict, kinds: set[str]) -> None:
    kind = node["kind"]
    kinds.add(kind)
    extra = (["children"] if "children" in node else []) + (["counted"] if node.get("predicate") == "window_count" else []) \
        + (["flagged"] if node.get("predicate") == "window_true" else []) \
        + (["held", "in_force_at"] if node.get("predicate") in HELD_PREDICATES else [])
    assert set(node) == {"kind", "text", *FIELDS[kind], *extra}, kind
    assert isinstance(node["text"], str) and node["text"]
    for name, types in FIELDS[kind].items():
        assert isinstance(node[name], types), (kind, name, node[name])
        if name in TIMES and isinstance(node[name], str):
            parse_instant(node[name])  # London time as format_instant writes it
    for name in ("source",):
        if name in node:
            assert {k: type(node[name][k]) for k in SPAN} == SPAN
    if "clause" in FIELDS[kind]:
        assert {"id", "title", "kind", "document", "section", "says", "notes", "at"} <= set(node["clause"])
    if kind == "fact":
        assert node["child"]
        if node["predicate"] == "window_count":
            assert len(node["counted"]) == node["arguments"][2] and all(parse_instant(t) for t in node["counted"])
        if node["predicate"] == "window_true":
            assert node["flagged"] and all(parse_instant(f["reported"]) for f in node["flagged"])
        if node["predicate"] in HELD_PREDICATES:
            held = node["held"]
            assert set(held) == set(HELD) and all(isinstance(held[k], t) for k, t in HELD.items())
            assert held["name"] == node["arguments"][1] and parse_instant(node["in_force_at"])
    if kind == "record" and node["about"] == "child":
        assert all(set(h) == set(HELD) for h in node["statuses"] + node["flags"])


@pytest.mark.parametrize("command, action", [("why", "missing_cp_conference"), ("why-not", "return_interview"),
                                             ("why-not", "missing_cp_conference")])
def test_why_json_has_a_versioned_shape_of_typed_fields(command: str, action: str) -> None:
    out = CliRunner().invoke(main, [command, CASE, "--child", "C1", "--action", action, "--format", "json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert set(data) == {"schema", "cases"} and data["schema"] == "clause.why/1"
    kinds: set[str] = set()
    for case in data["cases"]:
        assert case["kind"] == "case"
        for node in _nodes(case):
            _check(node, kinds)
    assert {"case", "condition", "fact", "clause", "exception"} <= kinds


def test_every_node_kind_of_the_regression_cases_fits_the_shape() -> None:
    kinds: set[str] = set()
    for path in CASES[::8]:
        case, ev = case_evaluation(path)
        explainer = Explainer(ev)
        trees = [explainer.why(o) for o in ev.obligations]
        trees += [explainer.why_not(c.id, a) for c in case.facts.children for a in ("return_interview", "cp_conference")]
        data = json.loads(render.as_json([CaseNode(case=case.name, at=ev.at, children=tuple(trees))]))
        for node in _nodes(data["cases"][0]):
            _check(node, kinds)
    assert kinds == set(FIELDS)


@pytest.mark.parametrize("fmt", ["text", "json", "html"])
@pytest.mark.parametrize("command", ["why", "why-not"])
def test_dates_of_birth_are_left_out_by_the_renderer_when_redacting(command: str, fmt: str) -> None:
    args = [command, CASE, "--child", "C1", "--action", "missing_cp_conference", "--format", fmt]
    plain = CliRunner().invoke(main, args).output
    redacted = CliRunner().invoke(main, args + ["--redact"]).output
    assert BORN in plain  # the explanation does cite the child's birth date ...
    assert BORN not in redacted and "born [date of birth]" in redacted  # ... unless told not to


def test_renderers_hide_births_on_the_data_itself() -> None:
    """The flag reaches the words: a child record whose date of birth is not in 'born YYYY-MM-DD' form
    anywhere else in the tree is still hidden (nothing scans the rendered text)."""
    case = load_case(Path(CASE))
    ev = evaluate(POLICY, case.facts, case.as_of)
    trees = [CaseNode(case="c", at=ev.at, children=(why(ev, ob),)) for ob in ev.obligations]
    for text in (render.as_text(trees, births=False), render.as_json(trees, births=False),
                 render.as_html(trees, "t", births=False)):
        assert BORN not in text and "[date of birth]" in text
    assert BORN in render.as_text(trees)


def test_an_evaluation_is_a_value_explaining_never_changes_it_nor_asks_pydatalog(monkeypatch) -> None:
    first, second = (load_case(p) for p in (CASES[0], CASES[-1]))
    ev = evaluate(POLICY, first.facts, first.as_of)
    before = (ev.base, dict(ev.derived.tuples), ev.obligations, ev.episodes)
    fields = set(vars(ev))
    text = render.as_text([why(ev, o) for o in ev.obligations])
    evaluate(POLICY, second.facts, second.as_of)  # pyDatalog now holds another case

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("explaining asked pyDatalog")

    monkeypatch.setattr(pydatalog, "query", refuse)
    monkeypatch.setattr(pydatalog, "load", refuse)
    assert render.as_text([why(ev, o) for o in ev.obligations]) == text
    for child in first.facts.children:
        why_not(ev, child.id, "strategy_discussion")
    condition_truths(ev)
    assert (ev.base, dict(ev.derived.tuples), ev.obligations, ev.episodes) == before
    assert set(vars(ev)) == fields  # nothing cached on it
    with pytest.raises(dataclasses.FrozenInstanceError):
        ev.obligations = ()  # type: ignore[misc]
    with pytest.raises(TypeError):
        ev.derived.tuples["obligation"] = ()  # type: ignore[index]
    assert all(isinstance(ts, tuple) and all(isinstance(t, tuple) for t in ts) for ts in ev.derived.tuples.values())


# every sixth case (each folder of the policy several times over); every case under make fuzz (CLAUSE_TEST_LOAD=large)
@pytest.mark.parametrize("path", CASES if LARGE else CASES[::6], ids=lambda p: p.stem)
def test_an_evaluation_restricted_to_one_action_explains_it_as_the_whole_one_does(path: Path) -> None:
    """`evaluate(..., action=)` asks pyDatalog for that action's obligations only; every why and
    why-not it gives is the whole evaluation's."""
    case = load_case(path)
    whole = Explainer(evaluate(POLICY, case.facts, case.as_of))
    actions = sorted({o.action for o in whole.evaluation.obligations} | {"return_interview", "cp_conference"})
    for action in actions:
        part = Explainer(evaluate(POLICY, case.facts, case.as_of, action=action))
        mine = [o for o in whole.evaluation.obligations if o.action == action]
        assert part.evaluation.obligations == tuple(mine)
        assert render.as_text([part.why(o) for o in mine]) == render.as_text([whole.why(o) for o in mine])
        for child in case.facts.children:
            assert render.as_text([part.why_not(child.id, action)]) == render.as_text([whole.why_not(child.id, action)])
