"""Inputs on which DuckDB once gave another answer than pyDatalog, now the same on both engines.

An id written `\\N` (the temporary CSV's null string) or `\\x01` (the raw read's); folder paths with
DuckDB's glob characters (`b[1]` read `b1`, `a*b` and `q?` read other folders too); a CSV cell past
MAX_CELL_CHARS (F013 on both); facts spread over 1900-2200 (the clock once a CASE nested per change:
past DuckDB's expression depth). Each case compares the two engines' obligations, every field, in order.
No timing is asserted.
"""
from __future__ import annotations

import functools
import tempfile
from datetime import date
from pathlib import Path

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compiler.core import london_tables
from compiler.core.diagnostics import ClauseError
from compiler.core.london import LONDON, parse_instant
from engine.backends import duck_load
from engine.backends.duck import evaluate_duck
from engine.evaluation import evaluate
from facts import limits
from facts.bulk import load_bulk, write_bulk
from facts.model import Child, Episode, FactSet, RecordedAction
from tests.evaluated import policy as bundled_policy

AT = parse_instant("2024-03-10T12:00")


@pytest.fixture(scope="module")
def policy():
    return bundled_policy()


def rows(ev) -> list[tuple]:
    return [(o.to_json(), o.occurrence, o.done_at) for o in ev.obligations]


def same(policy, facts_or_folder, at=AT) -> list[tuple]:
    """Both engines' obligations, asserted equal; the folder read by DuckDB directly and by pyDatalog through
    the reference loader."""
    facts = load_bulk(facts_or_folder) if isinstance(facts_or_folder, Path) else facts_or_folder
    reference = rows(evaluate(policy, facts, at))
    assert rows(evaluate_duck(policy, facts_or_folder, at)) == reference
    assert reference
    return reference


def odd_ids(child: str, episode: str, second: str = "E2") -> FactSet:
    return FactSet((Child(child, date(2010, 1, 1), ("looked_after",), ("cse",)),),
                   (Episode(episode, child, parse_instant("2024-03-01T10:00")),
                    Episode(second, child, parse_instant("2024-03-05T10:00"), parse_instant("2024-03-06T10:00"))),
                   (RecordedAction("strategy_discussion", child, "team_manager", parse_instant("2024-03-02T10:00"), episode),))


def merged(parts) -> FactSet:
    parts = list(parts)
    return FactSet(*(tuple(x for part in parts for x in getattr(part, f)) for f in ("children", "episodes", "actions")))


NULLISH = ["\\N", "\x01", "NULL", "null", "\\\\N"]


def test_ids_that_read_as_null_somewhere_are_ids_on_both_engines(policy, tmp_path):
    """`\\N` was DuckDB's null string in load_factset's CSV (the child and its duties vanished); `\\x01`
    the fast reader's. Each is a child's id and its episode's, all in one input: through a FactSet, and
    through bulk folders (the fast reader's, and the reference loader's for the `\\x01` it declines),
    each is an id like any other, its child's duties its own."""
    parts = {ident: odd_ids(ident, ident, f"E2-{i}") for i, ident in enumerate(NULLISH)}
    got = same(policy, merged(parts.values()))
    assert {r[0]["child"] for r in got} == set(NULLISH)
    for ident in NULLISH:
        assert ident in {r[0]["episode"] for r in got if r[0]["child"] == ident}
    fast, declined = tmp_path / "fast", tmp_path / "declined"
    write_bulk(merged(f for ident, f in parts.items() if ident != "\x01"), fast)
    write_bulk(parts["\x01"], declined)
    assert duck_load.load_folder(duckdb.connect(), fast) is True
    assert sorted(same(policy, fast) + same(policy, declined), key=repr) == sorted(got, key=repr)


def test_the_fast_reader_leaves_a_file_holding_its_null_byte_to_the_reference_loader(tmp_path):
    write_bulk(odd_ids("\x01", "E1"), tmp_path)
    assert duck_load.load_folder(duckdb.connect(), tmp_path) is False
    write_bulk(odd_ids("C1", "E1"), tmp_path)
    assert duck_load.load_folder(duckdb.connect(), tmp_path) is True


@pytest.mark.parametrize("name,decoy", [("b[1]", "b1"), ("a*b", "axb"), ("q?", "qz"), ("s'q", None), ("e{1,2}", "e1")])
def test_a_folder_named_with_glob_characters_is_that_folder(policy, tmp_path, name, decoy):
    """DuckDB globs the paths read_csv is given: `b[1]/children.csv` read `b1/children.csv`, `a*b` read
    `axb` as well. The real folder holds C1, the decoy C9; both engines read C1 only."""
    write_bulk(odd_ids("C1", "E1"), tmp_path / name)
    if decoy:
        write_bulk(odd_ids("C9", "E9"), tmp_path / decoy)
    got = same(policy, tmp_path / name)
    assert {r[0]["child"] for r in got} == {"C1"}
    con = duckdb.connect()
    assert duck_load.load_folder(con, tmp_path / name) is True
    assert con.execute("SELECT list(id) FROM in_children").fetchone()[0] == ["C1"]


def test_the_temporary_csv_in_a_folder_with_glob_characters_is_read_as_written(policy, tmp_path, monkeypatch):
    """load_factset writes its CSV under the temporary folder, which may itself have such a name."""
    odd = tmp_path / "t[1]*?"
    odd.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(odd))
    same(policy, odd_ids("C1", "E1"))


def _long_cell(tmp_path: Path, size: int) -> Path:
    (tmp_path / "children.csv").write_text(f"id,born,responsible_authority\nC1,2010-01-01,{'x' * size}\n", encoding="utf-8")
    (tmp_path / "episodes.csv").write_text("id,child,reported\nE1,C1,2024-03-01T10:00\n", encoding="utf-8")
    return tmp_path


def test_a_cell_past_the_limit_is_F013_on_both_engines_and_one_at_it_is_read_by_both(policy, tmp_path):
    (tmp_path / "over").mkdir()
    folder = _long_cell(tmp_path / "over", limits.MAX_CELL_CHARS + 1)
    with pytest.raises(ClauseError) as ref:
        load_bulk(folder)
    with pytest.raises(ClauseError) as duck:
        evaluate_duck(policy, folder, AT)
    assert [d.code for d in ref.value.diagnostics] == [d.code for d in duck.value.diagnostics] == ["F013"]
    [d] = duck.value.diagnostics
    assert (d.span.line, Path(d.span.file).name) == (2, "children.csv")
    assert f"{limits.MAX_CELL_CHARS:,}" in d.message and "x" * 20 not in d.message
    (tmp_path / "at").mkdir()
    same(policy, _long_cell(tmp_path / "at", limits.MAX_CELL_CHARS))
    assert duck_load.load_folder(duckdb.connect(), tmp_path / "at") is True


def test_facts_from_1900_to_2200_agree_on_both_engines(policy, tmp_path):
    """One child, an episode in 1900 and one in 2200, judged in 2200: the clock SQL is one bucket lookup
    whatever the span (compiler/core/london_tables.py), so this finishes, and agrees."""
    facts = FactSet((Child("C1", date(1900, 1, 1), ("looked_after",), ("cse",)),),
                    (Episode("E1", "C1", parse_instant("1900-03-01T10:00"), parse_instant("1900-03-02T10:00")),
                     Episode("E2", "C1", parse_instant("2200-03-25T23:30")),
                     Episode("E3", "C1", parse_instant("1947-04-13T01:30"), parse_instant("1947-08-10T01:30"))),
                    (RecordedAction("return_interview", "C1", "protect_team", parse_instant("2200-01-01T00:00"), "E1"),))
    at = parse_instant("2200-03-31T12:00")
    got = same(policy, facts, at)
    write_bulk(facts, tmp_path)
    assert same(policy, tmp_path, at) == got
    con = duckdb.connect()
    assert duck_load.load_folder(con, tmp_path) is True  # no longer declined for its span


# the clock SQL has two forms (london_tables.offset_case): a flat CASE for the few years of a folder, buckets
# read from a text constant for a long span; each must be zoneinfo at every change
SPANS = pytest.mark.parametrize("first, last, bucketed", [(2019, 2026, False), (1899, 2203, True)])


def clock_sql(first: int, last: int, bucketed: bool) -> tuple[list[tuple[int, int, int]], duckdb.DuckDBPyConnection]:
    """The transitions of a span and a connection holding its clock macros, in the form expected."""
    rows = london_tables.transitions(first, last)
    con = duckdb.connect()
    for statement in london_tables.macros(rows):
        if "MACRO london_wall" in statement or "MACRO london_local" in statement:
            assert ("substr(" in statement) == bucketed
        con.execute(statement)
    return rows, con


@SPANS
def test_the_clock_sql_is_zoneinfo_at_every_change(first, last, bucketed):
    """A microsecond either side of each change, as an instant (london_wall) and as a wall-clock time
    (london_local, read with fold=0 as parse_instant reads it): what Python's zoneinfo says."""
    rows, con = clock_sql(first, last, bucketed)
    probes = sorted({r[k] + d for r in rows[1:] for k in (0, 2) for d in (-1, 0, 1)})
    con.execute("CREATE TABLE p AS SELECT unnest(?::BIGINT[]) AS u", [probes])
    for u, wall, local in con.execute("SELECT u, london_wall(u), london_local(u) FROM p ORDER BY u").fetchall():
        assert wall == u + london_tables.from_us(u).utcoffset() // london_tables.US
        clock = (london_tables.EPOCH + u * london_tables.US).replace(tzinfo=None)
        assert local == london_tables.to_us(clock.replace(tzinfo=LONDON))


@pytest.mark.parametrize("files", [{"children.csv": "id,born\n", "episodes.csv": "id,child,reported\n"},
                                   {"children.csv": "id,born\n", "episodes.csv": "id,child,reported\n",
                                    "actions.csv": "action,child,episode,by,at\n"}])
def test_a_folder_with_no_rows_gives_no_obligations_on_both_engines(policy, tmp_path, files):
    """Found by the fuzz campaign's bulk kind on DuckDB: with no child there was no instant to size the
    clock tables by (a TypeError traceback); pyDatalog gave no obligations. Now both give none."""
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    assert rows(evaluate_duck(policy, tmp_path, AT)) == rows(evaluate(policy, load_bulk(tmp_path), AT)) == []
    assert rows(evaluate_duck(policy, load_bulk(tmp_path), AT)) == []


@SPANS
def test_the_clock_sql_reads_twice_only_where_london_maybe_repeated_says_so(first, last, bucketed):
    """iso_sql (engine/output/columns.py) reads a clock time back only when london_maybe_repeated holds:
    at every instant around each change of the span, a clock time that reads back as another instant
    (the second pass of an autumn hour) is one london_maybe_repeated names."""
    rows, con = clock_sql(first, last, bucketed)
    hour = 3_600_000_000
    probes = sorted({r[0] + d for r in rows[1:] for d in (-hour - 1, -hour, -1, 0, 1, hour // 2, hour - 1, hour, 2 * hour)})
    con.execute("CREATE TABLE p AS SELECT unnest(?::BIGINT[]) AS u", [probes])
    got = con.execute("SELECT u, london_local(london_wall(u)) <> u, london_maybe_repeated(london_wall(u)) FROM p").fetchall()
    second = [u for u, again, _ in got if again]
    assert second and all(maybe for _, again, maybe in got if again)
    assert not con.execute("SELECT london_maybe_repeated(43200000000)").fetchone()[0]  # noon is never read twice


texts = st.builds(lambda y, mo, d, sep, h, mi, rest: f"{y:04d}-{mo:02d}-{d:02d}{sep}{h:02d}:{mi:02d}{rest}",
                  st.integers(1895, 2205), st.integers(0, 13), st.integers(0, 32), st.sampled_from("Tt T"),
                  st.integers(0, 25), st.integers(0, 61),
                  st.sampled_from(["", ":00", ":30", ":61", ":05.5", "Z", "+01:00", "-0530", "+01", " ", "+25:00",
                                   # the form read by strptime with its offset (compiler/core/london_tables.py FULL_FORM)
                                   ":52.664315+01:00", ":59.000001-23:59", ":60.000000+00:00", ":05.664315+24:00",
                                   ":05.664315+01:60", ":05.66431+01:00", ":05.664315+0100", ":05.664315Z",
                                   ":05.664315+1:000", ":05.664315-00:00"]))


@functools.cache
def _reader() -> tuple[duckdb.DuckDBPyConnection, str]:
    """One connection with the clock macros, and the SQL reading table t's texts (planned once: the clock
    table for 1894-2206 is a long constant)."""
    rows = london_tables.transitions(1894, 2206)
    con = duckdb.connect()
    for statement in london_tables.macros(rows):
        con.execute(statement)
    con.execute("CREATE TABLE t (t_at VARCHAR, i BIGINT)")
    return con, london_tables.instants_sql("t", [("t_at", "at_us")], "i", rows)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(texts, texts.map(lambda t: t.replace("-0", "-", 1)), st.text(max_size=18)), max_size=40))
def test_the_sql_reading_of_a_time_is_parse_instants(values):
    """instants_sql (the fast reader's times: strptime for the plain form, the regex for any other) gives
    the instant parse_instant gives, and NULL exactly where parse_instant refuses the text."""
    con, query = _reader()
    con.execute("DELETE FROM t")
    if values:
        con.executemany("INSERT INTO t VALUES (?, ?)", [(v, i) for i, v in enumerate(values)])
    got = dict(con.execute(query).fetchall())

    def expected(text: str) -> int | None:
        if text != text.strip():  # instants_sql never strips a text; parse_instant does
            return None
        try:
            return london_tables.to_us(parse_instant(text))
        except ValueError:
            return None
    assert [got[i] for i in range(len(values))] == [expected(v) for v in values]
