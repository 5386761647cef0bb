"""One bad input per diagnostic code: code, severity, file, line, column and message.

Policies are fed in memory (`compile_policy(root, texts=...)`); their source text
is read from `root/sources/`. Each input is built to have exactly one problem, so
each test also shows that a check does not fire where it should not.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from compiler.core.diagnostics import ClauseError, Diagnostic, display_path
from compiler.policy import compile_policy

SOURCE = """Test Procedure

Duties

The police are told at once. A strategy discussion is held within 72 hours of the report.

The procedure is reviewed every year.
"""
HEAD = 'document DOC "Test" source "sources/src.txt"\nsection DOC "Duties"\n'  # lines 1-2
SAYS = 'says "The police are told at once."'


def clause(when: str | None, then: str, ident: str = "T-1", extra: str = "") -> str:
    """A clause at line 3: says on 4, then `extra` lines, `when` and `then` (col 8) after them."""
    return (f'clause {ident} "Test"\n  {SAYS}\n{extra}' + (f"  when {when}\n" if when else "") + f"  then {then}\n")


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "sources").mkdir()
    (tmp_path / "sources" / "src.txt").write_text(SOURCE, encoding="utf-8")
    return tmp_path


def diagnostics(root: Path, text: str) -> list[Diagnostic]:
    try:
        return list(compile_policy(root, texts={"p.clause": text}).warnings)
    except ClauseError as e:
        return e.diagnostics


def summary(ds: list[Diagnostic]) -> list[tuple]:
    return [(d.code, d.severity, d.span.file, d.span.line, d.span.column, d.message) for d in ds]


CASES: dict[str, tuple[str, tuple]] = {
    "E002": (HEAD + clause("the child has status lookd_after", "police must locate_child"),
             ("E002", "error", 5, 29, "unknown status 'lookd_after'")),
    "E003": (HEAD + clause("the child has flag cs", "police must locate_child"),
             ("E003", "error", 5, 27, "unknown flag 'cs'")),
    "E004": (HEAD + clause(None, "polic must locate_child"),
             ("E004", "error", 5, 8, "unknown actor 'polic'")),
    "E005": (HEAD + clause(None, "police must locate_chld"),
             ("E005", "error", 5, 20, "unknown action 'locate_chld'")),
    "E006": (HEAD + clause(None, "police may locate_child"),
             ("E006", "error", 5, 15, "unknown modality 'may'")),
    "E003-episode-flag": (HEAD + clause("the child has had safeguarding_concern within 30 days", "police must locate_child"),
                          ("E003", "error", 5, 26, "unknown episode flag 'safeguarding_concern'")),
    "E007-child-field": (HEAD + clause("the child has hair_colour red", "police must locate_child"),
                         ("E007", "error", 5, 22, "unknown child field 'hair_colour'")),
    "E007-value": (HEAD + clause("the child has placed_in mars", "police must locate_child"),
                   ("E007", "error", 5, 32, "unknown value of placed_in 'mars'")),
    "E007-category": (HEAD + clause("the episode is lost", "police must locate_child"),
                      ("E007", "error", 5, 23, "unknown category 'lost'")),
    "E007-risk": (HEAD + clause("the episode is missing", "the risk is extreme"),
                  ("E007", "error", 6, 20, "unknown risk level 'extreme'")),
    "E007-boolean-with-value": (HEAD + clause("the episode has with_parents yes", "police must locate_child"),
                                ("E007", "error", 5, 37, "with_parents is true or false and takes no value")),
    "E010": (HEAD + clause(None, "police must locate_child") + clause(None, "police must inform_police"),
             ("E010", "error", 6, 8, "duplicate clause id 'T-1'")),
    "E011-exception": (HEAD + clause(None, "police must locate_child").replace('clause T-1 "Test"', 'exception T-1 "Test" overrides T-9'),
                       ("E011", "error", 3, 32, "unknown clause 'T-9' in the exception")),
    "E011-overlaps": (HEAD + clause(None, "police must locate_child", extra='  overlaps T-9 "both"\n'),
                      ("E011", "error", 5, 12, "unknown clause 'T-9'")),
    "E012-instead": (HEAD + clause(None, "police instead"),
                     ("E012", "error", 5, 8, "'ACTOR instead' only fits an exception that 'overrides actor of' clauses")),
    "E012-kind": (HEAD + clause("the child has been reported missing", "the episode is missing")
                  + clause(None, "police must locate_child", "T-2").replace('clause T-2 "Test"', 'exception T-2 "Test" overrides T-1'),
                  ("E012", "error", 7, 32, "T-2 concludes obligation but T-1 concludes category; "
                                           "an exception replaces a conclusion of the same kind")),
    "E012-actor-of-category": (HEAD + clause("the child has been reported missing", "the episode is missing")
                               + clause(None, "police instead", "T-2").replace('clause T-2 "Test"', 'exception T-2 "Test" overrides actor of T-1'),
                               ("E012", "error", 7, 41, "T-1 creates no obligation, so it has no actor to override")),
    "E012-actor-without-instead": (HEAD + clause(None, "police must locate_child")
                                   + clause(None, "police must inform_police", "T-2").replace('clause T-2 "Test"', 'exception T-2 "Test" overrides actor of T-1'),
                                   ("E012", "error", 6, 1, "T-2 overrides only the actor, so it must conclude 'ACTOR instead'")),
    "E013": (HEAD + clause(None, "police must locate_child").replace('clause T-1 "Test"', 'exception T-1 "Test" overrides T-2')
             + clause(None, "police must locate_child", "T-2").replace('clause T-2 "Test"', 'exception T-2 "Test" overrides T-1'),
             ("E013", "error", 6, 1, "exception cycle: T-1 overrides T-2 overrides T-1")),
    "E020": (HEAD + clause(None, "police must locate_child").replace(SAYS, 'says "The police are told at last."'),
             ("E020", "error", 4, 8, "quote not found in the source text of DOC")),
    "E021": (HEAD.replace('section DOC', 'section DOX') + clause(None, "police must locate_child"),
             ("E021", "error", 2, 9, "unknown document 'DOX'")),
    "E022": (HEAD.replace("src.txt", "gone.txt") + clause(None, "police must locate_child"),
             ("E022", "error", 1, 28, "source text 'sources/gone.txt' of document DOC cannot be read")),
    "E023": (HEAD.split("\n")[0] + "\n" + clause(None, "police must locate_child"),
             ("E023", "error", 2, 1, "'T-1' is not inside a section")),
    "E024": (HEAD.replace('"Duties"', '"Duties" from "Nowhere in the text"') + clause(None, "police must locate_child"),
             ("E024", "error", 2, 27, 'the section\'s start "Nowhere in the text" is not in DOC')),
    "E030": (HEAD + clause("not the episode is missing", "police must locate_child"),
             ("E030", "error", 5, 12, "unsafe variable: T-1 refers to an episode, but no positive condition says which episode")),
    "E031": (HEAD + clause("the child has been reported missing and not the episode is absent", "the episode is absent"),
             ("E031", "error", 3, 1, "recursion through negation: 'category' depends on itself through 'not'")),
    "E032": (HEAD + clause("the child has been reported missing and the episode is absent", "the episode is missing"),
             ("E032", "error", 3, 1, "recursion: 'category' depends on itself")),
    "E040-recurring-due-anchor": (HEAD + clause("the child has been reported missing",
                                                "police must locate_child every 7 days until returned within 1 day of reported"),
                                  ("E040", "error", 6, 8, "a recurring obligation's due time must count from each occurrence")),
    "E040-immediately-within": (HEAD + clause(None, "police must locate_child immediately within 1 day"),
                                ("E040", "error", 5, 8, "an obligation is either 'immediately' or 'within' a time, not both")),
    "E041": (HEAD + clause("the child has been reported missing 0 times within 30 days", "police must locate_child"),
             ("E041", "error", 5, 8, "a window needs at least 1 episode and at least 1 day")),
    "E041-flag-window": (HEAD + clause("the child has had safeguarding_concerns within 0 days", "police must locate_child"),
                         ("E041", "error", 5, 8, "a window needs at least 1 day")),
    "E041-period": (HEAD + clause("the child has been reported missing", "police must locate_child every 0 days until returned"),
                    ("E041", "error", 6, 8, "a recurrence period must be at least 1 hour")),
    "E042": (HEAD + clause(" and ".join(["(the child has flag cse or the child has flag cce)"] * 9), "police must locate_child"),
             ("E042", "error", 5, 8, "the condition expands to 512 cases; at most 256")),
    "W101": (HEAD + clause("the child has flag cse and not the child has flag cse", "police must locate_child"),
             ("W101", "warning", 5, 8, "T-1 can never fire: its conditions contradict each other")),
    "W102": (HEAD + clause(None, "police must locate_child", extra='  overlaps T-2 "both apply"\n')
             + clause(None, "police must inform_police", "T-2"),
             ("W102", "warning", 5, 3, "T-1 overlaps T-2: both apply")),
    "W103": (HEAD + 'declare actor police "again"\n' + clause(None, "police must locate_child"),
             ("W103", "warning", 3, 15, "actor 'police' is already in the shared vocabulary")),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_code(root: Path, case: str) -> None:
    text, (code, severity, line, column, message) = CASES[case]
    assert summary(diagnostics(root, text)) == [(code, severity, "p.clause", line, column, message)]


def test_a_category_and_a_risk_defined_through_each_other_are_refused(root: Path) -> None:
    """pyDatalog's search never finishes on such a pair (checked by hand): `check` must stop it first."""
    text = (HEAD + clause("the child has been reported missing and the risk is high", "the episode is missing")
            + clause("the child has been reported missing and the episode is missing", "the risk is high", "T-2"))
    assert [(d.code, d.message) for d in diagnostics(root, text)] == [
        ("E032", "recursion: 'category' depends on itself"), ("E032", "recursion: 'risk' depends on itself")]


def test_hints_point_at_the_fix(root: Path) -> None:
    """Unknown names suggest the nearest known one; a near-miss quote says how much matched and where."""
    [typo] = diagnostics(root, CASES["E002"][0])
    assert typo.hint == "did you mean 'looked_after'?"
    [quote] = diagnostics(root, CASES["E020"][0])
    assert quote.hint == ('the first 23 characters match DOC at line 5, column 1; '
                          'the quote differs after "The police are told at ": the quote has \'l\' where the source has \'o\'')
    [far] = diagnostics(root, HEAD + clause(None, "police must locate_child").replace(SAYS, 'says "Nothing like it."'))
    assert far.code == "E020" and far.hint == f"check the wording against {display_path(root / 'sources' / 'src.txt')}"
    [unknown] = diagnostics(root, CASES["E011-exception"][0])
    assert unknown.hint == ""  # never suggests the exception itself


def test_related_spans(root: Path) -> None:
    [dup] = diagnostics(root, CASES["E010"][0])
    assert [str(s) for s in dup.related] == ["p.clause:3:8"]
    [overlap] = diagnostics(root, CASES["W102"][0])
    assert [(str(s), s.clause) for s in overlap.related] == [("p.clause:7:1", "T-2")]


# ---- E000 and E001: reading and parsing ----------------------------------------------

def test_e000_no_folder(tmp_path: Path) -> None:
    with pytest.raises(ClauseError) as e:
        compile_policy(tmp_path / "nowhere")
    assert summary(e.value.diagnostics) == [("E000", "error", str(tmp_path / "nowhere"), 0, 0, "no such policy folder")]


def test_e000_a_link_to_nothing_is_not_skipped(tmp_path: Path) -> None:
    """A .clause link whose file is gone was left out without a word (`clause check`: 0 errors); one to itself
    then was a traceback. Each is E000 at the link's own name; a link to a folder is no file, and skipped."""
    (tmp_path / "a.clause").symlink_to(tmp_path / "gone.clause")
    (tmp_path / "b.clause").symlink_to(tmp_path / "b.clause")
    (tmp_path / "sub").mkdir()
    (tmp_path / "c.clause").symlink_to(tmp_path / "sub")
    with pytest.raises(ClauseError) as e:
        compile_policy(tmp_path)
    assert [(d.code, Path(d.span.file).name, d.message) for d in e.value.diagnostics] == [
        ("E000", "a.clause", "cannot read the file: No such file or directory"),
        ("E000", "b.clause", "cannot read the file: Too many levels of symbolic links")]


def test_e000_no_files(tmp_path: Path) -> None:
    with pytest.raises(ClauseError) as e:
        compile_policy(tmp_path)
    assert summary(e.value.diagnostics) == [("E000", "error", str(tmp_path), 0, 0, "the folder holds no .clause files")]


def test_e000_unreadable_file(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    locked = root / "locked.clause"
    locked.write_text(HEAD)
    real = Path.read_bytes

    def read_bytes(self: Path) -> bytes:  # chmod 000 does not stop root, so refuse here
        if self.name == "locked.clause":
            raise PermissionError(13, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    with pytest.raises(ClauseError) as e:
        compile_policy(root)
    assert summary(e.value.diagnostics) == [("E000", "error", display_path(locked), 0, 0, "cannot read the file: Permission denied")]


def test_e001_syntax_error_names_what_was_expected(root: Path) -> None:
    [d] = diagnostics(root, HEAD + clause(None, "police must locate_child within 3 weeks"))
    assert summary([d]) == [("E001", "error", "p.clause", 5, 42, "syntax error: unexpected 'weeks'")]
    assert d.hint == "expected 'day', 'days', 'hour' or 'hours'"  # a short list, as the hint


def test_e001_lists_keywords_when_the_lexer_fails(root: Path) -> None:
    [d] = diagnostics(root, HEAD + clause(None, "police must locate_child") + "  ;\n")
    assert (d.code, d.span.line, d.span.column) == ("E001", 6, 3)
    assert d.message == "syntax error: unexpected ';'"
    # the keywords come from the parse table (Lark's own list has only the regex terminals), grouped
    assert d.hint == ("expected 'also', a snake_case name, a new item (clause, exception, not encoded, section, "
                      "document, declare, accept, local standard) or a timing (within, from, every, until returned, immediately)")


def test_e001_end_of_file(root: Path) -> None:
    assert summary(diagnostics(root, HEAD + clause(None, "police must") + "\n\n")) == [
        ("E001", "error", "p.clause", 5, 19, "syntax error: unexpected end of file")]


def test_e001_not_utf8(root: Path) -> None:
    bad = root / "bad.clause"
    bad.write_bytes(HEAD.encode() + 'clause T-1 "Café '.encode() + b'\xff"\n')  # column counts characters, not bytes
    with pytest.raises(ClauseError) as e:
        compile_policy(root)
    assert summary(e.value.diagnostics) == [("E001", "error", display_path(bad), 3, 18, "the file is not valid UTF-8 text")]


def test_e001_nested_too_deeply(root: Path) -> None:
    deep = "not " * 150 + "the child has flag cse"
    [d] = diagnostics(root, HEAD + clause(f"the child has been reported missing and {deep}", "police must locate_child"))
    assert (d.code, d.span.line, d.message) == ("E001", 5, "the conditions are nested too deeply (at most 100 levels)")
    assert d.span.column > 8  # at the deep part of the condition, not the start of the file


def test_e001_number_too_large(root: Path) -> None:
    huge = "9" * 5000  # more digits than int() converts
    assert summary(diagnostics(root, HEAD + clause(f"the child is aged {huge} or under", "police must locate_child"))) == [
        ("E001", "error", "p.clause", 5, 26, "the number 999999999999... is too large; at most 9999")]


# ---- all at once -----------------------------------------------------------------------

def test_every_problem_is_reported_at_once_and_sorted(root: Path) -> None:
    """A syntax error in one file hides nothing in the others; check errors and warnings come together."""
    texts = {
        "c.clause": 'declare actor police "again"\n' + clause(None, "police must locate_child", "T-1"),
        "b.clause": HEAD.replace("DOC", "DOC2", 1) + clause(None, "police must", "T-2"),
        "a.clause": HEAD + clause("the child has status lookd_after", "polic must locate_chld"),
    }
    with pytest.raises(ClauseError) as e:
        compile_policy(root, texts=texts)
    assert [(d.span.file, d.span.line, d.span.column, d.code) for d in e.value.diagnostics] == [
        ("a.clause", 5, 29, "E002"),
        ("a.clause", 6, 8, "E004"),
        ("a.clause", 6, 19, "E005"),
        ("b.clause", 5, 19, "E001"),
        ("c.clause", 2, 1, "E023"),
        ("c.clause", 2, 8, "E010"),
        ("c.clause", 1, 15, "W103"),  # errors first, then warnings
    ]


def test_e025_source_outside_the_policy_folder(tmp_path: Path) -> None:
    (tmp_path / "outside.txt").write_text("Secret text.", encoding="utf-8")
    root = tmp_path / "policy"
    root.mkdir()
    (root / "p.clause").write_text('document DOC "Doc" source "../outside.txt"\n', encoding="utf-8")
    with pytest.raises(ClauseError) as e:
        compile_policy(root)
    [d] = e.value.diagnostics
    assert (d.code, d.span.line, d.span.column) == ("E025", 1, 27)
    assert "outside the policy folder" in d.message


def test_e025_a_clause_file_linked_from_outside_is_refused_unread(tmp_path: Path) -> None:
    """A .clause symlink to a file elsewhere was read, and a syntax error printed its first line."""
    secret = tmp_path / "secret.txt"
    secret.write_text("root:x:0:0:the first line of someone else's file\n", encoding="utf-8")
    root = tmp_path / "policy"
    root.mkdir()
    (root / "documents.clause").symlink_to(secret)
    with pytest.raises(ClauseError) as e:
        compile_policy(root)
    [d] = e.value.diagnostics
    assert d.code == "E025" and "link to a file outside the policy folder" in d.message
    assert "root:x" not in str(e.value)


def test_e025_a_committed_link_is_refused_in_clause_diff(tmp_path: Path) -> None:
    """`clause diff --base REV` exports the revision; a symlink committed there is refused the same way."""
    import subprocess
    from click.testing import CliRunner
    from cli.main import main
    from compiler.policy import BUNDLED
    import shutil
    repo = tmp_path / "repo"
    shutil.copytree(BUNDLED, repo / "policy")
    (tmp_path / "secret.txt").write_text("a private first line\n", encoding="utf-8")
    run = lambda *a: subprocess.run(["git", *a], cwd=repo, check=True, capture_output=True)  # noqa: E731
    run("init", "-q")
    run("-c", "user.name=t", "-c", "user.email=t@t", "add", ".")
    (repo / "policy" / "zz.clause").symlink_to(tmp_path / "secret.txt")
    run("add", "policy/zz.clause")
    run("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "a link")
    (repo / "policy" / "zz.clause").unlink()
    case = Path(__file__).resolve().parent.parent / "examples" / "missing-from-home-weekend.yaml"
    result = CliRunner().invoke(main, ["diff", "--base", "HEAD", "--head", str(repo / "policy"), str(case)])
    assert result.exit_code == 2 and "E025" in result.output and "private first line" not in result.output
