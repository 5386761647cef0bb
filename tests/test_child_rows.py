"""One child's rows of a bulk folder (`clause why` on a national extract): the same facts, spans and
diagnostics as reading the whole folder and keeping that child's, found without parsing the rest."""
from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import main
from compiler.core.diagnostics import ClauseError
from facts.bulk import load_bulk, write_bulk
from facts.child_rows import child_lines
from facts.synth import synthesize


def spans(facts) -> list:
    return [(x, x.span) for group in (facts.children, facts.episodes, facts.actions) for x in group]


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("bulk")
    write_bulk(synthesize(30, 3), out)
    return out


def test_child_lines_finds_every_line_holding_the_id_with_its_number():
    data = b"id,child\nE1,C1\nE2,C10\nE3,C2\n\nE4,C1"
    assert child_lines(data, "C1") == [(1, b"id,child"), (2, b"E1,C1"), (3, b"E2,C10"), (6, b"E4,C1")]
    assert child_lines(b"\xef\xbb\xbfid,child\nE1,C1\n", "C1") == [(1, b"id,child"), (2, b"E1,C1")]
    assert child_lines(b'id,child\n"E1",C1\n', "C1") is None  # a quote: lines may not be rows
    assert child_lines(b"id,child\r\nE1,C1\r\n", "C1") is None
    assert child_lines(b"id,child\nE1,C1\n", "") is None


def test_each_child_as_the_whole_folder_gives_it(folder):
    whole = load_bulk(folder)
    for child in [c.id for c in whole.children]:
        assert spans(load_bulk(folder, child)) == spans(whole.for_child(child)), child


@pytest.mark.parametrize("edit", ["quote", "bom"])
def test_quoted_cells_and_a_byte_order_mark(folder, tmp_path, edit):
    """A quoted cell sends the reader back to the line-by-line parse; a BOM is not part of the header."""
    for name in ("children.csv", "episodes.csv", "actions.csv"):
        text = (folder / name).read_text(encoding="utf-8")
        if edit == "quote" and name == "children.csv":
            head, first, rest = text.split("\n", 2)
            cells = first.split(",")
            text = "\n".join([head, ",".join(cells[:-1] + [f'"{cells[-1]}"']), rest])
        (tmp_path / name).write_text(("\ufeff" if edit == "bom" else "") + text, encoding="utf-8")
    whole = load_bulk(tmp_path)
    for child in [c.id for c in whole.children][:8]:
        assert spans(load_bulk(tmp_path, child)) == spans(whole.for_child(child))


def _broken(folder: Path, tmp_path: Path) -> tuple[Path, list[str]]:
    """The folder with a bad date in the first child's row and bytes that are not UTF-8 in the second's."""
    lines = (folder / "children.csv").read_bytes().split(b"\n")
    ids = [line.split(b",")[0].decode() for line in lines[1:4]]
    lines[1] = lines[1].replace(lines[1].split(b",")[1], b"2010-13-45")
    lines[2] = lines[2] + b"\xff"
    for name in ("episodes.csv", "actions.csv"):
        (tmp_path / name).write_bytes((folder / name).read_bytes())
    (tmp_path / "children.csv").write_bytes(b"\n".join(lines))
    return tmp_path, ids


def test_a_childs_own_errors_are_reported_at_their_line_and_others_are_not_read(folder, tmp_path):
    broken, (first, second, third) = _broken(folder, tmp_path)
    with pytest.raises(ClauseError) as bad:
        load_bulk(broken, first)
    assert [(d.span.file, d.span.line, d.span.column) for d in bad.value.diagnostics
            if d.severity == "error"] == [(str(broken / "children.csv"), 2, 2)]
    with pytest.raises(ClauseError) as undecodable:
        load_bulk(broken, second)
    [d] = undecodable.value.diagnostics
    assert (d.code, d.span.line) == ("F001", 3)
    assert load_bulk(broken, third).children[0].id == third  # its rows are valid; the others were not read
    with pytest.raises(ClauseError):
        load_bulk(broken)


def test_why_says_only_that_childs_rows_were_checked(folder):
    child = load_bulk(folder).children[0].id
    result = CliRunner().invoke(main, ["why-not", str(folder), "--child", child, "--action", "strategy_discussion",
                                       "--at", "2025-01-01T00:00"])
    assert result.exit_code == 0, result.output
    assert f"read and checked only child {child}'s rows of {folder}; the other rows were not checked" in result.stderr
    redacted = CliRunner().invoke(main, ["why-not", str(folder), "--child", child, "--action", "strategy_discussion",
                                         "--at", "2025-01-01T00:00", "--redact"])
    assert "only this child's rows" in redacted.stderr and child not in redacted.stderr
