"""One entry point for every kind of fact input: a path -> the cases or the bulk facts in it.

Input: a case file (`*.yaml`/`*.yml`, or any other non-CSV file, read as YAML), a
folder of case files (searched recursively), or a bulk folder (one holding
`children.csv`, which wins over any YAML files beside it). Output: `LoadedInput`
with exactly one of `cases` (non-empty) and `bulk` set. Problems raise ClauseError:
F011 when the path does not exist, F012 when nothing loadable is there.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from compiler.core.diagnostics import ClauseError, Span, error
from facts.bulk import load_bulk
from facts.model import Case, FactSet
from facts.yamlcase import case_files, load_cases


@dataclass(frozen=True, slots=True)
class LoadedInput:
    """Exactly one is set: regression cases, or one bulk extract (judged at a time given elsewhere)."""

    cases: tuple[Case, ...] = ()
    bulk: FactSet | None = None


def load_path(path: str | Path, child: str | None = None) -> LoadedInput:
    """A case file, a folder of case files, or a bulk CSV folder -> LoadedInput. Raises ClauseError.
    With `child`, a bulk folder is read for that child's rows only (bulk.load_bulk)."""
    p = Path(path)
    where = Span(str(p))
    if not str(path).strip() or not p.exists():
        raise ClauseError([error("F011", where, f"no such file or folder: {p}")])
    if p.is_dir():
        if (p / "children.csv").is_file():
            facts = load_bulk(p, child)
            return LoadedInput(bulk=facts)
        if not case_files([p]):
            raise ClauseError([error("F012", where, f"folder {p} holds no case files (*.yaml, *.yml) and no children.csv",
                                     "give a case file, a folder of case files, or a folder holding children.csv")])
        return LoadedInput(cases=tuple(load_cases([p])))
    if p.suffix.lower() == ".csv":
        raise ClauseError([error("F012", where, f"{p.name} is a single CSV file; bulk facts are read from a folder",
                                 f"give the folder holding children.csv: {p.parent}")])
    return LoadedInput(cases=tuple(load_cases([p])))
