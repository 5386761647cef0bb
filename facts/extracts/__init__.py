"""Extracts local authorities already produce (SSD tables, the SSDA903 return), read by a profile.

`load_extract(folder, profile)` -> FactSet (raises ClauseError with every problem; warnings such as
ignored columns are returned by `read_extract`). Stages: profile.py (the mapping as data), tables.py
(the CSV tables), mapping.py (rows -> facts). engine/backends/duck_extract.py reads the same tables
in SQL for DuckDB.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from compiler.core.diagnostics import Diagnostic
    from facts.extracts.profile import Profile
    from facts.model import FactSet

# the profile checker, the table reader and the mapping are imported when an extract is read: a
# command given a case file (`clause obligations case.yaml`) asks only `extract_of`, and starts faster
_FROM_PROFILE = ("NAMES", "Profile", "detect", "load_profile")


def __getattr__(name: str) -> Any:
    if name in _FROM_PROFILE:
        from facts.extracts import profile
        return getattr(profile, name)
    raise AttributeError(f"module 'facts.extracts' has no attribute '{name}'")


@dataclass(frozen=True)
class Extract:
    """A folder of extract tables and the profile that reads it."""

    folder: Path
    profile: Profile


def read_extract(extract: Extract, child: str | None = None) -> tuple[FactSet, list[Diagnostic]]:
    """The facts and the warnings (raises ClauseError on any error). With `child`, only that child's rows."""
    from compiler.core.diagnostics import raise_if_errors
    from facts.extracts.mapping import map_extract
    from facts.extracts.tables import read_tables
    diags: list[Diagnostic] = []
    tables = list(read_tables(extract.folder, extract.profile, diags, child))
    facts = map_extract(extract.profile, tables, diags)
    diags = list(dict.fromkeys(diags))
    raise_if_errors(diags)
    return facts, diags


def load_extract(folder: str | Path, profile: str | Profile, child: str | None = None) -> FactSet:
    from facts.extracts.profile import Profile, load_profile
    p = profile if isinstance(profile, Profile) else load_profile(profile)
    return read_extract(Extract(Path(folder), p), child)[0]


def extract_episodes(extract: Extract) -> int:
    """About how many episodes the extract holds (data lines of its missing table), without parsing it."""
    from facts.extracts.tables import find_file
    path = find_file(extract.folder, extract.profile.missing.file)
    try:
        if path is None or not path.is_file():
            return 0
        with path.open("rb") as fh:
            return max(0, sum(1 for line in fh if line.strip()) - 1)
    except OSError:
        return 0


def extract_of(path: str | Path, profile: str | None) -> Extract | None:
    """The extract at `path` for `--profile` (None or 'auto': by its files; 'clause': none), or None when the
    path is not one (a case file, a native bulk folder)."""
    p = Path(path)
    if profile == "clause" or not p.is_dir():
        return None
    from facts.extracts.profile import detect, load_profile
    if profile in (None, "auto"):
        if (p / "children.csv").is_file():
            return None
        name = detect(p)
        return Extract(p, load_profile(name)) if name else None
    return Extract(p, load_profile(profile))


__all__ = ["Extract", "NAMES", "detect", "extract_episodes", "extract_of", "load_extract", "load_profile", "read_extract"]
