"""DuckDB back-end plumbing: the fast CSV reader, the streamed output, the SQL text, the CLI options.

The fast reader either loads exactly what the reference loader (facts.bulk.load_bulk) loads
or declines, and then the reference loader's diagnostics are what the user sees. The
streamed table, JSON and CSV are byte for byte engine.output.render's.
"""
from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from cli.main import main
from compiler.codegen import Cmp, Lit, Program, Rule, Var
from compiler.core.diagnostics import ClauseError, Span
from compiler.policy import compile_policy
from compiler.sql import literal, translate
from engine.output import render
from engine.backends import duck_load
from engine.backends.batch import Run
from engine.backends.duck import evaluate_duck, run_rules
from engine.output.stream import WRITERS
from facts.bulk import load_bulk, write_bulk
from facts.model import Child, Episode, FactSet
from facts.synth import synthesize
from compiler.core.london import parse_instant
from tests.evaluated import policy as bundled_policy

YEAR_END = parse_instant("2025-01-01T00:00")
CHILDREN = "id,born,statuses,flags,responsible_authority,placed_in\n"
EPISODES = "id,child,reported,returned,whereabouts_known,with_parents,safeguarding_concerns,police_risk,inspector_risk,victim_of_crime\n"


@pytest.fixture(scope="module")
def policy():
    return bundled_policy()


def tables(con) -> dict:
    return {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall()
            for t in ("in_children", "in_episodes", "in_actions", "in_statuses", "in_flags")}


def folder(tmp_path: Path, children: str, episodes: str, actions: str | None = None) -> Path:
    (tmp_path / "children.csv").write_text(children, encoding="utf-8", newline="")
    (tmp_path / "episodes.csv").write_text(episodes, encoding="utf-8", newline="")
    if actions is not None:
        (tmp_path / "actions.csv").write_text(actions, encoding="utf-8", newline="")
    return tmp_path


VALID = [
    # columns in another order, optional ones left out, blank lines, list items with spaces, yes/1 booleans,
    # times with seconds, fractions, Z and other offsets, the autumn fold, the spring gap, CRLF line ends
    ("id,born,statuses,flags\nC1,2010-01-02,looked_after;child_in_need;looked_after,cse; cce\n\nC2,2011-12-31,,\n",
     "child,id,reported,returned,with_parents,police_risk\nC1,E1,2024-10-27T01:30,2024-10-27T01:30+00:00,yes,high\n"
     "C2,E2,2024-03-31 01:30,,1,\nC2,E3,2024-06-01T12:00:30.25Z,2024-06-02t12:00+0100,No,low\nC1,E4,2024-07-01T09:00-05,,,\n"),
    ("id,born\r\nC1,2010-01-02\r\n", "id,child,reported\r\nE1,C1,2024-01-01T00:00\r\n"),
]
INVALID = [
    ("id,born\nC1,2010-02-30\n", "id,child,reported\nE1,C1,2024-01-01T00:00\n"),            # no such date
    ("id,born\nC1,2010-01-02\n", "id,child,reported\nE1,C2,2024-01-01T00:00\n"),            # unknown child
    ("id,born\nC1,2010-01-02\nC1,2011-01-02\n", "id,child,reported\nE1,C1,2024-01-01T00:00\n"),  # duplicate id
    ("id,born\nC1,2010-01-02\n", "id,child,reported,returned\nE1,C1,2024-01-02T00:00,2024-01-01T00:00\n"),
    ("id,born\nC1,2010-01-02,\n", "id,child,reported\nE1,C1,2024-01-01T00:00\n"),           # row longer than header
    ("id,born\nC1,2010-01-02\n", "id,child,reported\nE1,C1,2024-01-01T24:00\n"),            # no such time
    ("id,born\nC1,2010-01-02\n", "id,child,reported,police_risk\nE1,C1,2024-01-01T10:00,severe\n"),
    ("id,born,flags\nC1,2010-01-02,cse;unknown\n", "id,child,reported\nE1,C1,2024-01-01T10:00\n"),
    ("id,born,colour\nC1,2010-01-02,red\n", "id,child,reported\nE1,C1,2024-01-01T10:00\n"),  # unknown column
    ("id,born\nC1,2010-01-02\n", "id,child,reported\nE1,C1,2024-13-01\n"),                  # no such date alone
    ("id,born\nC1,2010-01-02\n", "id,child,reported,returned\nE1,C1,2024-01-02T10:00,2024-01-01\n"),  # back the day before
    ("id,born\nC1,2010-01-02\n", "id,child,reported\nE1,C1,2010-01-01T23:30\n"),            # reported before birth
    ("id,born\nTrue,2010-01-02\n", "id,child,reported\nE1,True,2024-01-01T10:00\n"),        # reserved word
]


DAYS = ("id,born\nC1,2010-01-02\n",  # dates alone: whole days, narrowed by the other moment (facts/moments.py)
        "id,child,reported,returned\nE1,C1,2024-01-01,\nE2,C1,2024-03-31,2024-03-31\nE3,C1,2024-10-27T14:00,2024-10-27\n"
        "E4,C1,2024-06-01,2024-06-01T09:30\n")


def test_fast_reader_reads_dates_alone_as_the_reference_does(tmp_path):
    """A date-only report or return: the fast reader takes it (never declines) and gives the reference's
    earliest and latest readings, on clock-change days too."""
    path = folder(tmp_path, *DAYS)
    fast, ref = duckdb.connect(), duckdb.connect()
    assert duck_load.load_folder(fast, path)
    duck_load.load_factset(ref, load_bulk(path))
    assert tables(fast) == tables(ref)
    e3 = [e for e in load_bulk(path).episodes if e.id == "E3"][0]
    assert e3.returned == e3.reported and e3.returned_until.hour == 23


@pytest.mark.parametrize("children,episodes", VALID)
def test_fast_reader_loads_what_the_reference_loads(tmp_path, children, episodes):
    path = folder(tmp_path, children, episodes,
                  "action,child,episode,by,at\nreturn_interview,C1,,protect_team,2024-11-01T10:00\n")
    fast = duckdb.connect()
    if not duck_load.load_folder(fast, path):
        pytest.skip("declined (allowed): the reference loader then reads it")
    ref = duckdb.connect()
    duck_load.load_factset(ref, load_bulk(path))
    assert tables(fast) == tables(ref)


def test_fast_reader_takes_plain_extracts(tmp_path):
    write_bulk(synthesize(30, 3), tmp_path)
    assert duck_load.load_folder(duckdb.connect(), tmp_path)


@pytest.mark.parametrize("children,episodes", INVALID)
def test_invalid_extracts_get_the_reference_diagnostics(policy, tmp_path, children, episodes):
    path = folder(tmp_path, children, episodes)
    assert not duck_load.load_folder(duckdb.connect(), path)
    with pytest.raises(ClauseError) as expected:
        load_bulk(path)
    with pytest.raises(ClauseError) as got:
        evaluate_duck(policy, path, YEAR_END)
    assert [d.code for d in got.value.diagnostics] == [d.code for d in expected.value.diagnostics]


@pytest.fixture(scope="module")
def year(policy):
    facts = synthesize(60, 11)
    return facts, evaluate_duck(policy, facts, YEAR_END)


@pytest.mark.parametrize("fmt", ["table", "json", "csv"])
@pytest.mark.parametrize("child,status", [(None, None), ("C000003", None), (None, "overdue"), ("nobody", None)])
def test_streamed_output_is_render_output(year, fmt, child, status):
    facts, ev = year
    run = Run("bulk", None, ev)
    expected = {"table": render.table, "json": render.as_json, "csv": render.as_csv}[fmt](
        [(run.for_child(child), run.obligations(child=child, status=status))])
    buf = io.StringIO()
    WRITERS[fmt](ev, "bulk", buf.write, child, status)
    assert buf.getvalue() == expected


def test_streamed_output_without_status_and_with_fold_times(policy):
    fold = parse_instant("2024-10-27T01:30+00:00")
    facts = FactSet((Child("Ç1", date(2012, 1, 1), ("looked_after",)),),
                    (Episode("É1", "Ç1", parse_instant("2024-10-24T01:30"), fold, police_risk="low"),))
    ev = evaluate_duck(policy, facts, parse_instant("2024-11-01T00:00"))
    run = Run("case", None, ev)
    for fmt, fn in (("table", render.table), ("json", render.as_json), ("csv", render.as_csv)):
        buf = io.StringIO()
        WRITERS[fmt](ev, "case", buf.write)
        assert buf.getvalue() == fn([(run, run.obligations())])


def test_sql_text_is_deterministic_and_quotes_constants(policy):
    assert translate(policy.program).to_text() == translate(compile_policy().program).to_text()
    assert literal("it's") == "'it''s'" and literal(72) == "72"
    c, e = Var("C"), Var("E")
    evil = "x'); DROP TABLE child; --"
    rule = Rule(Lit("obligation", (c, e, evil, "a", "must", "K", "")),
                (Lit("episode", (e, c)), Lit("elapsed", (e, Var("M"))), Cmp(Var("M"), ">=", 60),
                 Lit("flag", (c, evil), True)), "K", Span(""))
    text = translate(Program((rule,), (), ())).to_text()
    assert "'x''); DROP TABLE child; --'" in text and "x.c1 >= 60" in text and "WHERE t0.f0 AND NOT t0.f1" in text


def _obligation_sql(sql) -> str:
    return next(s.sql for s in sql.statements() if s.table == "obligation")


def test_tests_of_the_scope_are_feature_columns_and_a_literal_reaching_the_head_stays_a_join():
    c, e, level = Var("C"), Var("E"), Var("L")
    rule = Rule(Lit("risk_by", (e, level, "K")), (Lit("episode", (e, c)), Lit("episode_value", (e, "police_risk", level)),
                                                  Lit("status", (c, "looked_after")), Lit("known", (c,), True)), "K", Span(""))
    sql = translate(Program((rule,), (), ()))
    [features] = [s.sql for s in sql.statements() if s.table in sql.features]
    assert "FROM status AS x WHERE x.c1 = 'looked_after'" in features and "FROM known AS x" in features
    body = next(s.sql for s in sql.statements() if s.table == "risk_by")
    assert "CROSS JOIN episode_value AS t1" in body and "t1.c2 AS c1" in body and "t0.f0 AND NOT t0.f1" in body


def test_rules_differing_in_constants_share_one_select_and_a_relation_stays_a_set():
    c, e = Var("C"), Var("E")
    rules = tuple(Rule(Lit("obligation", (c, e, "locate_child", actor, "must", "K", "")),
                       (Lit("episode", (e, c)), Lit("status", (c, status)), Lit("flag", (c, "cse"), True)), "K", Span(""))
                  for status, actor in (("looked_after", "police"), ("child_protection_plan", "police"),
                                        ("looked_after", "iro")))
    sql = translate(Program(rules, (), ()))
    # the two looked_after rules differ only in their actor, so in their head's number (the heads numbered in
    # name order): one SELECT over VALUES; the other tests another status
    assert sql.heads == (("locate_child", "iro", "must", "K", ""), ("locate_child", "police", "must", "K", ""))
    assert _obligation_sql(sql).count("SELECT") == 2 and "(VALUES (1), (2))" in _obligation_sql(sql)
    con = duckdb.connect(":memory:")
    for pred, types in sql.schema.items():
        if pred not in sql.derived:
            con.execute(f"CREATE TABLE {pred} ({', '.join(f'c{i} {t}' for i, t in enumerate(types))})")
    # ids as the engine stores them, integer keys (compiler/sql_keys.py KEY): children C1, C2 and episodes E1, E2 are 1, 2
    con.execute("INSERT INTO episode VALUES (1, 1), (2, 2)")
    con.execute("INSERT INTO status VALUES (1, 'looked_after'), (1, 'child_protection_plan'), (2, 'looked_after')")
    con.execute("INSERT INTO flag VALUES (2, 'cse')")
    run_rules(con, sql)
    rows = con.execute("SELECT c0, c1, c3 FROM obligation ORDER BY ALL").fetchall()
    assert rows == [(1, 1, "iro"), (1, 1, "police")]  # C1 matches the police rule twice: one row


def test_obligations_are_stored_numbered_and_read_whole_through_the_view():
    c, e, a = Var("C"), Var("E"), Var("A")
    head = Rule(Lit("obligation", (c, e, "locate_child", "police", "must", "K", "")), (Lit("episode", (e, c)),), "K", Span(""))
    sql = translate(Program((head,), (), ()))
    con = duckdb.connect(":memory:")
    con.execute("CREATE TABLE episode (c0 INTEGER, c1 INTEGER)")  # ids as keys: episode 7 of child 3
    con.execute("INSERT INTO episode VALUES (7, 3)")
    run_rules(con, sql)
    assert con.execute("SELECT * FROM obligation_rows").fetchall() == [(3, 7, 1)]
    assert con.execute("SELECT * FROM obligation").fetchall() == [(3, 7, "locate_child", "police", "must", "K", "")]
    # a head whose actor is a variable has no number the translation could give it: refused, not guessed
    loose = Rule(Lit("obligation", (c, e, "locate_child", a, "must", "K", "")),
                 (Lit("episode", (e, c)), Lit("child_field", (c, "actor", a))), "K", Span(""))
    with pytest.raises(ValueError, match="must name its action, actor"):
        translate(Program((loose,), (), ()))


def test_the_output_tables_share_no_column_but_the_head_number(policy):
    """The output's SQL names the columns of occ, heads and the ids' names bare (engine/meaning/lifecycle.py
    `NAMED`): a name two held would silently read one of them, so none may but each join's own."""
    facts = FactSet((Child("C1", date(2010, 1, 1), ("looked_after",)),), (Episode("E1", "C1", parse_instant("2024-03-01T10:00")),))
    ev = evaluate_duck(policy, facts, parse_instant("2024-03-05T10:00"))
    try:
        names = [{r[0] for r in ev.con.execute(f"DESCRIBE {table}").fetchall()}
                 for table in ("occ", "heads", "child_names", "episode_names")]
    finally:
        ev.close()
    shared = {(i, j): names[i] & names[j] for i in range(4) for j in range(i + 1, 4) if names[i] & names[j]}
    assert shared == {(0, 1): {"hid"}, (0, 2): {"child"}, (0, 3): {"episode"}}  # each only its join's own


# The CLI tests' bulk folder: small, as pyDatalog's cost grows with it and DuckDB's hardly does
CLI_CHILDREN = 5


def test_cli_engines_agree_on_a_bulk_folder(tmp_path):
    write_bulk(synthesize(CLI_CHILDREN, 8), tmp_path)
    runner = CliRunner()
    outs = [runner.invoke(main, ["obligations", str(tmp_path), "--at", "2025-01-01T00:00", "--format", fmt,
                                 "--engine", engine]) for fmt in ("csv", "table") for engine in ("duckdb", "pydatalog")]
    assert all(r.exit_code == 0 for r in outs), [r.output for r in outs]
    assert outs[0].output == outs[1].output and outs[2].output == outs[3].output
    assert outs[0].output.count("\n") > 100


def test_cli_synth_is_deterministic(tmp_path):
    runner = CliRunner()
    for name in ("a", "b"):
        result = runner.invoke(main, ["synth", "--children", "20", "--seed", "5", str(tmp_path / name)])
        assert result.exit_code == 0, result.output
    for f in ("children.csv", "episodes.csv", "actions.csv"):
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes()


def test_cli_redacts_the_streamed_output_as_the_reference_does(tmp_path):
    write_bulk(synthesize(CLI_CHILDREN, 8), tmp_path)
    runner = CliRunner()
    for fmt in ("csv", "json", "table"):
        outs = [runner.invoke(main, ["obligations", str(tmp_path), "--at", "2025-01-01T00:00", "--format", fmt,
                                     "--engine", engine, "--redact"]) for engine in ("duckdb", "pydatalog")]
        assert all(r.exit_code == 0 for r in outs), [r.output for r in outs]
        assert outs[0].stdout == outs[1].stdout
        assert "C000001" not in outs[0].stdout and "child-" in outs[0].stdout


def test_cli_redacts_ids_that_need_quoting_to_a_file_as_the_reference_does(tmp_path, monkeypatch):
    """DuckDB writes a CSV file itself when no id as printed needs quoting: with --redact the printed ids are
    the pseudonyms, so real ids with commas and quotes still take that path (they sent it to the slower
    writer) and give the reference's bytes, and none of them shows."""
    import engine.output.stream as stream
    copies = []
    copy_to = stream._copy_to
    monkeypatch.setattr(stream, "_copy_to", lambda *a: copies.append(a[2]) or copy_to(*a))
    ids = ("C,1", 'C"2', "C3")
    facts = FactSet(tuple(Child(c, date(2010, 1, 1), ("looked_after",)) for c in ids),
                    tuple(Episode(f"E,{i}", c, parse_instant("2024-03-01T10:00")) for i, c in enumerate(ids)))
    write_bulk(facts, tmp_path / "in")
    runner = CliRunner()
    out = tmp_path / "out.csv"
    duck = runner.invoke(main, ["obligations", str(tmp_path / "in"), "--at", "2024-03-10T12:00", "--format", "csv",
                                "--engine", "duckdb", "--redact", "-o", str(out)])
    ref = runner.invoke(main, ["obligations", str(tmp_path / "in"), "--at", "2024-03-10T12:00", "--format", "csv",
                               "--engine", "pydatalog", "--redact"])
    assert duck.exit_code == 0 and ref.exit_code == 0, (duck.output, ref.output)
    assert out.read_text(encoding="utf-8") == ref.stdout and ref.stdout.count("\n") > 3 and len(copies) == 1
    assert "C,1" not in ref.stdout and "E,0" not in ref.stdout and '"' not in ref.stdout


def test_cli_cases_on_either_engine_print_the_same():
    root = Path(__file__).resolve().parent.parent / "examples"
    runner = CliRunner()
    for extra in ([], ["--redact"]):
        outs = [runner.invoke(main, ["obligations", str(root), "--format", "json", "--engine", engine, *extra])
                for engine in ("duckdb", "pydatalog")]
        assert all(r.exit_code == 0 for r in outs), [r.output for r in outs]
        assert outs[0].stdout == outs[1].stdout
