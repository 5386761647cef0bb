"""`clause fmt`: the canonical layout, comments kept, files that do not parse left alone, --check and --diff.

The properties (formatting never changes the compiled program or a diagnostic, and is
idempotent, for the bundled policy and generated ones) are in tests/test_fmt_properties.py.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import main
from compiler.core.diagnostics import ClauseError
from compiler.fmt import format_text

ROOT = Path(__file__).resolve().parent.parent

MESSY = '''

# header comment

section SMALL "Duties"   from "A child"
clause SM-X-1 "Title" says "A child whose whereabouts cannot be established is missing." # why
  when the child has status looked_after and ( the child has flag cse or the child has flag cce ) and
      # an own-line comment inside a condition
      the episode has lasted more than 72 hours
  then mash must hold strategy_discussion from 72 hours after reported also police must locate_child
exception SM-X-2 "Out of hours" overrides actor of SM-X-1 , SM-X-3
  says # between a keyword and its quote
  "Text with \\"escaped\\" quotes   and  inner   spaces"
  when reported falls on a weekend or public holiday or the child has flag cse then duty_officer instead
declare action a_b "y"
declare action c_d "w"


declare actor e_f "r"
document DOC "t" source "s"
# the end


'''

EXPECTED = '''# header comment

section SMALL "Duties" from "A child"

clause SM-X-1 "Title"
  says "A child whose whereabouts cannot be established is missing."  # why
  when the child has status looked_after
   and (the child has flag cse or the child has flag cce)
   and
       # an own-line comment inside a condition
       the episode has lasted more than 72 hours
  then mash must hold strategy_discussion from 72 hours after reported
  also police must locate_child

exception SM-X-2 "Out of hours" overrides actor of SM-X-1, SM-X-3
  says  # between a keyword and its quote
      "Text with \\"escaped\\" quotes   and  inner   spaces"
  when reported falls on a weekend or public holiday
    or the child has flag cse
  then duty_officer instead

declare action a_b "y"
declare action c_d "w"

declare actor e_f "r"
document DOC "t"
  source "s"
# the end
'''


def test_the_canonical_layout() -> None:
    assert format_text(MESSY) == EXPECTED


def test_formatting_twice_changes_nothing_more() -> None:
    assert format_text(EXPECTED) == EXPECTED


def test_quotes_are_copied_byte_for_byte() -> None:
    out = format_text(MESSY)
    assert '"Text with \\"escaped\\" quotes   and  inner   spaces"' in out


def test_crlf_and_tabs_become_the_canonical_layout() -> None:
    text = 'document DOC "t"\r\n\tsource "s"\r\n# c\r\n'
    assert format_text(text) == 'document DOC "t"\n  source "s"\n# c\n'


def test_an_empty_file_and_one_of_comments_only() -> None:
    assert format_text("") == ""
    assert format_text("  \n\n") == ""
    assert format_text("# a\n\n\n# b   \n") == "# a\n\n# b\n"


def test_a_file_that_does_not_parse_is_refused_with_the_compilers_diagnostic() -> None:
    with pytest.raises(ClauseError) as e:
        format_text('clause SM-1 "t"\n  says "x"\n  when the child has status looked_after\n  mash must do x\n', "bad.clause")
    (d,) = e.value.diagnostics
    assert (d.code, d.span.file, d.span.line) == ("E001", "bad.clause", 4)


def test_the_bundled_policy_is_already_formatted() -> None:
    for path in sorted((ROOT / "policy").rglob("*.clause")):
        text = path.read_text(encoding="utf-8")
        assert format_text(text, str(path)) == text, f"{path} is not in the canonical layout: run clause fmt policy"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "sub").mkdir()
    (tmp_path / "good.clause").write_text(EXPECTED, encoding="utf-8")
    (tmp_path / "sub" / "messy.clause").write_text(MESSY, encoding="utf-8")
    return tmp_path


def test_check_lists_what_would_change_writes_nothing_and_exits_1(folder: Path) -> None:
    result = CliRunner().invoke(main, ["fmt", "--check", str(folder)])
    assert result.exit_code == 1, result.output
    assert f"would reformat {folder / 'sub' / 'messy.clause'}" in result.output
    assert "good.clause" not in result.stdout
    assert (folder / "sub" / "messy.clause").read_text(encoding="utf-8") == MESSY


def test_check_with_diff_shows_a_unified_diff(folder: Path) -> None:
    result = CliRunner().invoke(main, ["fmt", "--check", "--diff", str(folder / "sub" / "messy.clause")])
    assert result.exit_code == 1
    assert "+  also police must locate_child" in result.stdout and "(formatted)" in result.stdout


def test_a_reader_that_stops_early_ends_the_check_quietly(tmp_path: Path) -> None:
    """`clause fmt --check --diff | head`: a traceback (BrokenPipeError) was printed when head stopped reading."""
    import subprocess
    import sys
    for i in range(400):  # diffs far beyond a pipe's buffer
        (tmp_path / f"messy{i:03}.clause").write_text(MESSY, encoding="utf-8")
    proc = subprocess.Popen([sys.executable, "-m", "cli.main", "fmt", "--check", "--diff", str(tmp_path)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout.read(15) == b"would reformat "
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait() == 141 and "Traceback" not in err, err
    assert all(f.read_text(encoding="utf-8") == MESSY for f in tmp_path.iterdir())


def test_fmt_rewrites_the_files_that_change_and_then_check_passes(folder: Path) -> None:
    good = folder / "good.clause"
    before = good.stat().st_mtime_ns
    result = CliRunner().invoke(main, ["fmt", str(folder)])
    assert result.exit_code == 0, result.output
    assert (folder / "sub" / "messy.clause").read_text(encoding="utf-8") == EXPECTED
    assert good.stat().st_mtime_ns == before, "a file already formatted is not rewritten"
    assert CliRunner().invoke(main, ["fmt", "--check", str(folder)]).exit_code == 0


def test_a_file_with_a_syntax_error_is_left_alone_and_reported(folder: Path) -> None:
    bad = folder / "bad.clause"
    bad.write_text("clause X-1 \"t\"\n  says\n", encoding="utf-8")
    (folder / "latin1.clause").write_bytes(b'# caf\xe9\n')
    result = CliRunner().invoke(main, ["fmt", str(folder)])
    assert result.exit_code == 2
    assert f"{bad}:" in result.stderr and "error[E001]" in result.stderr and "not valid UTF-8" in result.stderr
    assert bad.read_text(encoding="utf-8") == "clause X-1 \"t\"\n  says\n"
    assert (folder / "sub" / "messy.clause").read_text(encoding="utf-8") == EXPECTED, "the other files are formatted"


def test_a_path_that_does_not_exist(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["fmt", "--check", str(tmp_path / "nowhere")])
    assert result.exit_code == 2 and "E000" in result.stderr and "no such file or folder" in result.stderr


def test_links_are_never_rewritten(folder: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    outside = tmp_path_factory.mktemp("elsewhere") / "out.clause"
    outside.write_text(MESSY, encoding="utf-8")
    (folder / "out.clause").symlink_to(outside)
    (folder / "in.clause").symlink_to(folder / "sub" / "messy.clause")
    result = CliRunner().invoke(main, ["fmt", str(folder)])
    assert result.exit_code == 2 and "E025" in result.stderr and f"{folder / 'out.clause'}" in result.stderr
    assert outside.read_text(encoding="utf-8") == MESSY
    assert (folder / "in.clause").is_symlink() and (folder / "out.clause").is_symlink()
    assert (folder / "sub" / "messy.clause").read_text(encoding="utf-8") == EXPECTED  # formatted as itself, once


def test_without_paths_the_policy_folder_found_from_here(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (folder / "policy").mkdir()
    (folder / "policy" / "rules.clause").write_text(MESSY, encoding="utf-8")
    monkeypatch.chdir(folder / "sub")
    result = CliRunner().invoke(main, ["fmt", "--check"])
    assert result.exit_code == 1 and "using policy" in result.stderr
    assert "would reformat" in result.stdout and "rules.clause" in result.stdout and "messy.clause" not in result.stdout


def test_a_group_holding_groups_breaks_at_its_own_and_or_inside_its_bracket() -> None:
    text = ('clause SM-N-1 "t" says "x" when the child has been reported missing and ((the child has flag cse and '
            '(the child has flag cce or the child has flag trafficking)) or the child has no status) '
            'then police must locate_child\n')
    assert format_text(text) == (
        'clause SM-N-1 "t"\n'
        '  says "x"\n'
        '  when the child has been reported missing\n'
        '   and ((the child has flag cse\n'
        '         and (the child has flag cce or the child has flag trafficking))\n'
        '        or the child has no status)\n'
        '  then police must locate_child\n')
