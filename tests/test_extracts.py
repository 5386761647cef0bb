"""Extracts as local authorities produce them (facts/extracts): SSD and SSDA903 tables read by a profile.

Round trips (a synthetic extract reads back as exactly the facts written, and gives the obligations those
facts give written as Clause's own CSV), both back-ends byte-identical on an extract, the M/A mapping,
date-only honesty, and a diagnostic for each kind of problem (never echoing a cell).
"""
from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Callable

import pytest
from click.testing import CliRunner

from cli.main import main
from compiler.core.diagnostics import ClauseError
from compiler.core.london import parse_instant
from compiler.policy import CompiledPolicy
from engine.backends import partition
from engine.backends.duck import evaluate_duck
from facts.bulk import load_bulk, write_bulk
from facts.extracts import load_extract, load_profile
from facts.extracts.write import as_extract, write_extract
from facts.model import FactSet
from facts.synth import synthesize
from tests.evaluated import policy as bundled_policy
from tests.loads import LARGE

AT = parse_instant("2025-01-01T00:00")
# make fuzz (CLAUSE_TEST_LOAD=large): a Liverpool-sized year, 1,500 children and 5,000 episodes; make test: a small one
LOAD = (1500, 5000) if LARGE else (40, None)


@pytest.fixture(scope="module")
def policy():
    return bundled_policy()  # the repository's policy/, compiled once per test process


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def by_id(xs):
    return sorted(xs, key=lambda x: x.id)


@pytest.mark.parametrize("kind", ["ssd", "ssda903"])
def test_synthetic_extract_reads_back_and_matches_the_native_csv(policy, tmp_path, kind):
    """The extract of a synthetic year reads back as the facts written, and its obligations equal those of
    the same facts written as children.csv/episodes.csv (DuckDB: a small load for make test)."""
    facts = as_extract(synthesize(LOAD[0], 5, LOAD[1]), kind, 5)
    write_extract(facts, tmp_path / "x", load_profile(kind), kind)
    got = load_extract(tmp_path / "x", kind)
    assert got.children == facts.children and by_id(got.episodes) == by_id(facts.episodes)
    assert any(e.reported_until is not None for e in got.episodes)
    write_bulk(got, tmp_path / "native")
    native = load_bulk(tmp_path / "native")
    # The native CSV reads back as the very same facts (its episodes perhaps in another order, which no
    # result rests on: DuckDB orders every result itself), so the extract's obligations are theirs too;
    # evaluating the same facts a second time would only repeat the evaluation below.
    assert native.children == got.children and native.actions == got.actions
    assert by_id(native.episodes) == by_id(got.episodes) and len(native.episodes) == len(got.episodes)
    from facts.extracts import Extract
    extract_obs = evaluate_duck(policy, got, AT).obligations
    sql_obs = evaluate_duck(policy, Extract(tmp_path / "x", load_profile(kind)), AT).obligations  # CSV read in SQL
    assert extract_obs == sql_obs and extract_obs


def test_both_engines_byte_identical_on_an_extract(tmp_path, monkeypatch):
    """`clause obligations` on an extract, each engine, each format: the same bytes. pyDatalog's evaluation
    is a value, made once and printed in the three formats; DuckDB's streams from its database, made for each."""
    real, made = partition.evaluate_partitioned, {}

    def once(policy: CompiledPolicy, facts: FactSet, at: datetime, size: int = 100, engine: str = "pydatalog",
             progress: Callable[[int], None] | None = None) -> partition.MergedEvaluation:
        key = (facts, at, size, engine)
        if key not in made:
            made[key] = real(policy, facts, at, size, engine, progress)
        return made[key]
    monkeypatch.setattr(partition, "evaluate_partitioned", once)
    facts = as_extract(synthesize(12, 8), "ssda903", 8)
    write_extract(facts, tmp_path, load_profile("ssda903"), "ssda903")
    for fmt in ("table", "json", "csv"):
        outs = [run("obligations", str(tmp_path), "--at", "2025-01-01T00:00", "--engine", e, "--format", fmt)
                for e in ("pydatalog", "duckdb")]
        assert all(o.exit_code == 0 for o in outs), outs[0].output
        assert outs[0].stdout == outs[1].stdout
    assert "approximate" in outs[1].stdout
    assert len(made) == 1  # the CLI's pyDatalog path is the one evaluated


SSD_PERSON = "pers_person_id,pers_sex,pers_dob\nP1,F,2010-05-14 00:00:00.000\nP2,M,2009-01-02\n"
SSD_MISSING = ("miss_table_id,miss_person_id,miss_missing_episode_start_date,miss_missing_episode_type,"
               "miss_missing_episode_end_date,miss_missing_rhi_offered,miss_missing_rhi_accepted\n"
               "M1,P1,2024-03-04 08:00:00.000,M,2024-03-08 10:00:00.000,Y,Y\nM2,P2,2024-03-05,A,,N,\n")
SSD_CLA = ("clae_cla_episode_id,clae_person_id,clae_cla_episode_start_date,clae_cla_episode_ceased\n"
           "C1,P1,2023-01-01,2024-01-10\nC2,P1,2024-01-10,\n")


def ssd(tmp_path: Path, person=SSD_PERSON, missing=SSD_MISSING, cla=SSD_CLA) -> Path:
    for name, text in (("ssd_person.csv", person), ("ssd_missing.csv", missing), ("ssd_cla_episodes.csv", cla)):
        (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


def test_away_is_absent_missing_is_missing_and_looked_after_comes_from_cla_episodes(tmp_path):
    facts = load_extract(ssd(tmp_path), "ssd")
    m1, m2 = by_id(facts.episodes)
    assert not m1.whereabouts_known and m2.whereabouts_known  # M: missing; A: away from placement
    p1 = next(c for c in facts.children if c.id == "P1")
    # C2 begins the day C1 ceases: one record, looked after throughout
    assert [(h.name, str(h.start), str(h.end)) for h in p1.statuses] == [("looked_after", "2023-01-01", "None")]
    assert m2.reported.hour == 0 and (m2.reported_until.hour, m2.reported_until.minute) == (23, 59)


def test_date_only_start_is_not_midnight_in_any_format(tmp_path):
    """A date-only start: every duty counting from it shows its earliest and latest moment, time approximate,
    and why says so; the offered return interview with no date is not done."""
    folder = str(ssd(tmp_path))
    out = run("obligations", folder, "--at", "2024-03-10T12:00", "--format", "json")
    assert out.exit_code == 0
    assert '"triggered_latest": "2024-03-05T23:59"' in out.stdout and '"time": "approximate"' in out.stdout
    assert "F020" in out.stderr and "F019" in out.stderr and "pers_sex" in out.stderr
    table = run("obligations", folder, "--at", "2024-03-10T12:00").stdout
    assert "Tue 05 Mar 2024 00:00-23:59" in table
    csv = run("obligations", folder, "--at", "2024-03-10T12:00", "--format", "csv").stdout
    assert csv.splitlines()[0].endswith("occurrence,time,triggered_latest,due_latest")
    why = run("why", folder, "--child", "P2", "--action", "assess_risk", "--at", "2024-03-10T12:00").stdout
    assert "time approximate" in why and "between Tue 05 Mar 2024 00:00 and Tue 05 Mar 2024 23:59" in why
    ri = run("obligations", folder, "--at", "2024-03-10T12:00", "--child", "P1", "--format", "csv").stdout
    assert "return_interview" in ri and ",done," not in ri


def problems(folder: Path, profile: str = "ssd") -> list:
    with pytest.raises(ClauseError) as info:
        load_extract(folder, profile)
    return info.value.diagnostics


@pytest.mark.parametrize("change, code, where", [
    (dict(missing=SSD_MISSING.replace(",A,", ",Z,")), "F003", ("ssd_missing.csv", 3, 4)),
    (dict(missing=SSD_MISSING.replace("2024-03-08 10:00:00.000", "2024-03-01 10:00:00.000")), "F007", ("ssd_missing.csv", 2, 5)),
    (dict(cla=SSD_CLA.replace("C2,P1,2024-01-10", "C2,P1,2023-06-01")), "F016", ("ssd_cla_episodes.csv", 3, 2)),
    (dict(cla=SSD_CLA + "C3,P9,2024-01-05,\n"), "F006", ("ssd_cla_episodes.csv", 4, 2)),
    (dict(missing=SSD_MISSING.replace("2024-03-05", "03/13/2024")), "F018", ("ssd_missing.csv", 3, 3)),
    (dict(cla=SSD_CLA.replace("2024-01-10,\n", "2024-01-10,2024-01-01\n")), "F007", ("ssd_cla_episodes.csv", 3, 4)),
    # a row cut short: its lost cells (an end date, the interview) are never read as empty ones
    (dict(missing=SSD_MISSING.replace("M2,P2,2024-03-05,A,,N,", "M2,P2,2024-03-05,A")), "F009", ("ssd_missing.csv", 3, 5)),
    # a quote never closed: where its row starts, not at the file's end
    (dict(person=SSD_PERSON.replace("P2,M", '"P2,M') + "P3,F,2011-01-01\n" * 5), "F001", ("ssd_person.csv", 3, 1)),
])
def test_each_problem_has_its_diagnostic_without_the_cell(tmp_path, change, code, where):
    diags = problems(ssd(tmp_path, **change))
    errors = [d for d in diags if d.severity == "error"]
    assert [d.code for d in errors] == [code]
    d = errors[0]
    assert (Path(d.span.file).name, d.span.line, d.span.column) == where
    assert "03/13/2024" not in d.message and "Z" not in d.message.split("'")[1::2]


def test_a_date_in_the_profiles_format_but_not_on_the_calendar_is_told_so(tmp_path):
    """31 February fits yyyy-mm-dd: the message said it fitted none of the profile's formats."""
    (d,) = [d for d in problems(ssd(tmp_path, missing=SSD_MISSING.replace("2024-03-05", "2024-02-31")))
            if d.severity == "error"]
    assert (d.code, Path(d.span.file).name, d.span.line, d.span.column) == ("F005", "ssd_missing.csv", 3, 3)
    assert "no such day is on the calendar" in d.message and "2024-02-31" not in d.message


def test_a_renamed_column_and_a_local_code_adapt_a_copy_of_the_profile(tmp_path):
    folder = ssd(tmp_path / "x" if (tmp_path / "x").mkdir() is None else tmp_path,
                 missing=SSD_MISSING.replace("miss_person_id", "person").replace(",A,", ",AWOL,"))
    text = (Path(load_profile("ssd").source).read_text(encoding="utf-8")
            .replace("child: miss_person_id", "child: person").replace("      Away: absent", "      Away: absent\n      AWOL: absent"))
    mine = tmp_path / "mine.yaml"
    mine.write_text(text, encoding="utf-8")
    assert [c for d in problems(folder) for c in [d.code] if d.severity == "error"][0] == "F004"
    facts = load_extract(folder, str(mine))
    assert by_id(facts.episodes)[1].whereabouts_known
    out = run("obligations", str(folder), "--profile", str(mine), "--at", "2024-03-10T12:00", "--format", "csv")
    assert out.exit_code == 0 and "P2" in out.stdout


def test_a_bad_profile_is_located(tmp_path):
    bad = tmp_path / "p.yaml"
    bad.write_text("profile: x\ndate_formats: ['%d/%m/%Q']\npeople: {file: a.csv, columns: {id: A, born: B}}\n"
                   "missing: {file: b.csv, columns: {child: C, start: D, colour: E}}\n", encoding="utf-8")
    with pytest.raises(ClauseError) as info:
        load_profile(str(bad))
    assert {(d.code, d.span.line) for d in info.value.diagnostics} == {("F017", 2), ("F017", 4)}


@pytest.mark.parametrize("name", ["../ssd_person.csv", "/etc/passwd", "sub\\ssd_person.csv", "..", "x" * 300, "é" * 200])
def test_a_tables_file_must_be_a_name_in_the_folder(tmp_path, name):
    """Found by the fuzz campaign: a name too long for the system was an OSError traceback; one with a folder
    in it would read a file outside the extract. Each is F017 at the profile's line."""
    text = Path(load_profile("ssd").source).read_text(encoding="utf-8").replace("file: ssd_person.csv", f"file: '{name}'")
    (tmp_path / "p.yaml").write_text(text, encoding="utf-8")
    line = text.splitlines().index(f"  file: '{name}'") + 1
    with pytest.raises(ClauseError) as info:
        load_profile(str(tmp_path / "p.yaml"))
    assert [(d.code, d.span.line) for d in info.value.diagnostics] == [("F017", line)]
    assert "name of a file in the extract's folder" in info.value.diagnostics[0].message


@pytest.mark.parametrize("engine", ["pydatalog", "duckdb"])
def test_ssda903_without_its_looked_after_episodes_is_refused(tmp_path, engine):
    """Without episodes.csv every child of a return about children looked after read as not looked after,
    with only a warning: the profile marks it required, so it is F011, an error, on either engine."""
    write_extract(as_extract(synthesize(5, 2), "ssda903", 2), tmp_path, load_profile("ssda903"), "ssda903")
    (tmp_path / "episodes.csv").unlink()
    out = run("obligations", str(tmp_path), "--engine", engine, "--at", "2025-01-01T00:00")
    assert out.exit_code == 2 and f"{tmp_path}: error[F011]: folder {tmp_path} has no episodes.csv" in out.stderr


def test_required_is_true_or_false(tmp_path):
    text = Path(load_profile("ssda903").source).read_text(encoding="utf-8")
    assert "    required: true" in text
    (tmp_path / "p.yaml").write_text(text.replace("    required: true", "    required: sometimes"), encoding="utf-8")
    with pytest.raises(ClauseError) as info:
        load_profile(str(tmp_path / "p.yaml"))
    line = text.splitlines().index(next(x for x in text.splitlines() if x.startswith("    required: true"))) + 1
    assert [(d.code, d.span.line) for d in info.value.diagnostics] == [("F017", line)]
    assert "'required' in statuses entry 1 must be true or false" in info.value.diagnostics[0].message


def test_a_profile_with_both_day_orders_is_refused(tmp_path):
    text = Path(load_profile("ssda903").source).read_text(encoding="utf-8").replace('  - "%d/%m/%Y"', '  - "%d/%m/%Y"\n  - "%m/%d/%Y"')
    (tmp_path / "p.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ClauseError) as info:
        load_profile(str(tmp_path / "p.yaml"))
    assert [d.code for d in info.value.diagnostics] == ["F017"] and "swapped" in info.value.diagnostics[0].message


def test_synth_profile_writes_the_tables(tmp_path):
    for kind, files in (("ssd", {"ssd_person.csv", "ssd_missing.csv", "ssd_cp_plans.csv"}),
                        ("ssda903", {"header.csv", "episodes.csv", "missing.csv"})):
        out = run("synth", "--children", "15", "--seed", "1", "--profile", kind, str(tmp_path / kind))
        assert out.exit_code == 0
        assert files <= {p.name for p in (tmp_path / kind).iterdir()}


def _tables(con) -> dict:
    return {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in ("in_children", "in_episodes", "in_actions")}


@pytest.mark.parametrize("kind", ["ssd", "ssda903"])
def test_sql_reader_loads_what_the_python_reader_loads(tmp_path, kind):
    """engine/backends/duck_extract.py reads the extract's CSV in SQL (no Python rows) into the same tables,
    with the same warnings."""
    import duckdb

    from engine.backends import duck_load
    from engine.backends.duck_extract import load_extract_sql
    from facts.extracts import Extract, read_extract
    facts = as_extract(synthesize(60, 9), kind, 9)
    write_extract(facts, tmp_path, load_profile(kind), kind)
    extract = Extract(tmp_path, load_profile(kind))
    fast, ref = duckdb.connect(), duckdb.connect()
    notes = load_extract_sql(fast, extract)
    assert notes is not None
    got, expected_notes = read_extract(extract)
    duck_load.load_factset(ref, got)
    assert _tables(fast) == _tables(ref)
    assert sorted(map(str, notes)) == sorted(map(str, expected_notes))


@pytest.mark.parametrize("change", [
    dict(missing=SSD_MISSING.replace(",A,", ",Z,")),
    dict(missing=SSD_MISSING.replace("2024-03-08 10:00:00.000", "2024-03-01 10:00:00.000")),
    dict(cla=SSD_CLA.replace("C2,P1,2024-01-10", "C2,P1,2023-06-01")),
    dict(cla=SSD_CLA + "C3,P9,2024-01-05,\n"),
    dict(missing=SSD_MISSING.replace("2024-03-05", "03/13/2024")),
    dict(cla=SSD_CLA.replace("2024-01-10,\n", "2024-01-10,2024-01-01\n")),
    dict(missing=SSD_MISSING.replace("M2,P2", "M2, P2")),
    dict(missing=SSD_MISSING.replace("M2,P2,2024-03-05,A,,N,", "M2,P2,2024-03-05,A")),
])
def test_sql_reader_declines_what_the_python_reader_refuses(policy, tmp_path, change):
    """Any problem: the SQL reader loads nothing, and evaluate_duck gives the Python reader's diagnostics."""
    import duckdb

    from engine.backends.duck_extract import load_extract_sql
    from facts.extracts import Extract
    folder = ssd(tmp_path, **change)
    extract = Extract(folder, load_profile("ssd"))
    assert load_extract_sql(duckdb.connect(), extract) is None
    if "M2, P2" in change.get("missing", ""):
        return  # white space around a cell: declined, and the Python reader reads it (it strips cells)
    with pytest.raises(ClauseError) as got:
        evaluate_duck(policy, extract, AT)
    assert [d.code for d in got.value.diagnostics] == [d.code for d in problems(folder)]


def test_report_and_why_not_take_an_extract(tmp_path):
    facts = as_extract(synthesize(10, 4), "ssd", 4)
    write_extract(facts, tmp_path, load_profile("ssd"), "ssd")
    out = run("report", str(tmp_path), "--from", "2024-01-01", "--to", "2024-12-31", "--at", "2025-01-01T00:00",
              "--format", "json")
    assert out.exit_code == 0 and '"arisen"' in out.stdout
    child = facts.episodes[0].child
    out = run("why-not", str(tmp_path), "--child", child, "--action", "return_interview", "--at", "2025-01-01T00:00")
    assert out.exit_code in (0, 1) and "Traceback" not in out.output


def test_why_json_gives_an_approximate_times_range_as_fields() -> None:
    """Another program reads the range from fields, not from the prose."""
    import json as _json
    from click.testing import CliRunner as _Runner
    from cli.main import main as _main
    case = "tests/cases/extracts/date-only-report-is-the-whole-day.yaml"
    out = _Runner().invoke(_main, ["why", case, "--child", "C1", "--action", "assess_risk", "--format", "json"])
    assert out.exit_code == 0, out.output
    timings = []

    def walk(node: dict) -> None:
        if node.get("kind") == "timing":
            timings.append(node)
        for child in node.get("children", []):
            walk(child)
    for c in _json.loads(out.stdout)["cases"]:
        walk(c)
    assert timings and all(t["time"] == "approximate" for t in timings)
    assert {(t["triggered"], t["triggered_latest"], t["due_latest"]) for t in timings} == {
        ("2024-03-05T00:00", "2024-03-05T23:59", "2024-03-05T23:59")}


@pytest.mark.parametrize("column", ["miss_missing_episode_end_date", "miss_missing_episode_type", "miss_missing_rhi_offered"])
@pytest.mark.parametrize("engine", ["pydatalog", "duckdb"])
def test_a_renamed_column_the_profile_reads_is_F004_not_read_as_empty(tmp_path, column, engine):
    """Renamed by an export, an end date read as empty left every child missing, and a type every episode
    missing, without a word: every column the profile names must be in the file."""
    folder = ssd(tmp_path, missing=SSD_MISSING.replace(column, column.upper() + "_X"))
    out = run("obligations", str(folder), "--engine", engine, "--at", "2024-03-10T12:00")
    assert out.exit_code == 2 and "F004" in out.stderr and f"'{column}'" in out.stderr
    assert column.upper() + "_X" in out.stderr  # the hint lists the file's own columns
    assert "Traceback" not in out.output


@pytest.mark.parametrize("kind, gone", [("ssd", "ssd_person.csv"), ("ssd", "ssd_missing.csv"),
                                        ("ssda903", "header.csv"), ("ssda903", "missing.csv")])
def test_a_folder_missing_one_table_is_told_which(tmp_path, kind, gone):
    write_extract(as_extract(synthesize(5, 2), kind, 2), tmp_path, load_profile(kind), kind)
    [path] = [p for p in tmp_path.iterdir() if p.name.lower() == gone]
    path.unlink()
    out = run("obligations", str(tmp_path))
    assert out.exit_code == 2 and "F011" in out.stderr and gone in out.stderr.lower()
