"""facts.yamlcase and facts.loader: a good case loads; every mistake gets its code, place and words."""
from __future__ import annotations

import textwrap
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from compiler.core.diagnostics import ClauseError, Diagnostic
from facts.loader import LoadedInput, load_path
from facts.model import Child, Episode, RecordedAction
from compiler.core.london import LONDON
from facts.yamlcase import load_case, load_cases

DATA = Path(__file__).parent / "data" / "facts"
GOOD = DATA / "cases" / "cp-plan-missing-with-parents.yaml"
UTC = timezone.utc


def write(tmp_path: Path, text: str, name: str = "case.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def problems(path: Path) -> list[Diagnostic]:
    with pytest.raises(ClauseError) as info:
        load_case(path)
    return info.value.diagnostics


def only(path: Path, code: str) -> Diagnostic:
    """The file's single diagnostic, which must have `code` and name `path`."""
    diags = problems(path)
    assert [d.code for d in diags] == [code], [str(d.span) + " " + d.message for d in diags]
    assert diags[0].span.file == str(path)
    return diags[0]


HEAD = """
case: c
as_of: 2024-03-12T09:00
children:
  - id: C1
    born: 2012-05-01
"""


# ---- the good case ----

def test_good_case_from_the_spec_loads():
    case = load_case(GOOD)
    assert case.name == "cp-plan-missing-with-parents-eight-days"
    assert case.description.startswith("A CP-plan child taken by parents")
    assert case.as_of == datetime(2024, 3, 12, 9, 0, tzinfo=LONDON)
    assert case.facts.children == (Child("C1", date(2012, 5, 1), ("child_protection_plan",), ("safeguarding_concerns",)),)
    assert case.facts.episodes == (Episode("E1", "C1", datetime(2024, 3, 4, 8, 0, tzinfo=LONDON), with_parents=True),)
    assert case.facts.actions == (
        RecordedAction("strategy_discussion", "C1", "team_manager", datetime(2024, 3, 5, 10, 0, tzinfo=LONDON), "E1"),)
    f = str(GOOD)
    assert (case.span.file, case.span.line) == (f, 1)
    assert (case.facts.children[0].span.line, case.facts.children[0].span.column) == (5, 5)
    assert case.facts.episodes[0].span.line == 10
    assert case.facts.actions[0].span.line == 15
    assert case.facts.episodes[0].reported.tzinfo is LONDON
    (ob, ob_span), = case.expect.obligations
    assert ob == {"action": "missing_cp_conference", "child": "C1", "episode": "E1", "actor": "iro"}
    assert (ob_span.file, ob_span.line, ob_span.column) == (f, 22, 7)
    assert [e for e, _ in case.expect.not_obligations] == [{"action": "return_interview", "child": "C1"}]
    assert [(e, s.line) for e, s in case.expect.episodes] == [({"id": "E1", "category": "missing"}, 30)]


def test_numbers_offsets_and_yes_are_read_as_written():
    case = load_case(DATA / "cases" / "more" / "absent-ola-child.yaml")
    (child,), (episode,) = case.facts.children, case.facts.episodes
    assert (child.id, child.responsible_authority, child.statuses) == ("1042", "wirral", ())
    assert (episode.id, episode.child, episode.whereabouts_known, episode.police_risk) == ("7", "1042", True, "low")
    assert episode.returned.astimezone(UTC) == datetime(2024, 6, 29, 10, 0, tzinfo=UTC)
    assert case.as_of.astimezone(UTC) == datetime(2024, 7, 1, 11, 0, tzinfo=UTC)
    (ob, _), = case.expect.obligations
    assert ob["triggered"] == datetime(2024, 6, 28, 22, 15, tzinfo=LONDON) and ob["modality"] == "must"
    assert case.expect.episodes[0][0] == {"id": "7", "category": "absent", "risk": "low"}


def test_ids_keep_their_digits(tmp_path):
    path = write(tmp_path, """
        case: 0012
        as_of: 2024-03-12T09:00
        children:
          - {id: 007, born: 2012-05-01}
        episodes:
          - {id: 1.50, child: 007, reported: 2024-03-04T08:00}
    """)
    case = load_case(path)
    assert case.name == "0012"
    assert case.facts.children[0].id == "007" and case.facts.episodes[0].child == "007"
    assert case.facts.episodes[0].id == "1.50"


def test_load_cases_reads_folders_recursively_in_sorted_order():
    cases = load_cases([DATA / "cases"])
    assert [c.name for c in cases] == ["cp-plan-missing-with-parents-eight-days", "absent-ola-child-returned"]


# ---- one test per diagnostic code ----

def test_F001_yaml_syntax_error_names_the_position(tmp_path):
    d = only(write(tmp_path, """
        case: c
        as_of: 2024-03-12T09:00
        children:
          - id: C1
            born: [2012-05-01
    """), "F001")
    assert d.span.line >= 5 and "YAML syntax error" in d.message


def test_F001_not_utf8(tmp_path):
    path = tmp_path / "case.yaml"
    path.write_bytes(b"case: c\nas_of: 2024-03-12T09:00\ndescription: caf\xe9\n")
    d = only(path, "F001")
    assert (d.span.line, d.span.column) == (3, 17)
    assert "not UTF-8" in d.message and "0xe9" in d.message


def test_F002_unknown_field_suggests_the_nearest(tmp_path):
    d = only(write(tmp_path, HEAD + "    status: [child_protection_plan]\n"), "F002")
    assert (d.span.line, d.span.column) == (6, 5)
    assert "unknown field 'status'" in d.message and "child 'C1'" in d.message
    assert d.hint == "did you mean 'statuses'?"


def test_F002_unknown_top_level_and_expect_fields(tmp_path):
    diags = problems(write(tmp_path, HEAD + "expects:\n  obligations: []\n"))
    assert [(d.code, d.span.line) for d in diags] == [("F002", 6)]
    assert diags[0].hint == "did you mean 'expect'?"


def test_F003_unknown_value(tmp_path):
    d = only(write(tmp_path, HEAD + "    statuses: [early_help, child_protection]\n"), "F003")
    assert (d.span.line, d.span.column) == (6, 28)
    assert "unknown status 'child_protection'" in d.message and "'statuses'" in d.message
    assert d.hint == "did you mean 'child_protection_plan'?"


def test_F004_missing_required_field(tmp_path):
    d = only(write(tmp_path, HEAD + "episodes:\n  - id: E1\n    child: C1\n"), "F004")
    assert (d.span.line, d.span.column) == (7, 5)
    assert "missing required field 'reported'" in d.message and "episode 'E1'" in d.message
    assert "reported: 2024-03-08T17:30" in d.hint


def test_F005_bad_time(tmp_path):
    d = only(write(tmp_path, HEAD + "episodes:\n  - {id: E1, child: C1, reported: 4 March 2024}\n"), "F005")
    assert d.span.line == 7
    assert "'reported'" in d.message and "date and time like 2024-03-08T17:30" in d.message


def test_F005_a_time_that_is_not_real_says_what_is_wrong(tmp_path):
    """A report time of the right shape but no real day says which part is wrong, with a time as the example."""
    d = only(write(tmp_path, HEAD + "episodes:\n  - {id: E1, child: C1, reported: 2024-03-34T08:00}\n"), "F005")
    assert "'2024-03-34T08:00' is not a real date and time (day is out of range for month)" in d.message
    assert d.hint == "write reported: 2024-03-08T17:30"


def test_date_only_report_is_the_whole_day(tmp_path):
    """A date alone is not midnight: the episode carries the day's first and last minute (facts/moments.py),
    and a date-only return on the day of an exact report starts at the report."""
    case = load_case(write(tmp_path, HEAD + "episodes:\n  - {id: E1, child: C1, reported: 2024-03-04}\n"
                           "  - {id: E2, child: C1, reported: 2024-03-05T14:00, returned: 2024-03-05}\n"))
    e1, e2 = case.facts.episodes
    assert (e1.reported.hour, e1.reported.minute, e1.reported_until.hour, e1.reported_until.minute) == (0, 0, 23, 59)
    assert e1.returned is None and e1.returned_until is None
    assert e2.reported_until is None and e2.returned == e2.reported and (e2.returned_until.hour, e2.returned_until.minute) == (23, 59)


@pytest.mark.parametrize("tail, line, words", [
    ("episodes:\n  - {id: E1, child: C2, reported: 2024-03-04T08:00}\n", 7, "episode names child 'C2'"),
    ("actions:\n  - {action: x, child: C9, by: me, at: 2024-03-04T08:00}\n", 7, "action names child 'C9'"),
    ("actions:\n  - {action: x, child: C1, episode: E9, by: me, at: 2024-03-04T08:00}\n", 7, "names episode 'E9'"),
    ("  - {id: C2, born: 2012-05-01}\nepisodes:\n  - {id: E2, child: C2, reported: 2024-03-04T08:00}\n"
     "actions:\n  - {action: x, child: C1, episode: E2, by: me, at: 2024-03-04T08:00}\n", 10, "belongs to child 'C2', not 'C1'"),
    ("expect:\n  not_obligations:\n    - {child: C3}\n", 8, "expected obligation names child 'C3'"),
])
def test_F006_unknown_reference(tmp_path, tail, line, words):
    d = only(write(tmp_path, HEAD + tail), "F006")
    assert d.span.line == line and words in d.message


def test_F007_returned_before_reported(tmp_path):
    d = only(write(tmp_path, HEAD + "episodes:\n  - id: E1\n    child: C1\n    reported: 2024-03-04T08:00\n"
                   "    returned: 2024-03-04T07:59\n"), "F007")
    assert (d.span.line, d.span.column) == (10, 15)
    assert "returned 2024-03-04T07:59, before it was reported (2024-03-04T08:00)" in d.message


def test_F008_duplicate_ids_keys_and_case_names(tmp_path):
    d = only(write(tmp_path, HEAD + "  - {id: C1, born: 2013-01-01}\n"), "F008")
    assert d.span.line == 6 and "duplicate child id 'C1'" in d.message and d.related[0].line == 4
    d = only(write(tmp_path, HEAD + "    born: 2013-01-01\n"), "F008")
    assert d.span.line == 6 and "duplicate field 'born'" in d.message
    folder = tmp_path / "cases"
    folder.mkdir()
    a, b = write(folder, HEAD, "a.yaml"), write(folder, HEAD, "b.yml")
    with pytest.raises(ClauseError) as info:
        load_cases([folder])
    (d,) = [d for d in info.value.diagnostics if d.code == "F008"]
    assert d.span.file == str(b) and "duplicate case name 'c'" in d.message and d.related[0].file == str(a)


def test_F009_wrong_type(tmp_path):
    diags = problems(write(tmp_path, HEAD + "    statuses: looked_after\nepisodes:\n"
                           "  - {id: [E1], child: C1, reported: 2024-03-04T08:00, with_parents: maybe}\n"))
    assert [(d.code, d.span.line) for d in diags] == [("F009", 6), ("F009", 8), ("F009", 8)]
    assert "'statuses' must be a list" in diags[0].message
    assert "'id' must be a name or id" in diags[1].message
    assert "'with_parents' must be true or false, got 'maybe'" in diags[2].message and "yes and no" in diags[2].hint


@pytest.mark.parametrize("text, words", [("", "empty"), ("# nothing yet\n", "empty"),
                                         ("- case: c\n", "must be a mapping"), ("just words\n", "must be a mapping")])
def test_F010_empty_or_not_a_mapping(tmp_path, text, words):
    path = tmp_path / "case.yaml"
    path.write_text(text, encoding="utf-8")
    assert words in only(path, "F010").message


def test_F011_no_such_file_or_folder(tmp_path):
    with pytest.raises(ClauseError) as info:
        load_path(tmp_path / "nope.yaml")
    (d,) = info.value.diagnostics
    assert d.code == "F011" and "no such file or folder" in d.message and d.span.file == str(tmp_path / "nope.yaml")
    assert only(tmp_path / "missing.yaml", "F011")


def test_F012_nothing_loadable(tmp_path):
    with pytest.raises(ClauseError) as info:
        load_path(tmp_path)
    assert [d.code for d in info.value.diagnostics] == ["F012"]
    (tmp_path / "children.csv").write_text("id,born\n")
    with pytest.raises(ClauseError) as info:
        load_path(tmp_path / "children.csv")
    assert [d.code for d in info.value.diagnostics] == ["F012"]
    assert str(tmp_path) in info.value.diagnostics[0].hint


# ---- more behaviour ----

def test_all_problems_are_reported_at_once(tmp_path):
    diags = problems(write(tmp_path, """
        case: c
        as_of: 2024-03-12
        children:
          - {id: C1, born: 2012-05-01, placed_in: mersey}
        episodes:
          - {id: E1, child: C1, reported: 2024-03-04T08:00, police_risk: hgh, colour: red}
    """))
    assert [(d.code, d.span.line) for d in diags] == [("F005", 2), ("F003", 4), ("F003", 6), ("F002", 6)]


def test_yaml_tags_and_recursive_aliases_are_diagnostics_not_objects(tmp_path):
    diags = problems(write(tmp_path, """
        case: !!python/object/apply:os.system ["echo hacked"]
        as_of: 2024-03-12T09:00
        children: &kids
          - *kids
    """))
    codes = {d.code for d in diags}
    assert codes == {"F009"}
    assert any("unsupported YAML tag" in d.message for d in diags)
    assert any("alias ('*kids') is not allowed" in d.message for d in diags)


def test_a_yaml_alias_bomb_is_refused_before_it_expands(tmp_path):
    """Nine levels of lists, each repeating the one above nine times: 2 KB of text standing for 9^10 values
    (it ran for 100 s and died of MemoryError). Refused where the aliases are read, each name once."""
    lines = ["case: bomb", "as_of: 2024-03-12T09:00", "a0: &a0 [" + ", ".join(["2024-01-01"] * 9) + "]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
    lines.append("children: [{id: C1, born: *a9}]")
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    diags = problems(path)
    aliases = [d for d in diags if "alias" in d.message]
    assert [(d.code, d.span.line) for d in aliases] == [("F009", line) for line in range(4, 14)]
    assert "'*a9'" in aliases[-1].message


def test_expectation_fields_are_checked(tmp_path):
    diags = problems(write(tmp_path, HEAD + """
        expect:
          obligations:
            - {child: C1, modality: mustt, status: late, due: soon, colour: red, episode: }
          episodes:
            - {id: E1, category: lost}
    """.replace("\n        ", "\n")))
    got = sorted((d.code, d.message.split(": ", 1)[-1][:30]) for d in diags)
    assert [c for c, _ in got] == ["F002", "F003", "F003", "F003", "F005", "F006", "F009"]


def test_load_path_kinds():
    cases = load_path(DATA / "cases")
    assert isinstance(cases, LoadedInput) and cases.bulk is None and len(cases.cases) == 2
    one = load_path(GOOD)
    assert [c.name for c in one.cases] == ["cp-plan-missing-with-parents-eight-days"]
    bulk = load_path(DATA / "bulk")
    assert bulk.cases == () and bulk.bulk is not None and len(bulk.bulk.children) == 2


def test_F004_names_the_misspelt_field_that_looks_like_the_missing_one(tmp_path):
    """`reportd:` gives F004 at the episode's line (shown first) and F002 at the typo: the first one a reader
    sees names the typo and the fix, not only 'add reported: ...'. A field that looks like nothing missing
    leaves the usual hint."""
    diags = problems(write(tmp_path, HEAD + "episodes:\n  - id: E1\n    child: C1\n    reportd: 2024-03-04T08:00\n"))
    assert sorted(d.code for d in diags) == ["F002", "F004"]
    [missing] = [d for d in diags if d.code == "F004"]
    assert missing.hint == "'reportd' on line 9 looks like it: write it as 'reported'"
    assert [d.hint for d in diags if d.code == "F002"] == ["did you mean 'reported'?"]
    other = problems(write(tmp_path, HEAD + "episodes:\n  - {id: E1, child: C1, colour: red}\n", "other.yaml"))
    assert [d.hint for d in other if d.code == "F004"] == ["add reported: 2024-03-08T17:30"]
