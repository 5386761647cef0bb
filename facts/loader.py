"""One entry point for every kind of fact input: a path -> the cases or the bulk facts in it.

Input: a case file (`*.yaml`/`*.yml`, or any other non-CSV file, read as YAML), a
folder of case files (searched recursively), a bulk folder (one holding
`children.csv`, which wins over any YAML files beside it), or a folder of extract tables
(SSD, SSDA903: facts/extracts, by `profile` or by the files it holds). Output: `LoadedInput`
with exactly one of `cases` (non-empty) and `bulk` set. Problems raise ClauseError:
F011 when the path does not exist, F012 when nothing loadable is there.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from compiler.core.diagnostics import ClauseError, Diagnostic, Span, error
from facts.extracts import extract_of, read_extract
from facts.bulk import load_bulk
from facts.model import Case, FactSet
from facts.yamlcase import case_files, load_cases


@dataclass(frozen=True, slots=True)
class LoadedInput:
    """Exactly one is set: regression cases, or one bulk extract (judged at a time given elsewhere)."""

    cases: tuple[Case, ...] = ()
    bulk: FactSet | None = None
    notes: tuple[Diagnostic, ...] = ()  # warnings about the input (an extract's ignored columns...)


def load_path(path: str | Path, child: str | None = None, profile: str | None = None) -> LoadedInput:
    """A case file, a folder of case files, a bulk CSV folder or an extract folder -> LoadedInput. Raises
    ClauseError. With `child`, a bulk or extract folder is read for that child's rows only (bulk.load_bulk).
    `profile`: how to read a folder (facts/extracts: ssd, ssda903, a profile file; clause: the bulk
    format; None or auto: by the files it holds)."""
    p = Path(path)
    where = Span(str(p))
    if not str(path).strip() or not p.exists():
        raise ClauseError([error("F011", where, f"no such file or folder: {p}")])
    if profile not in (None, "auto", "clause") and not p.is_dir():
        raise ClauseError([error("F012", where, f"--profile {profile} reads a folder of extract tables; {p} is a file",
                                 "give the folder that holds the exported CSV files")])
    extract = extract_of(p, profile)
    if extract is not None:
        facts, notes = read_extract(extract, child)
        return LoadedInput(bulk=facts, notes=tuple(notes))
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
