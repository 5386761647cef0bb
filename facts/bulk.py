"""A folder of CSV files <-> a `FactSet` (a bulk extract from a case management system).

Files: `children.csv` (id, born, statuses, flags, responsible_authority, placed_in),
`episodes.csv` (id, child, reported, returned, whereabouts_known, with_parents,
safeguarding_concerns, police_risk, inspector_risk, victim_of_crime) and, optionally,
`actions.csv` (action, child, episode, by, at), `statuses.csv` (child, status, from, to) and
`flags.csv` (child, flag, from, to). The first row names the columns, in
any order; only the required columns must be present. `statuses`/`flags` cells of children.csv are
';'-separated lists of names in force throughout; a row of statuses.csv/flags.csv is one record
in force from `from` to `to` (a date: from 00:00 London / through the end of that London day; a
date and time: that instant; empty: open); booleans are true/false/yes/no/1/0, an empty cell is false; an
empty optional cell is absent.

Invariants: rows are streamed and checked by the same validators as case files
(`validate.py`); every problem's span names the file, the CSV line (the header is
line 1) and the 1-based column of the field. `write_bulk` output is deterministic
and the folder's files are replaced together, all or none; writing facts then loading the folder
gives them back.
"""
from __future__ import annotations

import csv
from datetime import date, datetime
from pathlib import Path
from typing import Callable, Iterable, TextIO

from facts import limits
from facts.csv_problems import row_width, syntax, unclosed
from facts.child_rows import child_lines, mapped
from compiler.core.files import atomic_folder, atomic_group
from compiler.core.diagnostics import Diagnostic, Span, error, raise_if_errors
from facts.model import Child, Episode, FactSet, Held, RecordedAction
from compiler.core.london import LONDON, utc, format_instant
from facts.collect import FactCollector
from facts.validate import ACTION, CHILD, EPISODE, FLAG, REQUIRED, STATUS, Field, Record, did_you_mean

FILES = (("children.csv", "child", True), ("episodes.csv", "episode", True), ("actions.csv", "action", False),
         ("statuses.csv", "status", False), ("flags.csv", "flag", False))
COLUMNS = {"child": tuple(CHILD), "episode": tuple(EPISODE), "action": tuple(ACTION), "status": tuple(STATUS),
           "flag": tuple(FLAG)}
LIST_COLUMNS = frozenset({"statuses", "flags"})


def _header(row: list[str], file: str, kind: str, diags: list[Diagnostic]) -> tuple[list[tuple[int, str]], bool]:
    """Header row -> [(index, column name)] of known columns, and whether the rows can be read."""
    valid = COLUMNS[kind]
    seen: dict[str, int] = {}
    columns: list[tuple[int, str]] = []
    usable = True
    for i, raw in enumerate(row):
        name, span = raw.strip(), Span(file, 1, i + 1)
        if not name:
            diags.append(error("F002", span,
                               f"column {i + 1} of {Path(file).name} has no name", "name it, or delete the column"))
        elif name not in valid:
            diags.append(error("F002", span, f"unknown column '{name}' in {Path(file).name}", did_you_mean(name, valid)))
        elif name in seen:
            diags.append(error("F008", span, f"column '{name}' appears twice in {Path(file).name}", "keep one of them",
                               (Span(file, 1, seen[name] + 1),)))
            usable = False
        else:
            seen[name] = i
            columns.append((i, name))
    for name in REQUIRED[kind]:
        if name not in seen:
            diags.append(error("F004", Span(file, 1, 1), f"{Path(file).name} has no '{name}' column",
                               "required columns: " + ", ".join(REQUIRED[kind])))
            usable = False
    return columns, usable


def _record(row: list[str], line: int, width: int, columns: list[tuple[int, str]], file: str,
            diags: list[Diagnostic]) -> Record:
    if (wrong := row_width(file, line, len(row), width)) is not None:
        diags.append(wrong)
    fields: dict[str, Field] = {}
    for i, name in columns:
        cell = row[i].strip() if i < len(row) else ""
        span = Span(file, line, i + 1)
        value: object = cell
        if name in LIST_COLUMNS and cell:
            value = [Field(x.strip(), span, span, x.strip()) for x in cell.split(";") if x.strip()]
        fields[name] = Field(value, span, span, cell)
    return Record(fields, Span(file, line, 1))


def _lines(fh: TextIO, child: str | None) -> Iterable[str]:
    """The file's lines for csv.reader. For one child, when no cell is quoted and no line ends in a
    carriage return (so each line is one row), a line that cannot be the child's is read as blank:
    it keeps its line number and costs nothing to parse."""
    if child is None:
        return fh
    text = fh.read()
    if '"' in text or "\r" in text:
        return text.splitlines(keepends=True)
    lines = text.split("\n")
    return [lines[0] + "\n"] + [line + "\n" if child in line else "\n" for line in lines[1:]]


def _numbered(reader, where: list[int]) -> Iterable[tuple[int, list[str]]]:
    """(first line, row) for each row csv.reader reads; `where[0]` is the line being read."""
    for row in reader:
        yield where[0], row
        where[0] = reader.line_num + 1


def _picked(picked: list[tuple[int, bytes]], where: list[int]) -> Iterable[tuple[int, list[str]]]:
    """(line, row) for each line facts.child_rows picked (each line is one row there)."""
    for line, raw in picked:
        where[0] = line
        yield line, next(csv.reader([raw.decode("utf-8")], strict=True), [])


def _read_csv(path: Path, kind: str, coll: FactCollector, child: str | None = None) -> bool:
    """Stream one CSV file into `coll` (only the rows of `child`, when given).
    Returns False when its rows could not all be read."""
    file, diags = str(path), coll.diags
    add: Callable[[Record], None] = {"child": coll.add_child, "episode": coll.add_episode, "action": coll.add_action,
                                     "status": lambda r: coll.add_held(r, "status"),
                                     "flag": lambda r: coll.add_held(r, "flag")}[kind]
    try:
        refused = limits.refuse(path, file, limits.max_bulk_bytes(), "a bulk CSV file")
        if refused is not None:
            diags.append(refused)
            return False
        csv.field_size_limit(limits.MAX_CELL_CHARS)  # the fast DuckDB reader refuses the same cells
        picked = None
        if child is not None:
            with mapped(path) as data:
                picked = child_lines(data, child)
        with path.open(newline="", encoding="utf-8-sig") as fh:
            where = [1]
            reader = csv.reader(_lines(fh, child) if picked is None else (), strict=True)
            rows = _picked(picked, where) if picked is not None else _numbered(reader, where)
            try:
                _, header = next(iter(rows), (1, None))
                if header is None or not any(h.strip() for h in header):
                    diags.append(error("F010", Span(file, 1, 1),
                                       f"{path.name} is empty; expected a header row naming its columns",
                                       "first row: " + ",".join(COLUMNS[kind])))
                    return False
                columns, usable = _header(header, file, kind, diags)
                if not usable:
                    return False
                key = dict((name, i) for i, name in columns)["id" if kind == "child" else "child"]
                for start, row in rows:
                    if any(cell.strip() for cell in row) and (
                            child is None or (row[key].strip() if key < len(row) else "") == child):
                        add(_record(row, start, len(header), columns, file, diags))
            except UnicodeDecodeError:
                diags.append(error("F001", Span(file, where[0], 1),
                                   f"{path.name} is not UTF-8 text", "save the file as UTF-8"))
                return False
            except csv.Error as exc:
                line = where[0] if picked is not None or unclosed(exc) else reader.line_num
                if "field limit" in str(exc):
                    diags.append(limits.cell_too_long(file, max(line, 1)))
                    return False
                diags.append(syntax(file, line, exc))
                return False
    except OSError as exc:
        diags.append(error("F011", Span(file), f"cannot read {file}: {exc.strerror or exc}"))
        return False
    return True


def load_bulk(folder: str | Path, child: str | None = None) -> FactSet:
    """A folder holding children.csv, episodes.csv and optionally actions.csv, statuses.csv, flags.csv -> FactSet.

    With `child`, only that child's rows are read and checked (what `clause why` needs:
    a child's obligations depend on their facts alone). Raises ClauseError with every
    problem (references to children or episodes are only checked when their file could
    be read, so one broken file does not flood the report).
    """
    folder = Path(folder)
    coll = FactCollector()
    if not folder.is_dir():
        coll.diags.append(error("F011", Span(str(folder)), f"no such folder: {folder}"))
        raise_if_errors(coll.diags)
    complete: dict[str, bool] = {}
    for name, kind, required in FILES:
        path = folder / name
        if path.exists():  # a pipe or device in its place is refused by _read_csv, not skipped
            complete[kind] = _read_csv(path, kind, coll, child)
        elif required:
            coll.diags.append(error("F011", Span(str(folder)), f"folder {folder} has no {name}",
                                    "a bulk folder holds children.csv, episodes.csv and optionally actions.csv"))
            complete[kind] = False
    facts = coll.finish(complete["child"], complete["episode"])
    raise_if_errors(list(dict.fromkeys(coll.diags)))
    return facts


def child_ids(folder: str | Path) -> list[str]:
    """The ids in a bulk folder's children.csv, sorted, for the nearest-id hint when a child asked about is not
    there (`clause why` reads one child's rows only); none when the file cannot be read as plain CSV."""
    try:
        with (Path(folder) / "children.csv").open(newline="", encoding="utf-8-sig") as fh:
            return sorted({row["id"].strip() for row in csv.DictReader(fh) if row.get("id")})
    except (OSError, UnicodeDecodeError, csv.Error, KeyError, AttributeError):
        return []


# ---- writing ----

def time_cell(moment: datetime | None) -> str:
    """London wall clock as `format_instant` writes it; sub-second times in full ISO form."""
    if moment is None:
        return ""
    return moment.astimezone(LONDON).isoformat() if moment.microsecond else format_instant(moment)


def moment_cell(moment: datetime | None, until: datetime | None) -> str:
    """`time_cell`, or the date alone for a moment known only by its day (facts/moments.py)."""
    if moment is not None and until is not None:
        return until.astimezone(LONDON).date().isoformat()
    return time_cell(moment)


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _names(records: tuple[Held, ...]) -> str:
    return ";".join(dict.fromkeys(h.name for h in records if h.throughout))


def _child_row(c: Child) -> list[str]:
    return [c.id, c.born.isoformat(), _names(c.statuses), _names(c.flags), c.responsible_authority, c.placed_in]


def bound_cell(value: date | datetime | None) -> str:
    """A `from`/`to` as written: a date as YYYY-MM-DD, a date and time as `time_cell` writes it."""
    if value is None:
        return ""
    return time_cell(value) if isinstance(value, datetime) else value.isoformat()


def _held_rows(children: list[Child], which: str) -> Iterable[list[str]]:
    """The records with a bound (those in force throughout are in children.csv), in input order per child."""
    for c in children:
        for h in getattr(c, which):
            if not h.throughout:
                yield [c.id, h.name, bound_cell(h.start), bound_cell(h.end)]


def _episode_row(e: Episode) -> list[str]:
    return [e.id, e.child, moment_cell(e.reported, e.reported_until), moment_cell(e.returned, e.returned_until), _bool(e.whereabouts_known),
            _bool(e.with_parents), _bool(e.safeguarding_concerns), e.police_risk or "", e.inspector_risk or "",
            _bool(e.victim_of_crime)]


def _action_row(a: RecordedAction) -> list[str]:
    return [a.action, a.child, a.episode or "", a.by, time_cell(a.at)]


def write_bulk(facts: FactSet, folder: str | Path) -> None:
    """FactSet -> children.csv, episodes.csv, actions.csv, statuses.csv, flags.csv in `folder` (created
    if missing), all or none: the five are written in a hidden sibling folder, flushed to disk, then put
    in place (compiler/core/files.py `atomic_folder`), so a full disk or a kill never leaves a folder
    that reads as complete without its actions. Raises ClauseError (O001, O002) when it cannot be written.

    Rows are sorted: children and episodes by id, actions by (child, at, action, episode, by); status
    and flag records in force throughout go in children.csv's lists, the others in statuses.csv and
    flags.csv (by child, in the child's order), so they read back with those in force throughout first.
    """
    folder = Path(folder)
    children = sorted(facts.children, key=lambda c: c.id)
    episodes = sorted(facts.episodes, key=lambda e: e.id)
    actions = sorted(facts.actions, key=lambda a: (a.child, utc(a.at), a.action, a.episode or "", a.by))
    tables = [("children.csv", COLUMNS["child"], map(_child_row, children)),
              ("episodes.csv", COLUMNS["episode"], map(_episode_row, episodes)),
              ("actions.csv", COLUMNS["action"], map(_action_row, actions)),
              ("statuses.csv", COLUMNS["status"], _held_rows(children, "statuses")),
              ("flags.csv", COLUMNS["flag"], _held_rows(children, "flags"))]
    with atomic_folder(folder) as tmp, atomic_group([tmp / name for name, _, _ in tables]) as handles:
        for fh, (_, header, rows) in zip(handles, tables):
            writer = csv.writer(fh, lineterminator="\n")
            writer.writerow(list(header))
            writer.writerows(rows)
