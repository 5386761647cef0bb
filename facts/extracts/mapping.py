"""An extract's rows -> a `FactSet`, by its profile.

Input: the tables tables.py read. Output: the facts, checked by the same validators as case files
and bulk folders (facts/collect.py's FactCollector: each row becomes the native fields, dates in
the native text, so every value problem has its usual code and the extract's file, line and column).
Mapping (README "Reading extracts"):
* people: id, born (the date of a date and time);
* missing: id (or, when the table has none, CHILD-YYYYMMDD of the start, -2, -3 ... for further
  episodes that start that day, in file order), child, reported = start, returned = end; type
  'absent' (SSD and SSDA903 'A', away from placement without authorisation) sets whereabouts_known,
  'missing' ('M') does not; a date alone is the whole day (facts/moments.py), never midnight;
  a return interview offered or accepted with no date is not recorded as done (one F020 note);
* each status table: one `Held` interval per row (start, end; a date alone is a whole day, an end
  date the last day in force), on the child it names; one starting on the day the previous ends
  continues it (joined into one record).
Problems: F003 a code the profile does not list, F005 a date in no format of the profile (F018 when
it fits only with day and month swapped: stated, never guessed), F006 a row naming a child not in
the people table, F007 an end before its start, F016 two intervals of one status overlapping.
"""
from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import replace
from datetime import date, datetime

from compiler.core.diagnostics import Diagnostic, Span, error, warning
from compiler.core.london import parse_date, parse_instant, utc
from compiler.core.privacy import shown
from facts.extracts.profile import Profile
from facts.extracts.tables import Cell, TableRows, swapped, to_native
from facts.model import FactSet, Held
from facts.collect import FactCollector
from facts.validate import Field, Record

Moment = date | datetime


class _Dates:
    def __init__(self, profile: Profile, diags: list[Diagnostic]) -> None:
        self.formats = profile.formats
        self.compiled = [re.compile(f.regex) for f in profile.formats]
        self.diags = diags

    def text(self, cell: Cell, what: str, private: bool = False) -> str | None:
        """The cell as native text; None (after a diagnostic) when it fits no format."""
        value, span = cell
        out = to_native(value, self.formats, self.compiled)
        if out is not None:
            return out
        listed = ", ".join(f.text for f in self.formats)
        other = swapped(value, self.formats)
        if other is not None:
            self.diags.append(error("F018", span, f"{what}: this date reads only as {other}, with day and month the "
                                    f"other way round from the profile's formats ({listed})",
                                    "Clause does not guess: export dates as the profile says, or give a profile whose "
                                    "date_formats say how yours are written"))
        elif shaped := next((f.text for f, p in zip(self.formats, self.compiled) if p.match(value)), None):
            self.diags.append(error("F005", span, f"{what}: written as the profile's {shaped}, but no such day is on "
                                                  "the calendar (a day or month that does not exist)",
                                    "check the date in the case system"))
        else:
            detail = "" if private else " (the value is not repeated here)"
            self.diags.append(error("F005", span, f"{what}: not a date in any of the profile's formats ({listed}){detail}",
                                    "check the export's date setting, or the profile's date_formats"))
        return None


def _field(value: object, span: Span, text: str | None = None) -> Field:
    return Field(value, span, span, text if text is not None else (value if isinstance(value, str) else None))


def _code(cell: Cell, fact: str, codes: dict[str, str], label: str, diags: list[Diagnostic]) -> str | None:
    value, span = cell
    if value in codes:
        return codes[value]
    folded = {k.lower(): v for k, v in codes.items()}
    if value.lower() in folded:
        return folded[value.lower()]
    diags.append(error("F003", span, f"{label}: '{fact}' holds a code the profile does not list",
                       "expected one of: " + ", ".join(codes) + " (a local code goes in a copy of the profile's codes)"))
    return None


def _moment(text: str) -> Moment:
    return parse_date(text) if len(text) == 10 else parse_instant(text)


def _start_key(m: Moment) -> tuple:
    """Order of interval bounds: a date is its day's 00:00 as an instant's London date."""
    return (m.isoformat()[:10], "" if not isinstance(m, datetime) else utc(m).isoformat())


def _overlap(prev_end: Moment | None, start: Moment) -> bool:
    """True when `start` comes before the end of the previous interval (a date end is its whole day: a
    start on that day touches, it does not overlap; an open end overlaps everything after it)."""
    if prev_end is None:
        return True
    if isinstance(prev_end, datetime) and isinstance(start, datetime):
        return utc(start) < utc(prev_end)
    return start.isoformat()[:10] < prev_end.isoformat()[:10]


def map_extract(profile: Profile, tables: list[TableRows], diags: list[Diagnostic]) -> FactSet:
    """The rows -> facts (raising nothing: problems go to `diags`)."""
    dates = _Dates(profile, diags)
    coll = FactCollector(diags=diags)
    people, missing, *statuses = tables
    for row in people.rows:
        fields = {"id": _field(*row["id"])}
        born = dates.text(row["born"], "date of birth", private=True) if row["born"][0] else ""
        if born is not None:
            fields["born"] = _field(born[:10], row["born"][1])
        coll.add_child(Record(fields, row["id"][1]))
    ordinal: dict[tuple[str, str], int] = defaultdict(int)
    no_date_interviews = 0
    m = missing.table
    for row in missing.rows:
        child, span = row["child"]
        label = f"missing episode of child '{shown(child)}'" if child else "missing episode"
        fields: dict[str, Field] = {"child": _field(child, span)}
        start = dates.text(row["start"], "start") if row["start"][0] else ""
        if start is not None:
            fields["reported"] = _field(start, row["start"][1])
        end = dates.text(row["end"], "end") if "end" in row and row["end"][0] else ""
        if end:
            fields["returned"] = _field(end, row["end"][1])
        if "type" in row and row["type"][0]:
            kind = _code(row["type"], "type", m.codes["type"], label, diags)
            if kind is not None:
                fields["whereabouts_known"] = _field("true" if kind == "absent" else "false", row["type"][1])
        elif "type" in row:
            diags.append(error("F004", row["type"][1], f"{label}: no episode type", "expected one of: " + ", ".join(m.codes["type"])))
        for fact in ("interview_offered", "interview_accepted"):
            if fact in row and row[fact][0]:
                answer = _code(row[fact], fact, m.codes.get(fact, {}), label, diags) if m.codes.get(fact) else "yes"
                no_date_interviews += fact == "interview_offered" and answer == "yes"
        if "id" in row:
            fields["id"] = _field(*row["id"])
        elif start:
            key = (child, start[:10])
            ordinal[key] += 1
            made = f"{child}-{start[:10].replace('-', '')}" + (f"-{ordinal[key]}" if ordinal[key] > 1 else "")
            fields["id"] = _field(made, row["start"][1])
        if start is not None and end is not None:  # a date in no format has had its diagnostic
            coll.add_episode(Record(fields, span))
    if no_date_interviews:
        diags.append(warning("F020", Span(str(missing.path)), f"{no_date_interviews} return interview"
                             f"{'s are' if no_date_interviews != 1 else ' is'} recorded as offered with no date: "
                             "Clause records none of them as done (their duties stay open or overdue)",
                             "a return interview counts as done once the extract gives when it was held"))
    held = _statuses(statuses, dates, coll.child_ids, people.complete, diags)
    facts = coll.finish(people.complete, missing.complete)
    children = tuple(replace(c, statuses=held.get(c.id, ())) if c.id in held else c for c in facts.children)
    return FactSet(children, facts.episodes, facts.actions)


def _statuses(tables: list[TableRows], dates: _Dates, known: dict[str, Span], people_complete: bool,
              diags: list[Diagnostic]) -> dict[str, tuple[Held, ...]]:
    """child -> the Held intervals of every status table, in table then file order."""
    out: dict[str, list[Held]] = defaultdict(list)
    for t in tables:
        status = t.table.status or ""
        per_child: dict[str, list[tuple[Moment, Moment | None, Span]]] = defaultdict(list)
        for row in t.rows:
            child, span = row["child"]
            label = f"{status} of child '{shown(child)}'"
            if not child:
                diags.append(error("F004", span, f"{status} row names no child", "give the child's id"))
                continue
            if people_complete and child not in known:
                diags.append(error("F006", span, f"{label}: the child is not in the people table",
                                   "every child in a status table must have a row in the people table"))
                continue
            start_text = dates.text(row["start"], f"{status} start") if row["start"][0] else None
            if not row["start"][0]:
                diags.append(error("F004", row["start"][1], f"{label}: no start date", "give the date it started"))
            end_text = dates.text(row["end"], f"{status} end") if "end" in row and row["end"][0] else ""
            if start_text is None or end_text is None:
                continue
            try:
                start, end = _moment(start_text), _moment(end_text) if end_text else None
            except ValueError as exc:
                diags.append(error("F005", row["start"][1] if end_text == "" else row["end"][1], f"{label}: {exc}"))
                continue
            if end is not None and _start_key(end) < _start_key(start):
                diags.append(error("F007", row["end"][1], f"{label}: ends before it starts",
                                   "check both dates; the end must not be earlier than the start"))
                continue
            per_child[child].append((start, end, span))
        for child, rows in per_child.items():
            rows.sort(key=lambda r: _start_key(r[0]))
            for (s0, e0, sp0), (s1, e1, sp1) in zip(rows, rows[1:]):
                if _overlap(e0, s1):
                    diags.append(error("F016", sp1, f"{status} of child '{shown(child)}': this interval starts before "
                                       f"the one at line {sp0.line} ends", "intervals of one status must not overlap; "
                                       "one may start on the day the other ends", (sp0,)))
            out[child].extend(Held(status, s, e, sp) for s, e, sp in _chains(rows))
    return {c: tuple(h) for c, h in out.items()}


def _chains(rows: list[tuple[Moment, Moment | None, Span]]) -> list[tuple[Moment, Moment | None, Span]]:
    """Intervals where one starts on the day the previous ends (an SSDA903 episode ceasing and the next
    beginning that day) joined into one: the child holds the status throughout, and a date end is the
    last day in force (facts/model.py's Held), so as two records they would overlap on that day. Two
    exact instants meeting need no joining ([start, end) do not overlap)."""
    out: list[tuple[Moment, Moment | None, Span]] = []
    for start, end, span in rows:
        if out and out[-1][1] is not None and start.isoformat()[:10] == out[-1][1].isoformat()[:10] \
                and not (isinstance(start, datetime) and isinstance(out[-1][1], datetime)):
            out[-1] = (out[-1][0], end, out[-1][2])
        else:
            out.append((start, end, span))
    return out
