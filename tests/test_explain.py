"""Why and why not: explanation content a practitioner relies on, and that it is always sound."""
from __future__ import annotations

import json
import typing
from pathlib import Path

import pytest
from hypothesis import given, strategies as st
from click.testing import CliRunner

from cli.main import main
from compiler import ast
from engine import evaluate
from engine.explain.nodes import Node
from engine.explain.why import why, why_not
from engine.explain.words import DENIALS, denied, headline
from facts.yamlcase import case_files, load_case
from tests.evaluated import case_evaluation, policy as bundled_policy

POLICY = bundled_policy()
CASES = Path("tests/cases")


def _evaluate(name: str):
    case = load_case(next(CASES.rglob(f"{name}.yaml")))
    return case, evaluate(POLICY, case.facts, case.as_of)


def _texts(tree: Node) -> list[str]:
    return [headline(n) for n in tree.walk()]


def test_override_by_exception_names_both_clauses_quotes_and_facts() -> None:
    case, result = _evaluate("mfh-ooh-72-hours-saturday-0000-ooh-team-leader")
    [ob] = [o for o in result.obligations if o.action == "strategy_discussion"]
    tree = why(result, ob)
    clause = next(n for n in tree.walk() if n.kind == "clause")
    assert clause.clause.id == "LMCP-MFH-1"
    assert any(q.startswith("Child has been missing 72 hours – strategy discussion/meeting to be held in MASH")
               for q in clause.clause.says)
    exception = next(n for n in tree.walk() if n.kind == "exception" and "actor replaced" in headline(n))
    assert exception.clause.id == "LMCP-MFH-OOH" and "ooh_team_leader" in headline(exception)
    assert "OOH's TL's will hold the strategy discussion" in exception.clause.says[0]
    texts = _texts(tree)
    assert any("72 hours after reported is Sat 08 Jun 2024 00:00, a weekend or bank holiday" in t for t in texts)
    assert any(t.startswith("reported Wed 05 Jun 2024 00:00, not returned by Sat 08 Jun 2024 00:00: 72 hours") for t in texts)
    fact = next(n for n in tree.walk() if n.kind == "fact")
    assert fact.span.file == str(next(CASES.rglob("mfh-ooh-72-hours-saturday-0000-ooh-team-leader.yaml")))


def test_window_count_cites_the_episodes_counted() -> None:
    case, result = _evaluate("mfh-2-third-episode-exactly-30-days-with-concerns")
    [ob] = [o for o in result.obligations if o.clause == "LMCP-MFH-2"]
    tree = why(result, ob)
    window = next(n for n in tree.walk() if n.kind == "condition" and "3 times within 30 days" in headline(n))
    [fact] = window.children
    assert headline(fact).startswith("3 episodes of child C1 reported in the 30 days up to")
    assert headline(fact).count("2024") == 4  # the episode's own date and the three counted


def test_concerns_window_cites_the_episode_with_concerns() -> None:
    case, result = _evaluate("mfh-2-concerns-on-first-episode-count")
    [ob] = [o for o in result.obligations if o.clause == "LMCP-MFH-2"]
    tree = why(result, ob)
    concerns = next(n for n in tree.walk() if n.kind == "condition"
                    and headline(n) == "the child has had safeguarding_concerns within 30 days")
    [fact] = concerns.children
    assert concerns.holds and headline(fact).startswith("safeguarding_concerns on episode E1 (reported Thu 02 May 2024 10:00)")
    assert fact.span.line == next(e for e in case.facts.episodes if e.id == "E1").span.line  # the first episode, not the third


def test_why_not_says_no_episode_in_the_window_had_concerns() -> None:
    case, result = _evaluate("mfh-2-concerns-before-the-window-do-not-count")
    tree = why_not(result, "C1", "strategy_discussion")
    mfh2 = next(n for n in tree.children if n.kind == "candidate" and n.clause.id == "LMCP-MFH-2" and "E3" in headline(n))
    concerns = next(c for c in mfh2.walk() if c.kind == "condition" and "had safeguarding_concerns within 30 days" in headline(c))
    assert not concerns.holds
    assert headline(concerns.children[0]).startswith("no episode of child C1 reported in the 30 days up to Sat 15 Jun 2024 10:00")


@given(st.sampled_from(typing.get_args(ast.Atom)).flatmap(st.from_type))
def test_every_kind_of_condition_can_be_denied_in_plain_words(atom: ast.Atom) -> None:
    """A negated condition is said as a denial ("the child has not returned"), never as the language's
    "not the child has returned"; a new kind of condition without its denial fails here."""
    assert set(DENIALS) == set(typing.get_args(ast.Atom))
    said, no = ast.describe(atom), denied(atom)
    assert no != said and not no.startswith("not ")
    assert " not " in f" {no} " or (isinstance(atom, ast.NoStatus) and no == "the child has a status")


def test_negated_condition_holds_and_says_so() -> None:
    case, result = _evaluate("cin-1-missing-72-hours-team-manager-discussion")
    [ob] = [o for o in result.obligations if o.clause == "LMCP-CIN-1"]
    tree = why(result, ob)
    negated = {headline(n): n for n in tree.walk() if n.kind == "condition" and n.negated}
    assert {"the child does not have status child_protection_plan", "the child does not have status looked_after"} <= set(negated)
    for n in negated.values():
        assert n.holds and headline(n.children[0]).startswith("child C1: statuses child_in_need")
    # the derived category is explained by its own clause, with the exception that did not apply
    category = next(n for n in tree.walk() if n.kind == "clause" and n.clause.id == "LMCP-CAT-1")
    assert headline(category).startswith("category missing:")
    absent = next(n for n in category.children if n.kind == "exception")
    assert headline(absent) == "exception LMCP-CAT-2 did not apply"
    assert [headline(c) for c in absent.children if not c.holds] == ["the child has status looked_after",
                                                                "the episode has whereabouts_known"]


def test_why_not_ranks_candidate_clauses_nearest_first() -> None:
    case, result = _evaluate("mfh-2-first-episode-31-days-earlier-only-two")
    tree = why_not(result, "C1", "strategy_discussion")
    assert not tree.holds and "not required" in headline(tree)
    candidates = [n for n in tree.children if n.kind == "candidate"]
    ids = [n.clause.id for n in candidates]
    assert {"LMCP-MFH-1", "LMCP-MFH-2", "LMCP-MFH-3"} <= set(ids)
    failed = [n.failed for n in candidates if n.outcome == "failed"]
    assert failed == sorted(failed)  # nearest miss first
    mfh2 = next(n for n in candidates if n.clause.id == "LMCP-MFH-2" and "1 of" in headline(n))
    window = next(c for c in mfh2.children if "3 times within 30 days" in headline(c))
    assert not window.holds and headline(window.children[0]).startswith("2 episodes of child C1")


def test_why_not_reports_a_replacing_exception() -> None:
    case, result = _evaluate("cp-1-missing-72-hours-team-manager-discussion")
    tree = why_not(result, "C1", "cp_conference")
    assert any("CFM-CP-3" in headline(n) for n in tree.children)


@pytest.mark.parametrize("path", case_files([CASES]), ids=lambda p: p.stem)  # one item a case: spread over the workers
def test_every_obligation_of_every_case_is_explained_from_its_own_facts(path: Path) -> None:
    case, result = case_evaluation(path)
    spans = {x.span for x in (*case.facts.children, *case.facts.episodes, *case.facts.actions)}
    spans |= {h.span for c in case.facts.children for h in c.statuses + c.flags}  # a status's own record
    spans |= {s for x in (*case.facts.children, *case.facts.episodes) for _, s in x.field_spans}  # a field's own line
    for ob in result.obligations:
        tree = why(result, ob)
        clauses = {n.clause.id for n in tree.walk() if n.kind == "clause"}
        assert ob.clause in clauses, (path, ob)
        leaves = [n for n in tree.walk() if not n.children and n.kind in ("fact", "condition")]
        assert all(n.kind == "fact" and n.span in spans for n in leaves if n.kind == "fact"), (path, ob)
        assert all(n.span in spans for n in tree.walk() if n.kind == "fact"), (path, ob)


@pytest.mark.parametrize("fmt", ["text", "json", "html"])
def test_cli_why_formats(fmt: str) -> None:
    case = "examples/cp-plan-missing-with-parents.yaml"
    out = CliRunner().invoke(main, ["why", case, "--child", "C1", "--action", "missing_cp_conference", "--format", fmt])
    assert out.exit_code == 0
    if fmt == "json":
        data = json.loads(out.stdout)
        assert data["schema"] == "clause.why/1"
        [case] = data["cases"]
        assert case["kind"] == "case" and case["text"].startswith("case cp-plan-missing-with-parents-eight-days")
        [tree] = case["children"]
        assert tree["kind"] == "obligation" and tree["children"][-1]["clause"]["id"] == "LMCP-CPP-2"
    elif fmt == "html":
        assert out.stdout.startswith("<!doctype html>") and "<details open>" in out.stdout and "<script" not in out.stdout
    else:
        assert "LMCP-CPP-2" in out.stdout and "Missing Child Protection Conference will be convened" in out.stdout


def test_cli_why_without_the_obligation_points_to_why_not() -> None:
    out = CliRunner().invoke(main, ["why", "examples/cp-plan-missing-with-parents.yaml", "--child", "C1",
                                    "--action", "return_interview"])
    assert out.exit_code == 1 and "clause why-not" in out.output


def test_cli_why_on_a_folder_names_each_case() -> None:
    out = CliRunner().invoke(main, ["why", "examples", "--child", "C3", "--action", "return_interview"])
    assert out.exit_code == 0
    assert out.stdout.startswith("case looked-after-third-episode-returned, as at 2024-03-21T09:00")


def test_why_cites_the_line_each_fact_is_written_on() -> None:
    """In a case file a fact is cited at its own field's line (with_parents on 13, born on 6, reported on 12),
    the record's line where the field is not written; a CSV row is one line, so a bulk record keeps no field spans."""
    out = CliRunner().invoke(main, ["why", "examples/cp-plan-missing-with-parents.yaml", "--child", "C1",
                                    "--action", "strategy_discussion"]).output
    at = "[examples/cp-plan-missing-with-parents.yaml:"
    for line in ("episode E1 has with_parents  " + at + "13]", "was 11 on 2024-03-04  " + at + "6]",
                 "not returned by Tue 12 Mar 2024 09:00: 193 hours 0 minutes  " + at + "12]",
                 "72 hours after reported is Thu 07 Mar 2024 08:00, a working day  " + at + "12]",
                 "episode E1: whereabouts_known not recorded  " + at + "10]"):
        assert line in out, line


def test_a_bulk_record_keeps_no_field_spans(tmp_path: Path) -> None:
    from facts.bulk import load_bulk, write_bulk
    from facts.synth import synthesize
    write_bulk(synthesize(3, 1), tmp_path)
    facts = load_bulk(tmp_path)
    assert facts.episodes and not any(r.field_spans for r in (*facts.children, *facts.episodes))


def test_cli_explain_unknown_episode_exits_2() -> None:
    out = CliRunner().invoke(main, ["why-not", "examples", "--child", "C3", "--action", "return_interview",
                                    "--episode", "NOPE"])
    assert out.exit_code == 2 and "X003" in out.output and "E31, E32, E33" in out.output


def test_cli_explain_unknown_child_and_action_exit_2() -> None:
    runner = CliRunner()
    child = runner.invoke(main, ["why-not", "examples", "--child", "C9", "--action", "return_interview"])
    assert child.exit_code == 2 and "examples: error[X001]: --child 'C9': no child of that id in this input" in child.output
    action = runner.invoke(main, ["why-not", "examples", "--child", "C1", "--action", "return_intervew"])
    assert action.exit_code == 2 and "did you mean 'return_interview'" in action.output


def test_cli_why_on_a_bulk_folder_names_the_nearest_children_first_in_id_order(tmp_path: Path) -> None:
    """`why` reads one child's rows, so a mistyped id found nothing to suggest from; and of the ids as near as each
    other, C000101 came before the C000001 meant. Both commands now give the same, id-ordered, suggestions."""
    from facts.bulk import write_bulk
    from facts.synth import synthesize
    write_bulk(synthesize(120, 3), tmp_path)
    hint = "did you mean 'C000001', 'C000010', 'C000011'?"
    why_ = CliRunner().invoke(main, ["why", str(tmp_path), "--child", "C00001", "--action", "assess_risk"])
    assert why_.exit_code == 2 and f"{tmp_path}: error[X001]: --child 'C00001'" in why_.output and hint in why_.output
    table = CliRunner().invoke(main, ["obligations", str(tmp_path), "--child", "C00001", "--at", "2025-01-01T00:00"])
    assert table.exit_code == 2 and hint in table.output
    hidden = CliRunner().invoke(main, ["why", str(tmp_path), "--child", "C00001", "--action", "assess_risk", "--redact"])
    assert hidden.exit_code == 2 and "C000001" not in hidden.output  # a hint would undo the pseudonyms


def test_the_nearest_ids_are_the_first_in_id_order_however_many_tie() -> None:
    """Of 100,000 ids, hundreds are as near to C0000 as each other; the first in id order are named."""
    from engine.explain.inquiry import no_such_child
    known = [f"C{i:06}" for i in range(1, 100_001)]
    hint = no_such_child("folder", "C0000", known).diagnostics[0].hint
    assert hint == "did you mean 'C000001', 'C000002', 'C000003'?"


def test_cli_why_on_a_bulk_folder_explains_exactly_the_batch_obligations(tmp_path: Path) -> None:
    """`why` reads only the asked child's rows, yet explains the obligations the whole folder's run
    gives that child, with a status whenever the folder records any action (even none of theirs)."""
    from facts.bulk import load_bulk, write_bulk
    from facts.synth import synthesize
    from facts.model import FactSet
    facts = synthesize(8, 11)  # eight children: one pyDatalog chunk holding the two asked about and six others
    idle, busy = sorted({e.child for e in facts.episodes} & {a.child for a in facts.actions})[:2]
    write_bulk(FactSet(facts.children, facts.episodes, tuple(a for a in facts.actions if a.child != idle)), tmp_path)
    assert not load_bulk(tmp_path, idle).actions
    at = ["--at", "2025-01-01T00:00"]
    runner = CliRunner()
    # the whole folder's run, once: its rows for each child are what `obligations --child` prints
    batch = json.loads(runner.invoke(main, ["obligations", str(tmp_path), "--format", "json", "--engine", "pydatalog",
                                            *at]).stdout)
    for child in (idle, busy):
        rows = [o for run in batch for o in run["obligations"] if o["action"] == "assess_risk" and o["child"] == child]
        assert rows, child  # each child has the duty, so there is something to explain
        out = runner.invoke(main, ["why", str(tmp_path), "--child", child, "--action", "assess_risk", "--format", "json", *at])
        assert out.exit_code == 0, out.output
        [case] = json.loads(out.stdout)["cases"]
        trees = case["children"]
        assert len(trees) == len(rows) and all(r["status"] for r in rows)
        statuses = [n["status"] for t in trees for n in t["children"] if n["kind"] == "status"]
        assert statuses == [r["status"] for r in rows]
