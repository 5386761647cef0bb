"""Evaluations are independent: no leaks between policies or cases, any thread, deterministic output.

pyDatalog keeps its facts and rules in per-thread global state; the engine must
start afresh on every evaluation. The reference result for a case is the case
evaluated alone, in a new thread where nothing has run before.
"""
from __future__ import annotations

import random
import shutil
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from typing import Callable

import pytest

from compiler.codegen import DERIVED_PREDICATES
from compiler.policy import BUNDLED, CompiledPolicy, compile_policy
from engine import Evaluation
from engine import evaluate
from engine.meaning import lifecycle as lifecycle_module
from engine.output import render
from engine.backends.batch import Run
from engine.backends.pydatalog import query
from facts.model import Child, Episode, FactSet, RecordedAction
from compiler.core.london import parse_instant
from tests.evaluated import policy as bundled_policy

T = parse_instant
AT = T("2024-05-02T16:00")  # 30 hours after the report below
MFH_72 = "   and the episode has lasted 72 hours\n  then mash must hold strategy_discussion from 72 hours after reported"
MFH_24 = "   and the episode has lasted 24 hours\n  then mash must hold strategy_discussion from 24 hours after reported"


@pytest.fixture(scope="module")
def bundled() -> CompiledPolicy:
    """The bundled policy."""
    return bundled_policy()


@pytest.fixture(scope="module")
def variant(tmp_path_factory: pytest.TempPathFactory) -> CompiledPolicy:
    """The bundled policy with LMCP-MFH-1 at 24 hours instead of 72."""
    root = tmp_path_factory.mktemp("variant") / "policy"
    shutil.copytree(BUNDLED, root)
    path = root / "lmcp" / "02-missing-from-home.clause"
    text = path.read_text(encoding="utf-8")
    assert MFH_72 in text
    path.write_text(text.replace(MFH_72, MFH_24), encoding="utf-8")
    return compile_policy(root)


def home_case() -> FactSet:
    """C1, not known to services, missing 30 hours."""
    return FactSet((Child("C1", date(2010, 1, 1)),), (Episode("E1", "C1", T("2024-05-01T10:00")),))


def cp_case() -> FactSet:
    """The same ids, but C1 is on a CP plan, flagged for CSE, and missing with parents."""
    return FactSet((Child("C1", date(2010, 1, 1), ("child_protection_plan",), ("cse",)),),
                   (Episode("E1", "C1", T("2024-05-01T10:00"), with_parents=True, police_risk="medium"),),
                   (RecordedAction("inform_police", "C1", "lead_social_worker", T("2024-05-01T12:00"), "E1"),))


def busy_case() -> FactSet:
    """Several children, episodes (two reported at the same instant) and actions."""
    children = (
        Child("C1", date(2010, 1, 1)),
        Child("C2", date(2012, 3, 1), ("child_protection_plan",), ("safeguarding_concerns",)),
        Child("C3", date(2008, 7, 9), ("looked_after",), ("cce",), "wirral", "liverpool"),
        Child("C4", date(2011, 11, 30), ("section_47_enquiry",), ("risk_of_removal_abroad",)),
    )
    base = T("2024-04-20T10:00")
    episodes = (
        Episode("E1", "C1", base, base + timedelta(hours=80), safeguarding_concerns=True),
        Episode("E2", "C1", base + timedelta(days=5), base + timedelta(days=5, hours=2)),
        Episode("E3", "C1", base + timedelta(days=9), police_risk="low"),
        Episode("E4", "C2", base + timedelta(days=2), with_parents=True),
        Episode("E5", "C2", base + timedelta(days=2), base + timedelta(days=2, hours=5), victim_of_crime=True),
        Episode("E6", "C3", base + timedelta(days=3), whereabouts_known=True, police_risk="high"),
        Episode("E7", "C4", base + timedelta(days=6), inspector_risk="medium", police_risk="high"),
    )
    actions = (
        RecordedAction("inform_police", "C2", "lead_social_worker", base + timedelta(days=2, hours=3), "E4"),
        RecordedAction("weekly_strategy_meeting", "C2", "team_manager", base + timedelta(days=10), "E4"),
        RecordedAction("return_interview", "C1", "protect_team", base + timedelta(days=4), "E1"),
        RecordedAction("locate_child", "C4", "allocated_social_worker", base + timedelta(days=6, hours=1)),
    )
    return FactSet(children, episodes, actions)


def outcome(result: Evaluation) -> tuple:
    """What an evaluation concluded: obligations, episode facts, every derived tuple."""
    return result.obligations, result.episodes, dict(result.derived.tuples)


def alone(fn: Callable[[], Evaluation]) -> Evaluation:
    """Run `fn` in a new thread, where no logic has been loaded before."""
    out: list[Evaluation] = []
    worker = threading.Thread(target=lambda: out.append(fn()))
    worker.start()
    worker.join()
    assert out, "the evaluation failed in its thread"
    return out[0]


def as_json(result: Evaluation, name: str = "case") -> str:
    return render.as_json([(Run(name, None, result), list(result.obligations))])


def test_the_variant_policy_really_differs(bundled: CompiledPolicy, variant: CompiledPolicy) -> None:
    """Sanity: at 30 hours only the variant requires the MFH-1 discussion (so a leak would show)."""
    assert [o.clause for o in evaluate(variant, home_case(), AT).obligations if o.clause == "LMCP-MFH-1"]
    assert not [o for o in evaluate(bundled, home_case(), AT).obligations if o.clause == "LMCP-MFH-1"]


@pytest.mark.parametrize("first, second", [
    (("variant", home_case), ("bundled", home_case)),   # rules of another policy must not remain
    (("bundled", home_case), ("variant", home_case)),
    (("bundled", cp_case), ("bundled", home_case)),     # facts of another case with the same ids must not remain
    (("bundled", home_case), ("bundled", cp_case)),
    (("variant", cp_case), ("bundled", busy_case)),
])
def test_consecutive_evaluations_do_not_leak(request: pytest.FixtureRequest, first: tuple, second: tuple) -> None:
    """The second of two evaluations in a row equals evaluating it alone."""
    (p1, case1), (p2, case2) = first, second
    policy1, policy2 = request.getfixturevalue(p1), request.getfixturevalue(p2)
    reference = alone(lambda: evaluate(policy2, case2(), AT))
    evaluate(policy1, case1(), AT)
    assert outcome(evaluate(policy2, case2(), AT)) == outcome(reference)


def test_a_chain_of_evaluations_each_equals_it_alone(bundled: CompiledPolicy, variant: CompiledPolicy) -> None:
    """Policies and cases interleaved: every result is what that evaluation gives alone."""
    chain = [(bundled, cp_case), (variant, home_case), (bundled, home_case), (variant, busy_case),
             (bundled, busy_case), (bundled, cp_case), (variant, cp_case), (bundled, home_case)]
    references = [alone(lambda p=p, c=c: evaluate(p, c(), AT)) for p, c in chain]
    for (policy, case), reference in zip(chain, references):
        assert outcome(evaluate(policy, case(), AT)) == outcome(reference)


def test_a_failed_evaluation_leaves_nothing_behind(bundled: CompiledPolicy, monkeypatch: pytest.MonkeyPatch) -> None:
    """An evaluation that fails after its facts were loaded does not leak them into the next one."""
    reference = alone(lambda: evaluate(bundled, home_case(), AT))

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("failed while building obligations")

    with monkeypatch.context() as patch:
        patch.setattr(lifecycle_module, "build", boom)
        with pytest.raises(RuntimeError):
            evaluate(bundled, cp_case(), AT)
    assert outcome(evaluate(bundled, home_case(), AT)) == outcome(reference)


def test_cp_facts_do_not_survive_into_the_next_case(bundled: CompiledPolicy) -> None:
    """After a CP-plan case, the same child id with no status gets no CP obligations, and none is done."""
    evaluate(bundled, cp_case(), AT)
    result = evaluate(bundled, home_case(), AT)
    assert not [o for o in result.obligations if o.clause.startswith(("LMCP-CP", "CFM-CP", "LMCP-RISK-EXPLOIT"))]
    assert all(o.status in ("open", "overdue") for o in result.obligations)
    assert [(e.category, e.risk) for e in result.episodes] == [("missing", None)]


def test_evaluation_in_another_thread(bundled: CompiledPolicy) -> None:
    """A worker thread evaluates as the main thread does, and leaves the main thread's loaded logic alone."""
    mine = evaluate(bundled, busy_case(), AT)
    theirs = alone(lambda: evaluate(bundled, cp_case(), AT))
    for pred in DERIVED_PREDICATES:  # this thread's logic still holds this thread's evaluation
        assert query(pred, DERIVED_PREDICATES[pred]) == mine.derived.tuples[pred]
    assert outcome(theirs) == outcome(evaluate(bundled, cp_case(), AT))
    assert outcome(alone(lambda: evaluate(bundled, busy_case(), AT))) == outcome(mine)


def test_concurrent_evaluations_in_many_threads(bundled: CompiledPolicy, variant: CompiledPolicy) -> None:
    """Threads evaluating different policies and cases at once each get their own answer."""
    jobs = [(bundled, home_case), (variant, home_case), (bundled, cp_case), (bundled, busy_case)]
    expected = [as_json(alone(lambda p=p, c=c: evaluate(p, c(), AT))) for p, c in jobs]
    with ThreadPoolExecutor(max_workers=4) as pool:
        got = list(pool.map(lambda job: as_json(evaluate(job[0], job[1](), AT)), jobs * 3))
    assert got == expected * 3


@pytest.mark.parametrize("at", ["2024-04-25T09:00", "2024-05-02T16:00", "2024-06-30T23:59"])
def test_repeated_evaluation_gives_identical_bytes(bundled: CompiledPolicy, at: str) -> None:
    """Evaluating the same facts at the same moment twice renders byte for byte the same."""
    moment = T(at)
    first = as_json(evaluate(bundled, busy_case(), moment)).encode("utf-8")
    evaluate(bundled, cp_case(), moment)
    second = as_json(evaluate(bundled, busy_case(), moment)).encode("utf-8")
    assert first == second
    assert b'"obligations": [' in first


def permuted(facts: FactSet, rng: random.Random) -> FactSet:
    """The same facts with every list in a shuffled order."""
    def shuffle(items: tuple) -> tuple:
        out = list(items)
        rng.shuffle(out)
        return tuple(out)
    return FactSet(shuffle(facts.children), shuffle(facts.episodes), shuffle(facts.actions))


@pytest.mark.parametrize("seed", range(5))
def test_input_order_does_not_change_the_output(bundled: CompiledPolicy, seed: int) -> None:
    """Children, episodes and actions listed in any order give identical JSON, CSV and table output."""
    facts = busy_case()
    rng = random.Random(seed)
    shuffled = permuted(facts, rng) if seed else FactSet(*(tuple(reversed(x)) for x in
                                                            (facts.children, facts.episodes, facts.actions)))
    assert shuffled != facts
    at = T("2024-05-02T16:00")
    expected, got = evaluate(bundled, facts, at), evaluate(bundled, shuffled, at)
    assert as_json(got) == as_json(expected)
    runs = lambda r: [(Run("case", None, r), list(r.obligations))]  # noqa: E731
    assert render.as_csv(runs(got)) == render.as_csv(runs(expected))
    assert render.table(runs(got)) == render.table(runs(expected))
    assert [e.id for e in got.episodes] == ["E1", "E2", "E3", "E4", "E5", "E6", "E7"]



def test_a_thread_keeps_only_a_few_compiled_programs_and_an_evicted_one_is_rebuilt(
        bundled: CompiledPolicy) -> None:
    """A long-lived process (a server reloading its policy, the fuzz campaign compiling thousands) does not
    keep every program's rules: at most TEMPLATES per thread, and a program evaluated again after its
    template was dropped gives what it gave before."""
    import copy
    from pathlib import Path

    from engine.backends import pydatalog as backend
    small = compile_policy(Path(__file__).parent / "data" / "policy_small")  # cheap to build again and again
    programs = [copy.deepcopy(bundled)] + [copy.deepcopy(small) for _ in range(6)]  # seven distinct programs
    references = [alone(lambda p=p: evaluate(p, busy_case(), AT)) for p in (bundled, small)]
    assert outcome(references[0]) != outcome(references[1])

    def run() -> list:
        seen = []
        for k, policy in enumerate(programs + programs[:1]):  # the first again, long after it was dropped
            got = evaluate(policy, busy_case(), AT)
            assert outcome(got) == outcome(references[0 if k % len(programs) == 0 else 1])
            seen.append(len(backend._loaded.templates))
        return seen

    sizes: list = []
    worker = threading.Thread(target=lambda: sizes.extend(run()))
    worker.start()
    worker.join()
    assert sizes and max(sizes) == backend.TEMPLATES
