"""facts.bulk: CSV folders load with file:line:column spans, share the validators, round-trip."""
from __future__ import annotations

import shutil
import tempfile
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from compiler.core.diagnostics import ClauseError, Diagnostic
from facts.bulk import load_bulk, write_bulk
from facts.held import ends_before_start
from facts.model import Child, Episode, FactSet, Held, RecordedAction
from compiler.core.vocabulary import FLAGS, PLACEMENTS, RISK_LEVELS, STATUSES
from compiler.core.london import LONDON, parse_instant

DATA = Path(__file__).parent / "data" / "facts" / "bulk"
UTC = timezone.utc


def folder_with(tmp_path: Path, **files: str) -> Path:
    """A copy of the good bulk folder with some files replaced (None content = delete)."""
    target = tmp_path / "bulk"
    shutil.copytree(DATA, target)
    for name, text in files.items():
        path = target / f"{name}.csv"
        if text is None:
            path.unlink()
        else:
            path.write_text(text, encoding="utf-8")
    return target


def problems(folder: Path) -> list[Diagnostic]:
    with pytest.raises(ClauseError) as info:
        load_bulk(folder)
    return info.value.diagnostics


def test_good_folder_loads_with_spans():
    facts = load_bulk(DATA)
    c1, c2 = facts.children
    assert c1 == Child("C1", date(2012, 5, 1), ("child_protection_plan",), ("safeguarding_concerns",))
    assert c2 == Child("C2", date(2008, 2, 29), ("looked_after", "section_47_enquiry"), ("cse", "cce"), "sefton", "merseyside")
    e1, e2 = facts.episodes
    assert e1 == Episode("E1", "C1", datetime(2024, 3, 4, 8, 0, tzinfo=LONDON), with_parents=True)
    assert e2.returned is not None and e2.police_risk == "high" and e2.inspector_risk == "medium"
    # 23:30 GMT to 03:00 BST across the spring clock change: 2.5 real hours
    assert e2.returned.astimezone(UTC) - e2.reported.astimezone(UTC) == timedelta(hours=2, minutes=30)
    assert facts.actions[1] == RecordedAction("inform_police", "C2", "carer", parse_instant("2024-03-30T23:45"))
    assert (c2.span.file, c2.span.line, c2.span.column) == (str(DATA / "children.csv"), 3, 1)
    assert (e1.span.file, e1.span.line) == (str(DATA / "episodes.csv"), 2)


def test_cells_are_located_by_line_and_column(tmp_path):
    folder = folder_with(tmp_path, episodes="id,child,reported,police_risk\nE1,C1,2024-03-04T08:00,hgh\n"
                                            "E2,C1,\"2024-03-05\nT08:00\",\nE3,C7,2024-03-04T08:00,\n", actions=None)
    diags = problems(folder)
    assert [(d.code, d.span.line, d.span.column) for d in diags] == [("F003", 2, 4), ("F005", 3, 3), ("F006", 5, 2)]
    assert all(d.span.file == str(folder / "episodes.csv") for d in diags)
    assert diags[0].hint == "did you mean 'high'?"


def test_header_problems(tmp_path):
    folder = folder_with(tmp_path, children="id,status,born,id\nC1,,2012-01-01,C1\n",
                         episodes="id,reported\nE1,2024-03-04T08:00\n")
    diags = problems(folder)
    assert [(d.code, Path(d.span.file).name, d.span.line, d.span.column) for d in diags] == [
        ("F002", "children.csv", 1, 2), ("F008", "children.csv", 1, 4), ("F004", "episodes.csv", 1, 1)]
    assert diags[0].hint == "did you mean 'statuses'?"
    assert "no 'child' column" in diags[2].message


def test_rows_use_the_shared_validators(tmp_path):
    folder = folder_with(tmp_path, children="id,born,flags\nC1,2012-01-01,cse;ccx\nC1,2012-01-01,\n,2012-01-01,\n",
                         episodes="id,child,reported,returned,with_parents\nE1,C1,2024-03-04T08:00,2024-03-03T08:00,maybe\n",
                         actions="action,child,episode,by,at\nx,C1,E1,me,2024-03-04T09:00,extra\n")
    got = [(d.code, Path(d.span.file).name, d.span.line, d.span.column) for d in problems(folder)]
    assert got == [("F009", "actions.csv", 2, 6), ("F003", "children.csv", 2, 3), ("F008", "children.csv", 3, 1),
                   ("F004", "children.csv", 4, 1), ("F007", "episodes.csv", 2, 4), ("F009", "episodes.csv", 2, 5)]


@pytest.mark.parametrize("engine", ["pydatalog", "duckdb"])
def test_a_row_shorter_than_the_header_is_F009_not_blanks(tmp_path, engine):
    """A row cut short (its last cells lost) was read with blanks for them: the episode's return and flags
    gone, and the duties with them, without a word. Now F009 at its first missing cell, on both readers;
    an empty value written as such (a trailing comma) is still an empty value."""
    from click.testing import CliRunner
    from cli.main import main
    folder = folder_with(tmp_path, children="id,born\nC1,2012-01-01\n",
                         episodes="id,child,reported,returned,with_parents\nE1,C1,2024-03-04T08:00,,\n"
                                  "E2,C1,2024-03-06T08:00\n", actions=None)
    result = CliRunner().invoke(main, ["obligations", str(folder), "--engine", engine, "--at", "2024-03-09T08:00"])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert f"{folder / 'episodes.csv'}:3:4: error[F009]: this row has 3 values but the header names 5 columns" in result.stderr
    assert result.stderr.count("error[") == 1  # the row with its empty values written is fine


def test_a_quote_never_closed_is_reported_where_its_row_starts(tmp_path):
    """csv.reader meets the end of the file still inside the quoted value: the row it was reading starts
    at the quote's line, which is where to look (it was reported at the file's last line)."""
    rows = "".join(f"C{i},2012-01-01\n" for i in range(5, 40))
    folder = folder_with(tmp_path, children=f'id,born\nC1,2012-01-01\n"C2,2012-01-01\n{rows}')
    [d] = [d for d in problems(folder) if d.code == "F001"]
    assert (Path(d.span.file).name, d.span.line) == ("children.csv", 3) and "never closed" in d.message


def test_missing_empty_and_broken_files(tmp_path):
    diags = problems(folder_with(tmp_path, episodes=None, actions=None))
    assert [d.code for d in diags] == ["F011"] and "has no episodes.csv" in diags[0].message
    diags = problems(folder_with(tmp_path / "2", children=""))
    assert [d.code for d in diags] == ["F010"]  # and no flood of unknown-child errors
    diags = problems(folder_with(tmp_path / "3", actions='action,child,by,at\n"x,C1,me,2024-03-04T08:00\n'))
    assert [d.code for d in diags] == ["F001"]
    folder = folder_with(tmp_path / "4")
    (folder / "children.csv").write_bytes(b"id,born\nC1,2012-01-01\nC\xff2,2012-01-01\n")
    diags = problems(folder)
    assert [d.code for d in diags] == ["F001"] and "not UTF-8" in diags[0].message
    assert [d.code for d in problems(tmp_path / "nowhere")] == ["F011"]


def test_round_trip(tmp_path):
    facts = load_bulk(DATA)
    write_bulk(facts, tmp_path / "out")
    again = load_bulk(tmp_path / "out")
    assert again == facts  # both are in id order already
    first = {p.name: p.read_bytes() for p in (tmp_path / "out").iterdir()}
    write_bulk(again, tmp_path / "out")
    assert {p.name: p.read_bytes() for p in (tmp_path / "out").iterdir()} == first  # deterministic
    assert sorted(first) == ["actions.csv", "children.csv", "episodes.csv", "flags.csv", "statuses.csv"]  # no temp files left


def test_round_trip_keeps_the_second_of_two_equal_wall_times(tmp_path):
    first = parse_instant("2024-10-27T01:30")            # BST
    second = parse_instant("2024-10-27T01:30+00:00")     # GMT, an hour later
    facts = FactSet((Child("C1", date(2012, 1, 1)),), (Episode("E1", "C1", first, second),))
    write_bulk(facts, tmp_path)
    assert "2024-10-27T01:30,2024-10-27T01:30+00:00" in (tmp_path / "episodes.csv").read_text()
    (e,) = load_bulk(tmp_path).episodes
    assert e.returned.astimezone(UTC) - e.reported.astimezone(UTC) == timedelta(hours=1)


# ---- property: any valid fact set survives write_bulk -> load_bulk ----

ids = st.text("ABCxyz019_-, \"';", min_size=1, max_size=6).map(str.strip).filter(bool)
moments = st.datetimes(datetime(1990, 1, 1), datetime(2040, 1, 1), timezones=st.just(LONDON)).map(
    lambda d: d.replace(microsecond=d.microsecond if d.second % 2 else 0).astimezone(UTC).astimezone(LONDON))


bounds = st.none() | st.dates(date(1990, 1, 1), date(2039, 12, 31)) | moments


@st.composite
def held_records(draw, names: tuple[str, ...]) -> tuple[Held, ...]:
    """Names in force throughout, then records over periods (one a name, so none overlap), as a folder reads them back."""
    chosen = draw(st.lists(st.sampled_from(names), unique=True, max_size=4))
    out = [Held(n) for n in chosen[:2]]
    for n in chosen[2:]:
        h = Held(n, draw(bounds), draw(bounds))
        if not h.throughout and not ends_before_start(h):
            out.append(h)
    return tuple(out)


@st.composite
def fact_sets(draw) -> FactSet:
    child_ids = draw(st.lists(ids, min_size=1, max_size=4, unique=True))
    children = tuple(Child(c, draw(st.dates(date(1975, 1, 1), date(1989, 12, 31))),  # born before any episode
                           draw(held_records(STATUSES)), draw(held_records(FLAGS)),
                           draw(ids), draw(st.sampled_from(PLACEMENTS))) for c in child_ids)
    episodes = []
    for e in draw(st.lists(ids, max_size=4, unique=True)):
        reported = draw(moments)
        returned = draw(st.none() | st.timedeltas(timedelta(0), timedelta(days=30)).map(
            lambda d, r=reported: (r.astimezone(UTC) + d).replace(microsecond=0).astimezone(LONDON)))
        if returned is not None and returned.astimezone(UTC) < reported.astimezone(UTC):
            returned = None
        episodes.append(Episode(e, draw(st.sampled_from(child_ids)), reported, returned,
                                *draw(st.tuples(st.booleans(), st.booleans(), st.booleans())),
                                draw(st.none() | st.sampled_from(RISK_LEVELS)), draw(st.none() | st.sampled_from(RISK_LEVELS)),
                                draw(st.booleans())))
    actions = []
    for _ in range(draw(st.integers(0, 4))):
        ep = draw(st.none() | st.sampled_from(episodes)) if episodes else None
        child = ep.child if ep else draw(st.sampled_from(child_ids))
        actions.append(RecordedAction(draw(ids), child, draw(ids), draw(moments), ep.id if ep else None))
    return FactSet(children, tuple(episodes), tuple(actions))


def _canonical(facts: FactSet) -> tuple:
    """Order as write_bulk sorts, times as UTC instants (same-zone datetimes compare by wall clock)."""
    def times(x):
        return tuple(getattr(x, n).astimezone(UTC) if isinstance(getattr(x, n, None), datetime) else getattr(x, n, None)
                     for n in ("reported", "returned", "at"))
    return (sorted(facts.children, key=lambda c: c.id),
            sorted(((e, times(e)) for e in facts.episodes), key=lambda p: p[0].id),
            sorted(((a, times(a)) for a in facts.actions), key=lambda p: (p[0].child, p[1][2], p[0].action, p[0].episode or "", p[0].by)))


@settings(max_examples=60, deadline=None)
@given(fact_sets())
def test_round_trip_property(facts):
    with tempfile.TemporaryDirectory() as tmp:
        write_bulk(facts, tmp)
        assert _canonical(load_bulk(tmp)) == _canonical(facts)


def _synthetic_folder(tmp_path: Path) -> Path:
    from facts.synth import synthesize
    folder = tmp_path / "year"
    write_bulk(synthesize(60, 3), folder)
    return folder


@pytest.mark.parametrize("quoted", [False, True])
def test_one_childs_rows_are_that_child_of_the_whole_load(tmp_path, quoted):
    folder = _synthetic_folder(tmp_path)
    if quoted:  # a quoted cell makes the reader parse every row instead of skipping lines unread
        path = folder / "children.csv"
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        path.write_text(lines[0] + '"' + lines[1].replace(",", '",', 1) + "".join(lines[2:]), encoding="utf-8")
    whole = load_bulk(folder)
    busiest = max(whole.children, key=lambda c: sum(e.child == c.id for e in whole.episodes)).id
    for child in (whole.children[0].id, busiest, whole.children[-1].id):
        assert load_bulk(folder, child) == whole.for_child(child)


def test_one_child_is_not_matched_by_a_longer_id_or_another_column(tmp_path):
    folder = folder_with(tmp_path, children="id,born\nC1,2010-01-01\nC10,2010-01-01\nX,2010-01-01\n",
                         episodes="id,child,reported\nC1,C10,2024-01-01T10:00\nE2,C1,2024-01-02T10:00\nE3,X,2024-01-03T10:00\n",
                         actions=None)
    mine = load_bulk(folder, "C1")
    assert [c.id for c in mine.children] == ["C1"] and [e.id for e in mine.episodes] == ["E2"]


def test_one_childs_problems_keep_their_lines_and_others_are_not_read(tmp_path):
    folder = folder_with(tmp_path, children="id,born\nA,not a date\nB,2010-01-01\n",
                         episodes="id,child,reported\nE1,A,2024-01-01T10:00\nE2,B,yesterday\n", actions=None)

    def where(child: str | None) -> list[tuple[str, int, int]]:
        with pytest.raises(ClauseError) as info:
            load_bulk(folder, child)
        return sorted((Path(d.span.file).name, d.span.line, d.span.column) for d in info.value.diagnostics)
    assert where(None) == [("children.csv", 2, 2), ("episodes.csv", 3, 3)]
    assert where("A") == [("children.csv", 2, 2)]
    assert where("B") == [("episodes.csv", 3, 3)]
