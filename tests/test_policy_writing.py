"""Writing policy as a policy officer does (issue 17): each trap of the everyday path, pinned.

Policy discovery (the nearest `policy/` from the current folder up, and git revisions in
its repository), parse errors that name the slip at the right place, curly quotes, domain
synonyms in suggestions, the `declare` line for a new action, errors before warnings,
`check --strict`, and warnings accepted by id.
"""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import main
from compiler.core.diagnostics import ClauseError, Diagnostic, Span, error, render_json, render_text, warning
from compiler.parse import parse_file
from compiler.policy import BUNDLED, compile_policy

SOURCE = "Duties\n\nThe police are told at once. The child’s social worker is told within a day.\n"
POLICY = '''document DOC "Test" source "src.txt"
section DOC "Duties"
declare action tell_the_police "the police are told"

clause T-1 "Told"
  says "The police are told at once."
  when the child has been reported missing
  then police must tell_the_police within 24 hours
'''
CASE = '''case: one-episode
as_of: 2024-03-05T09:00
children:
  - id: C1
    born: 2012-05-01
episodes:
  - id: E1
    child: C1
    reported: 2024-03-04T08:00
expect:
  obligations:
    - action: tell_the_police
      child: C1
      actor: police
'''


def write_policy(folder: Path, text: str = POLICY) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "src.txt").write_text(SOURCE, encoding="utf-8")
    (folder / "p.clause").write_text(text, encoding="utf-8")
    return folder


def run(*args: str):
    return CliRunner().invoke(main, list(args))


# ---- policy discovery ------------------------------------------------------------------

def test_check_finds_the_policy_folder_from_the_current_folder_up(tmp_path: Path, monkeypatch) -> None:
    """A syntax error in ./policy is reported (it used to say "0 errors": the bundled policy was checked)."""
    write_policy(tmp_path / "policy", POLICY.replace("then police", "police"))
    (tmp_path / "cases" / "deep").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "cases" / "deep")
    result = run("check")
    assert result.exit_code == 1
    assert "error[E001]: 'then' is missing before 'police'" in result.stdout
    assert result.stderr == f"using policy {(tmp_path / 'policy').resolve()} (found from the current folder)\n"


def test_a_given_policy_always_wins_and_the_bundled_one_is_the_fallback(tmp_path: Path, monkeypatch) -> None:
    write_policy(tmp_path / "policy", "clause broken")
    monkeypatch.chdir(tmp_path)
    given = run("check", "--no-analysis", str(BUNDLED))
    assert given.exit_code == 0 and given.stderr == ""  # nothing to announce: the user named it
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    (tmp_path / "policy" / "p.clause").unlink()  # a policy/ without .clause files is not a policy
    fallback = run("compile")
    assert fallback.exit_code == 0 and fallback.stderr == f"using policy {BUNDLED.resolve()} (bundled)\n"


def test_obligations_why_and_test_use_the_discovered_policy(tmp_path: Path, monkeypatch) -> None:
    write_policy(tmp_path / "policy")
    (tmp_path / "case.yaml").write_text(CASE, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    found = run("obligations", "case.yaml", "--format", "json")
    assert found.exit_code == 0, found.output
    [case] = json.loads(found.stdout)
    assert [(o["action"], o["clause"]) for o in case["obligations"]] == [("tell_the_police", "T-1")]
    assert run("test", "case.yaml").exit_code == 0
    why = run("why", "case.yaml", "--child", "C1", "--action", "tell_the_police")
    assert why.exit_code == 0 and "T-1" in why.stdout
    given = run("test", "case.yaml", "--policy", str(BUNDLED))  # --policy wins: the bundled one lacks the action
    assert given.exit_code != 0 and "tell_the_police" in given.output and "using policy" not in given.stderr


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args], cwd=repo, check=True,
                   capture_output=True)


def test_diff_resolves_a_revision_in_the_repository_of_the_discovered_policy(tmp_path: Path, monkeypatch) -> None:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    repo = tmp_path / "repo"
    write_policy(repo / "policy")
    (repo / "case.yaml").write_text(CASE, encoding="utf-8")
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "24 hours")
    (repo / "policy" / "p.clause").write_text(POLICY.replace("within 24 hours", "within 48 hours"), encoding="utf-8")
    git(repo, "commit", "-qam", "48 hours")
    monkeypatch.chdir(repo)
    result = run("diff", "--base", "HEAD~1", "case.yaml", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["summary"]["changed"] == 1
    [change] = data["cases"][0]["changes"]
    # every duty has a state, so the later due time also turns overdue into open
    assert change["changed"] == {"due": {"base": "2024-03-05T08:00", "head": "2024-03-06T08:00"},
                                 "status": {"base": "overdue", "head": "open"}}


# ---- parse errors --------------------------------------------------------------------------

HEAD = 'section DOC "Duties"\n'  # line 1; the clause starts on line 2


def slip(text: str) -> Diagnostic:
    with pytest.raises(ClauseError) as e:
        parse_file("p.clause", HEAD + text)
    [d] = e.value.diagnostics
    assert d.code == "E001"
    return d


def where(d: Diagnostic) -> tuple[int, int, str]:
    return d.span.line, d.span.column, d.message


CLAUSE = 'clause T-1 "Told"\n  says "x"\n'  # lines 2-3


@pytest.mark.parametrize("text, line, column, message", [
    (CLAUSE + "  when the child has status looked_after\n  police must tell_the_police\n",
     5, 3, "'then' is missing before 'police'"),
    (CLAUSE + "  police must tell_the_police\n", 4, 3, "'then' is missing before 'police'"),
    (CLAUSE + "  when the child has status looked_after the episode is missing\n  then police must locate_child\n",
     4, 42, "another condition or the conclusion starts here without 'and', 'or' or 'then'"),
    (CLAUSE + "  when the child has status looked_after\n  Then police must locate_child\n",
     5, 3, "keywords are lower case: write 'then', not 'Then'"),
    (CLAUSE + "  When the child has status looked_after\n  then police must locate_child\n",
     4, 3, "keywords are lower case: write 'when', not 'When'"),
    (CLAUSE + "  THEN police must locate_child\n", 4, 3, "keywords are lower case: write 'then', not 'THEN'"),
    (CLAUSE + "  then Team Manager must hold strategy_discussion\n",
     4, 8, "names are lower case, one word joined by underscores: write team_manager, not 'Team Manager'"),
    (CLAUSE + "  then TM must hold strategy_discussion\n", 4, 8, "names are lower case: write team_manager, not 'TM'"),
    (CLAUSE + "  when the child has status Child In Care\n  then police must locate_child\n",
     4, 29, "names are lower case, one word joined by underscores: write looked_after, not 'Child In Care'"),
    (CLAUSE + "  then team manager must hold strategy_discussion\n",
     4, 8, "an actor's name is one word: write team_manager, not 'team manager'"),
    (CLAUSE + "  then police and team manager must hold strategy_discussion\n",
     4, 19, "an actor's name is one word: write team_manager, not 'team manager'"),
    (CLAUSE + "  then team_manager must hold strategy discussion\n",
     4, 31, "an action's name is one word: write strategy_discussion, not 'strategy discussion'"),
    ('clause cp-1 "Told"\n', 2, 8, "'cp-1' is not a clause id: ids are capitals, digits and dashes, like LMCP-CP-1"),
    ('clause Cp-1 "Told"\n', 2, 8, "'Cp-1' is not a clause id: ids are capitals, digits and dashes, like LMCP-CP-1"),
    ('clause T-1 "Told"\n  says "The police are told at once.\n  then police must locate_child\n',
     3, 8, "this quote is never closed"),
    ("clause T-1 'Told'\n", 2, 12, "text is quoted with double quotes, not with '"),
    ("clause T-1 ‘Told’\n", 2, 12, "text is quoted with double quotes, not with ‘"),
    ('clause T-1 “Told"\n', 2, 12, "this curly quote “ is never closed with ” on its line"),
    (CLAUSE + "  when (the child has status looked_after\n   or the child has flag cse\n  then police must locate_child\n",
     4, 8, "this bracket is never closed"),
    (CLAUSE + "  when (not (the child has status looked_after)\n  then police must locate_child\n",
     4, 8, "this bracket is never closed"),
    (CLAUSE + "  when the child has status looked_after)\n  then police must locate_child\n",
     4, 41, "this ')' closes no bracket"),
    (CLAUSE + "  when the episode has lasted 72 hourz\n  then police must locate_child\n",
     4, 34, "'hourz' is not a word of the language"),
])
def test_each_common_slip_has_its_own_message_at_the_right_place(text: str, line: int, column: int, message: str) -> None:
    assert where(slip(text)) == (line, column, message)


def test_hints_say_how_to_write_it() -> None:
    assert slip(CLAUSE + "  police must tell_the_police\n").hint == \
        "a conclusion starts with 'then': then police must tell_the_police"
    unclosed = slip('clause T-1 "Told”\n')
    assert (unclosed.span.column, unclosed.message) == (12, "this quote is never closed")
    assert unclosed.hint == "it ends with a curly ” on this line: use the same kind of quote at both ends"
    assert slip(CLAUSE + "  when (the child has flag cse\n  then police must locate_child\n").hint == \
        "close it with ')' after the last condition it groups, before 'then'"


def test_a_misspelt_keyword_is_named_whole_not_read_as_a_missing_then() -> None:
    """`hourz` lexes as the keyword `hour` then a name `z`: it was "'then' is missing before 'z'"."""
    d = slip(CLAUSE + "  when the episode has lasted 72 hourz\n  then police must locate_child\n")
    assert (d.span.column, d.hint) == (34, "did you mean 'hour'?")
    glued = slip(CLAUSE + "  when the episode has lasted 72h\n  then police must locate_child\n")  # a unit, not a word
    assert (glued.message, glued.hint) == ("syntax error: unexpected 'h'", "expected 'day', 'days', 'hour' or 'hours'")


def test_the_expected_list_is_short_and_only_a_hint() -> None:
    d = slip(CLAUSE + "  then police must locate_child within 3 weeks\n")
    assert (d.message, d.hint) == ("syntax error: unexpected 'weeks'", "expected 'day', 'days', 'hour' or 'hours'")
    after_condition = slip(CLAUSE + "  when the child has flag cse 3\n")
    assert after_condition.hint == "expected 'and', 'or' or 'then'"  # no ')' while no bracket is open


def test_curly_quotes_delimit_text_verbatim() -> None:
    [clause] = parse_file("p.clause", HEAD + 'clause T-1 “Told” says “The child’s social worker is told "soon".”\n'
                                             "  then police must locate_child\n").items[1:]
    assert clause.title.value == "Told" and clause.says[0].value == 'The child’s social worker is told "soon".'


# ---- quotes, synonyms, declarations -------------------------------------------------------

def diagnostics(tmp_path: Path, text: str) -> list[Diagnostic]:
    write_policy(tmp_path, text)
    try:
        return list(compile_policy(tmp_path).warnings)
    except ClauseError as e:
        return e.diagnostics


def test_a_quote_matches_whatever_its_apostrophes(tmp_path: Path) -> None:
    """The source has a curly apostrophe (child’s); the quote, typed, has a straight one."""
    text = POLICY.replace("The police are told at once.", "The child's social worker is told within a day.")
    assert diagnostics(tmp_path, text) == []
    straight = "The police are told at once.".replace("police", "police’s")
    [d] = [d for d in diagnostics(tmp_path, POLICY.replace("The police are told at once.", straight)) if d.code == "E020"]
    assert d.hint.endswith("the quote differs after \"The police\": the quote has '’' where the source has ' ' "
                           "(straight and curly quotation marks match each other)")


@pytest.mark.parametrize("written, code, meant", [
    ("the child has status child_in_care", "E002", "looked_after"),
    ("the child has status cla", "E002", "looked_after"),
    ("the child has status cp_plan", "E002", "child_protection_plan"),
    ("the child has status cin", "E002", "child_in_need"),
    ("the child has status lookd_after", "E002", "looked_after"),  # spelling stays the fallback
])
def test_suggestions_know_the_words_of_the_procedures(tmp_path: Path, written: str, code: str, meant: str) -> None:
    [d] = diagnostics(tmp_path, POLICY.replace("the child has been reported missing", written))
    assert d.code == code and d.hint.startswith(f"did you mean '{meant}'?")


@pytest.mark.parametrize("actor, meant", [("tm", "team_manager"), ("sw", "allocated_social_worker"),
                                          ("ooh", "ooh_team_leader"), ("csw", "team_manager")])
def test_actor_synonyms(tmp_path: Path, actor: str, meant: str) -> None:
    [d] = diagnostics(tmp_path, POLICY.replace("then police must", f"then {actor} must"))
    assert d.code == "E004" and d.hint.startswith(f"did you mean '{meant}'?")


def test_an_unknown_action_says_the_declare_line_and_where(tmp_path: Path) -> None:
    [d] = diagnostics(tmp_path, POLICY.replace("must tell_the_police", "must phone_the_duty_desk"))
    assert d.code == "E005"
    assert d.hint == f'if it is a new action, add to {tmp_path / "p.clause"}: declare action phone_the_duty_desk "what it means"'
    [near] = diagnostics(tmp_path, POLICY.replace("must tell_the_police", "must tell_the_polic"))
    assert near.hint == "did you mean 'tell_the_police'? If it is a new action, add to " \
        f'{tmp_path / "p.clause"}: declare action tell_the_polic "what it means"'


# ---- order, strict mode, accepted warnings ----------------------------------------------------

def test_errors_come_before_warnings_in_every_format() -> None:
    ds = [warning("W103", Span("a.clause", 1, 1), "w"), error("E002", Span("b.clause", 9, 1), "e")]
    assert render_text(ds).index("error[E002]") < render_text(ds).index("warning[W103]")
    assert [d["code"] for d in json.loads(render_json(ds))] == ["E002", "W103"]


NEVER = POLICY.replace("when the child has been reported missing",
                       "when the child has flag cse and not the child has flag cse")


def test_strict_fails_on_warnings(tmp_path: Path) -> None:
    write_policy(tmp_path, NEVER)
    plain, strict = run("check", str(tmp_path)), run("check", "--strict", str(tmp_path))
    assert plain.exit_code == 0 and "warning[W101]" in plain.stdout
    assert 'if it is intended, add: accept W101 T-1 "why"' in plain.stdout  # the line that accepts it
    assert strict.exit_code == 1 and strict.stdout.rstrip().endswith("0 errors, 1 warning")


def test_an_accepted_warning_is_counted_not_repeated(tmp_path: Path) -> None:
    write_policy(tmp_path, NEVER + '\naccept W101 T-1 "kept to show the contradiction in the text"\n')
    result = run("check", "--strict", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert "W101" not in result.stdout and result.stdout.rstrip() == "0 errors, 0 warnings, 1 accepted warning"
    [d] = json.loads(run("check", "--format", "json", str(tmp_path)).stdout)
    assert (d["code"], d["accepted"]) == ("W101", "kept to show the contradiction in the text")


def test_an_accepted_analysis_warning(tmp_path: Path) -> None:
    two = POLICY + '''
clause T-2 "Told too" says "The police are told at once."
  when the child has been reported missing
  then carer must tell_the_police within 24 hours
'''
    write_policy(tmp_path, two)
    assert "warning[W104]" in run("check", str(tmp_path)).stdout
    write_policy(tmp_path, two + 'accept W104 T-2 T-1 "either may tell the police"\n')
    result = run("check", "--strict", str(tmp_path))
    assert result.exit_code == 0 and result.stdout.rstrip() == "0 errors, 0 warnings, 1 accepted warning"


def test_an_acceptance_that_matches_nothing_is_a_warning(tmp_path: Path) -> None:
    [d] = diagnostics(tmp_path, POLICY + 'accept W101 T-1 "stale"\n')
    assert (d.code, d.span.line, d.message) == ("W106", 9, "this 'accept' matches no W101 warning about T-1")


def test_what_cannot_be_accepted(tmp_path: Path) -> None:
    found = diagnostics(tmp_path, POLICY + 'accept W102 T-1 "x"\naccept E002 T-1 "x"\naccept W101 T-9 "x"\n')
    assert [(d.code, d.span.line) for d in found] == [("E014", 9), ("E014", 10), ("E011", 11)]
    assert found[0].message == "a declared overlap (W102) is already accepted by its 'overlaps' line"


def test_a_misspelt_then_is_named_as_such(tmp_path) -> None:
    """'thn' was reported as "'then' is missing before 'thn'", suggesting 'then thn ...'."""
    from compiler.core.diagnostics import ClauseError
    from compiler.parse import parse_file
    text = ('clause A-1 "t"\n  says "x"\n  when the child has status looked_after\n'
            '  thn police must locate_child\n')
    try:
        parse_file("p.clause", text)
    except ClauseError as e:
        [d] = e.diagnostics
    else:
        raise AssertionError("no error")
    assert (d.span.line, d.span.column) == (4, 3) and "did you mean 'then'?" in d.message
