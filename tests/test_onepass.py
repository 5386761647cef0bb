"""`clause test` and `clause diff` in one DuckDB pass give exactly what pyDatalog gives case by case.

engine/regression/onepass.py evaluates every case together (ids prefixed per case, each child judged
at its own case's as_of) and hands each case its rows back; failing cases are re-run by pyDatalog for
the report. These tests run both paths and compare everything they produce.
"""
from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import main
from compiler.policy import BUNDLED, compile_policy
from engine.backends.cases import choose_engine, evaluate_cases
from engine.regression import onepass, suite
from engine.regression.diff import diff_policies, render_json
from engine.regression.suite import Suite, junit_xml, suite_text
from facts.yamlcase import case_files, load_cases
from tests.test_diff import edit_policy, write_cases
from tests.test_regress import cp_case
from tests.evaluated import case_evaluation, policy as bundled_policy

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def policy():
    return bundled_policy()


@pytest.fixture(scope="module")
def bundled():
    cases = load_cases([ROOT / "tests" / "cases", ROOT / "examples"])
    assert len(cases) > 100
    return cases


def _obligation_fields(obs) -> list[tuple]:
    """Every field of every obligation, times as (instant, London wall clock), in order."""
    def cell(v):
        return (v.timestamp(), v.isoformat()) if hasattr(v, "timestamp") else v
    return [tuple(cell(getattr(o, f)) for f in o.__dataclass_fields__) for o in obs]


def test_every_bundled_case_both_paths_exactly(policy, bundled, monkeypatch):
    """Suite.run by pyDatalog (case by case) and by DuckDB (one pass): every case's obligations (every
    field, in order), episodes and verdict are the same, and so is the whole report. The pyDatalog
    side reads each case's evaluation from tests/evaluated.py, which the other every-case tests share."""
    shared = {id(c.facts): case_evaluation(Path(c.span.file))[1] for c in bundled}
    with monkeypatch.context() as m:
        m.setattr(suite, "evaluate", lambda policy_, facts, at: shared[id(facts)])
        ref = Suite.run(policy, bundled, engine="pydatalog")
    duck = Suite.run(policy, bundled, engine="duckdb")
    assert duck.disagreed == []
    assert [r.case.name for r in duck.results] == [r.case.name for r in ref.results]
    for a, b in zip(ref.results, duck.results):
        assert _obligation_fields(b.evaluation.obligations) == _obligation_fields(a.evaluation.obligations), a.case.name
        assert b.evaluation.obligations == a.evaluation.obligations, a.case.name
        assert b.evaluation.episodes == a.evaluation.episodes, a.case.name
        assert b.evaluation.at == a.evaluation.at and b.passed == a.passed, a.case.name
    assert suite_text(duck, verbose=True) == suite_text(ref, verbose=True)
    assert duck.to_json() == ref.to_json()


def test_outcomes_strip_the_prefix_and_keep_cases_apart(policy, tmp_path):
    """Two cases with the same ids and different as_of: each gets only its own rows, unprefixed, judged
    at its own time (the second, a week later, has the 7-day CP conference; the first has not)."""
    early = cp_case(tmp_path, "obligations: []", "early")
    late = cp_case(tmp_path, "obligations: []", "late")
    late.write_text(late.read_text().replace("as_of: 2024-03-12T09:00", "as_of: 2024-03-19T09:00"))
    early.write_text(early.read_text().replace("as_of: 2024-03-12T09:00", "as_of: 2024-03-05T09:00"))
    cases = load_cases([early, late])
    got = evaluate_cases(policy, [(c.facts, c.as_of) for c in cases])
    from engine.evaluation import evaluate
    for case, outcome in zip(cases, got):
        ref = evaluate(policy, case.facts, case.as_of)
        assert outcome.obligations == ref.obligations and outcome.episodes == ref.episodes
        assert {o.child for o in outcome.obligations} == {"C1"}
    assert not any(o.action == "missing_cp_conference" for o in got[0].obligations)
    assert any(o.action == "missing_cp_conference" for o in got[1].obligations)


def failing_cases(tmp_path: Path) -> Path:
    folder = tmp_path / "cases"
    cp_case(folder, """
        obligations:
          - action: missing_cp_conference
            actor: iro
    """, "a-pass")
    cp_case(folder, """
        obligations:
          - action: missing_cp_conference
            actor: team_manager
          - action: return_interview
    """, "b-missing")
    cp_case(folder, """
        not_obligations:
          - action: missing_cp_conference
    """, "c-unexpected")
    cp_case(folder, """
        episodes:
          - id: E1
            category: absent
    """, "d-episode")
    return folder


def test_failure_reports_are_pydatalogs(policy, tmp_path):
    """Failing cases are reported exactly as the pyDatalog path reports them (nearest obligations,
    explanations of unexpected ones, JUnit), times aside."""
    cases = load_cases([failing_cases(tmp_path)])
    ref, duck = Suite.run(policy, cases, engine="pydatalog"), Suite.run(policy, cases, engine="duckdb")
    assert (duck.passed, duck.failed, duck.disagreed) == (1, 3, [])
    assert suite_text(duck, verbose=True) == suite_text(ref, verbose=True)
    assert duck.to_json() == ref.to_json()
    assert "unexpected: iro must missing_cp_conference" in suite_text(duck)

    def untimed(suite):
        return Suite([replace(r, seconds=0.0) for r in suite.results], suite.errors)
    assert junit_xml(untimed(duck)) == junit_xml(untimed(ref))


def test_cli_engines_agree(tmp_path):
    folder = failing_cases(tmp_path)
    runner = CliRunner()
    out = {e: runner.invoke(main, ["test", str(folder), "--engine", e, "--format", "json"]) for e in ("duckdb", "pydatalog")}
    assert out["duckdb"].exit_code == out["pydatalog"].exit_code == 1
    assert out["duckdb"].stdout == out["pydatalog"].stdout


def test_cli_obligations_on_many_cases_is_one_duckdb_pass(monkeypatch):
    """`clause obligations` on a folder of cases: above the crossover, auto evaluates them all in one
    DuckDB pass (one start-up, not one a case) and prints pyDatalog's bytes, redacted or not."""
    import engine.backends
    from engine.backends import duck
    started = []
    real = duck.evaluate_duck
    monkeypatch.setattr(duck, "evaluate_duck", lambda *a, **k: started.append(1) or real(*a, **k))
    monkeypatch.setattr(engine.backends, "THRESHOLD", 4)  # the three examples hold more episodes than that together
    runner = CliRunner()
    folder = str(ROOT / "examples")
    for extra in ([], ["--redact"]):
        started.clear()
        auto = runner.invoke(main, ["obligations", folder, "--format", "csv", *extra])
        assert auto.exit_code == 0, auto.output
        assert started == [1]
        reference = runner.invoke(main, ["obligations", folder, "--format", "csv", "--engine", "pydatalog", *extra])
        assert auto.stdout == reference.stdout and auto.stdout.count("\n") > 20


def test_auto_chooses_by_the_cases_episodes(bundled):
    from engine.backends import THRESHOLD
    assert choose_engine("auto", [c.facts for c in bundled[:1]]) == "pydatalog"
    assert sum(len(c.facts.episodes) for c in bundled) > THRESHOLD
    assert choose_engine("auto", [c.facts for c in bundled]) == "duckdb"
    assert choose_engine("pydatalog", [c.facts for c in bundled]) == "pydatalog"


def test_diff_both_paths(policy, tmp_path):
    """A threshold and an actor change: the one-pass diff equals the case-by-case one, on the diff
    tests' cases and a sample of the bundled ones."""
    head_dir = tmp_path / "head"
    shutil.copytree(BUNDLED, head_dir)
    edit_policy(head_dir)
    head = compile_policy(head_dir)
    sample = case_files([ROOT / "tests" / "cases"])[::20]  # only the sampled files are read
    cases = load_cases([write_cases(tmp_path / "cases")]) + load_cases(sample)
    ref = diff_policies(policy, head, cases, engine="pydatalog")
    duck = diff_policies(policy, head, cases, engine="duckdb")
    assert ref.count("changed") + ref.count("added") + ref.count("removed") > 0
    assert render_json(duck) == render_json(ref)
    assert duck == ref


def test_coverage_by_the_reference_interpreter_is_pydatalogs(policy, bundled, tmp_path):
    """--coverage without --engine pydatalog: the same coverage report (fired, checked, conditions) and
    the same case results, failures included, as pyDatalog case by case."""
    from engine.regression.coverage import Coverage
    cases = bundled[::10] + load_cases([failing_cases(tmp_path)])
    reports, suites = [], []
    for engine in ("pydatalog", "auto"):
        cov = Coverage(policy)
        suites.append(Suite.run(policy, cases, cov.observe, engine=engine))
        reports.append(cov.report().to_json())
    assert reports[0] == reports[1]
    assert suites[1].disagreed == [] and suites[1].failed == 3
    assert suite_text(suites[1], verbose=True) == suite_text(suites[0], verbose=True)
    assert suites[1].to_json() == suites[0].to_json()


def test_a_disagreement_is_named_and_pydatalogs_result_kept(policy, tmp_path, monkeypatch):
    """Should the one pass fail a case pyDatalog passes (a bug the differential tests rule out), the
    case is named and reported as pyDatalog judges it, never silently."""
    cases = load_cases([failing_cases(tmp_path)])
    real = onepass.evaluate_cases

    def wrong(policy, runs):
        return [replace(o, obligations=()) for o in real(policy, runs)]
    monkeypatch.setattr(onepass, "evaluate_cases", wrong)
    suite = Suite.run(policy, cases, engine="duckdb")
    assert suite.disagreed == ["a-pass"]
    # a-pass: re-run and passed by pyDatalog; c-unexpected passes on no obligations at all (what a false
    # pass looks like: only the differential tests guard against that)
    assert [r.passed for r in suite.results] == [True, False, True, False]
    result = CliRunner().invoke(main, ["test", str(tmp_path / "cases"), "--engine", "duckdb"])
    assert "warning: case 'a-pass' failed on DuckDB but pyDatalog passes it" in result.stderr
