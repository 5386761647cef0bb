"""Synthetic extracts: a `FactSet` as the facts an extract can give, written in a profile's shape.

Input: a FactSet (facts/synth.py's year), a profile (its files and column names), a seed. Output:
`as_extract` -> the facts an extract of that kind holds (SSD: exact report and return times, about
one in ten given as a date alone; each status an interval with dates that starts and ends through the
year; SSDA903: dates alone everywhere and only the looked_after intervals; no recorded actions, flags
or police levels, which neither extract has); `write_extract` -> its CSV files, with some of the real
tables' other columns (which the reader ignores). Invariant: reading what `write_extract` wrote
with the same profile gives back exactly `as_extract`'s facts (tests/test_extracts.py).
"""
from __future__ import annotations

import csv
import random
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path

from compiler.core.files import atomic, atomic_folder
from compiler.core.london import LONDON
from facts.extracts.profile import Profile
from facts.model import Child, Episode, FactSet, Held
from facts.moments import day_range, narrow

EXTRA = {"people": {"ssd": ("pers_sex", "pers_ethnicity"), "ssda903": ("SEX", "ETHNIC", "UPN")},
         "missing": {"ssd": (), "ssda903": ()},
         "status": {"ssd": (), "ssda903": ("RNE", "LS", "CIN", "PLACE", "REC")}}


def _day(e: Episode) -> Episode:
    """The episode with its report and return known only by their days."""
    rep = day_range(e.reported.astimezone(LONDON).date())
    ret = day_range(e.returned.astimezone(LONDON).date()) if e.returned is not None else None
    (r0, r1), back = narrow(rep, ret)
    return replace(e, reported=r0, reported_until=r1, returned=back[0] if back else None,
                   returned_until=back[1] if back else None)


def _intervals(rng: random.Random, name: str, year: int, dated_only: bool) -> tuple[Held, ...]:
    """One to three intervals of a status across the year (some open, some ending, some starting later)."""
    start = date(year, 1, 1) - timedelta(days=rng.randint(20, 900))
    out = []
    for _ in range(rng.choice((1, 1, 2, 3))):
        end = start + timedelta(days=rng.randint(30, 400))
        if end >= date(year + 1, 1, 1) or rng.random() < 0.3:
            out.append(Held(name, start, None))
            break
        out.append(Held(name, start, end))
        start = end + timedelta(days=rng.randint(1, 90))  # (one starting the day another ends would be joined)
    return tuple(out)


def as_extract(facts: FactSet, kind: str, seed: int = 0, year: int = 2024) -> FactSet:
    """The facts an extract of `kind` (ssd, ssda903) can hold (see the module)."""
    rng = random.Random(seed)
    # in the shipped profiles' table order, as the reader gives them
    keep = ("looked_after",) if kind == "ssda903" else ("child_protection_plan", "child_in_need", "looked_after",
                                                        "section_47_enquiry", "early_help")
    children = []
    for c in facts.children:
        drawn = {name: _intervals(rng, name, year, True) for name in c.status_names if name in keep}
        held = tuple(h for name in keep for h in drawn.get(name, ()))
        children.append(Child(c.id, c.born, held))
    episodes = []
    for e in facts.episodes:
        plain = Episode(e.id, e.child, e.reported, e.returned, e.whereabouts_known)
        if kind == "ssda903":
            plain = replace(_day(plain), id=None)  # the return gives no id: the reader names it
        elif rng.random() < 0.1:
            plain = _day(plain)
        episodes.append(plain)
    if kind == "ssda903":
        seen: dict[tuple[str, str], int] = {}
        named = []
        for e in episodes:
            key = (e.child, e.reported.astimezone(LONDON).date().isoformat().replace("-", ""))
            seen[key] = seen.get(key, 0) + 1
            named.append(replace(e, id=f"{key[0]}-{key[1]}" + (f"-{seen[key]}" if seen[key] > 1 else "")))
        episodes = named
    return FactSet(tuple(children), tuple(episodes), ())


def _fmt(value: date | datetime | None, until: datetime | None, kind: str) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        local = (until or value).astimezone(LONDON)
        if kind == "ssda903" or until is not None:
            return local.strftime("%d/%m/%Y") if kind == "ssda903" else local.date().isoformat()
        return value.astimezone(LONDON).strftime("%Y-%m-%d %H:%M:%S") + ".000"
    return value.strftime("%d/%m/%Y") if kind == "ssda903" else value.isoformat()


def _write(path: Path, header: list[str], rows) -> None:
    with atomic(path) as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


def write_extract(facts: FactSet, folder: str | Path, profile: Profile, kind: str) -> None:
    """`facts` (as `as_extract` gives them) as the profile's CSV files in `folder`, rows sorted by id; all
    or none, as write_bulk writes (compiler/core/files.py `atomic_folder`): a full disk or a kill never
    leaves an extract without one of its tables."""
    with atomic_folder(Path(folder)) as tmp:
        _tables(facts, tmp, profile, kind)


def _tables(facts: FactSet, folder: Path, profile: Profile, kind: str) -> None:
    p, m = profile.people, profile.missing
    extra = EXTRA["people"].get(kind, ())
    _write(folder / p.file, [p.columns["id"], *extra, p.columns["born"]],
           ([c.id, *("X" for _ in extra), _fmt(c.born, None, kind)] for c in sorted(facts.children, key=lambda c: c.id)))
    cols = m.columns
    code = {meaning: c for c, meaning in reversed(list(m.codes.get("type", {}).items()))}
    header = [cols[f] for f in ("id", "child", "start", "type", "end") if f in cols]
    for f in ("interview_offered", "interview_accepted"):
        if f in cols:
            header.append(cols[f])
    rows = []
    for e in sorted(facts.episodes, key=lambda e: (e.child, e.reported, e.id)):
        row = {"id": e.id, "child": e.child, "start": _fmt(e.reported, e.reported_until, kind),
               "type": code["absent" if e.whereabouts_known else "missing"],
               "end": _fmt(e.returned, e.returned_until, kind), "interview_offered": "", "interview_accepted": ""}
        rows.append([row[f] for f in ("id", "child", "start", "type", "end", "interview_offered", "interview_accepted")
                     if f in cols])
    _write(folder / m.file, header, rows)
    for t in profile.statuses:
        c = t.columns
        ex = EXTRA["status"].get(kind, ())
        head = [c[f] for f in ("id", "child", "start", "end") if f in c] + list(ex)
        rows = []
        n = 0
        for child in sorted(facts.children, key=lambda c: c.id):
            for h in child.statuses:
                if h.name == t.status:
                    n += 1
                    cells = {"id": f"{t.status[:3].upper()}{n:07d}", "child": child.id, "start": _fmt(h.start, None, kind),
                             "end": _fmt(h.end, None, kind)}
                    rows.append([cells[f] for f in ("id", "child", "start", "end") if f in c] + ["X"] * len(ex))
        _write(folder / t.file, head, rows)
