"""Checks across the records of one input, and the facts they give: `FactCollector`.

Input: `Record`s (facts/validate.py: located fields), added one by one by a reader (yamlcase.py,
bulk.py, extracts/mapping.py), in any order. Output: from `finish()`, a `FactSet` and every
`Diagnostic`. Invariants: each field is checked by validate.py's RULES (convert); what needs more
than one record is checked here, once: unique ids (F008), references to children and episodes
(F006), returned before reported and reported before birth (F007), status and flag records that
overlap (F016) or end before they start (F007). A record with a problem gives no object, but its id
is still registered, so one mistake is reported once and does not cascade into unknown references.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any, Collection, Iterable, Mapping

from compiler.core.diagnostics import Diagnostic, Span, error
from compiler.core.london import LONDON, format_instant, utc
from compiler.core.privacy import quoted, redacting, shown
from facts.held import overlap
from facts.model import Child, Episode, FactSet, Held, RecordedAction
from facts.moments import day_range, narrow
from facts.validate import (ACTION, BAD, CHILD, EPISODE, EXPECT_EPISODE, EXPECT_OBLIGATION, FLAG, REQUIRED, STATUS, Diags,
                            Record, convert, did_you_mean, held_of, label_of)


def own_lines(rec: Record) -> tuple[tuple[str, Span], ...]:
    """The fields written on lines of their own (in a case file), each with its key's span, which explanations
    cite (facts.model.field_span); a CSV row is one line, so it gives none."""
    line = rec.span.line
    return tuple((name, f.key_span) for name, f in rec.fields.items() if f.key_span.line != line)


@dataclass
class FactCollector:
    """Checks records of one input (a case file or a bulk folder) and collects the facts.

    `finish()` checks references once every record is in, so input order is free.
    """

    diags: Diags = field(default_factory=list)
    children: list[Child] = field(default_factory=list)
    episodes: list[Episode] = field(default_factory=list)
    actions: list[RecordedAction] = field(default_factory=list)
    child_ids: dict[str, Span] = field(default_factory=dict)
    episode_ids: dict[str, tuple[str | None, Span]] = field(default_factory=dict)
    # (kind, child id, child span, episode id | None, episode span)
    refs: list[tuple[str, str | None, Span, str | None, Span]] = field(default_factory=list)
    # field -> the names the policy knows (action, actor, clause, exception): an expectation naming
    # another can never match, so a `not_obligations` entry with a typo would check nothing (F014)
    known: Mapping[str, Collection[str]] = field(default_factory=dict)
    # records of statuses.csv / flags.csv: (kind "status" | "flag", child id, Held), added to the children by finish()
    held: list[tuple[str, str, Held]] = field(default_factory=list)

    def _unique(self, what: str, key: str, span: Span, first: Span | None) -> bool:
        """False, after an F008, when `key` was already given at `first`."""
        if first is not None:
            self.diags.append(error("F008", span, f"duplicate {what} id '{shown(key, what) if what in ('child', 'episode') else key}'",
                                    f"{what} ids must be unique; the first is at {first}", (first,)))
        return first is None

    def add_child(self, rec: Record) -> None:
        values, ok = convert(rec, CHILD, REQUIRED["child"], label_of("child", rec), self.diags)
        cid = values.get("id")
        if cid is not None and self._unique("child", cid, rec.fields["id"].span, self.child_ids.get(cid)):
            self.child_ids[cid] = rec.fields["id"].span
        else:
            ok = False
        if ok:
            self.children.append(Child(span=rec.span, field_spans=own_lines(rec), **values))

    def add_episode(self, rec: Record) -> None:
        label = label_of("episode", rec)
        values, ok = convert(rec, EPISODE, REQUIRED["episode"], label, self.diags)
        eid = values.get("id")
        first = self.episode_ids.get(eid, (None, None))[1] if eid is not None else None
        if eid is not None and self._unique("episode", eid, rec.fields["id"].span, first):
            self.episode_ids[eid] = (values.get("child"), rec.fields["id"].span)
        else:
            ok = False
        self._days(values)
        reported, returned = values.get("reported"), values.get("returned")
        if reported is not None and returned is not None and utc(returned) < utc(reported):
            self.diags.append(error("F007", rec.fields["returned"].span,
                                    f"{label}: returned {format_instant(returned)}, "
                                    f"before it was reported ({format_instant(reported)})",
                                    "check both times; 'returned' must not be earlier than 'reported'"))
            ok = False
        if "child" in values:
            self.refs.append(("episode", values["child"], rec.fields["child"].span, None, rec.span))
        if ok:
            self.episodes.append(Episode(span=rec.span, field_spans=own_lines(rec), **values))

    @staticmethod
    def _days(values: dict[str, Any]) -> None:
        """A date-only report or return -> its earliest reading and `*_until`, the latest (facts/moments.py)."""
        ranges = {}
        for key in ("reported", "returned"):
            v = values.get(key)
            if isinstance(v, date) and not isinstance(v, datetime):
                ranges[key] = day_range(v)
            elif v is not None:
                ranges[key] = (v, None)
        if "reported" not in ranges:
            return
        rep, ret = narrow(ranges["reported"], ranges.get("returned"))
        for key, pair in (("reported", rep), ("returned", ret)):
            if pair is not None:
                values[key] = pair[0]
                if pair[1] is not None:
                    values[key + "_until"] = pair[1]

    def add_held(self, rec: Record, kind: str) -> None:
        """A row of statuses.csv (`kind` "status") or flags.csv ("flag"): child, name, from, to."""
        label = f"{kind} record"
        values, ok = convert(rec, STATUS if kind == "status" else FLAG, REQUIRED[kind], label, self.diags)
        if "child" in values:
            self.refs.append((label, values["child"], rec.fields["child"].span, None, rec.span))
        if not ok:
            return
        held = held_of(values, kind, rec, label, self.diags)
        if held is not BAD:
            self.held.append((kind, values["child"], held))

    def add_action(self, rec: Record) -> None:
        label = label_of("action", rec, "action")
        values, ok = convert(rec, ACTION, REQUIRED["action"], label, self.diags)
        self._ref("action", rec, values)
        known = self.known.get("action")
        if ok and known is not None and values["action"] not in known:
            self.diags.append(unknown_action(values["action"], rec.fields["action"].span, known))
        elif ok:
            self.actions.append(RecordedAction(span=rec.span, **values))

    def _ref(self, kind: str, rec: Record, values: dict[str, Any]) -> None:
        child, episode = values.get("child"), values.get("episode")
        if child is not None or episode is not None:
            cspan = rec.fields["child"].span if "child" in rec.fields else rec.span
            espan = rec.fields["episode"].span if "episode" in rec.fields else rec.span
            self.refs.append((kind, child, cspan, episode, espan))

    def expectation(self, rec: Record, kind: str) -> tuple[dict[str, Any], Span] | None:
        """An `expect:` entry; `kind` is 'obligation' or 'episode'. Names must refer to known facts."""
        spec = EXPECT_EPISODE if kind == "episode" else EXPECT_OBLIGATION
        values, ok = convert(rec, spec, (), f"expected {kind}", self.diags, blank_is_absent=False)
        if kind == "episode":
            if "id" in values:
                self.refs.append(("expected episode", None, rec.span, values["id"], rec.fields["id"].span))
        else:
            self._ref("expected obligation", rec, values)
            ok = self._known(rec, values) and ok
        return (values, rec.span) if ok else None

    def _known(self, rec: Record, values: dict[str, Any]) -> bool:
        """False, after an F014 per name, when the entry names an action, actor or clause the policy lacks."""
        ok = True
        for key, names in self.known.items():
            if key in values and values[key] not in names:
                what = "clause or exception" if key in ("clause", "exception") else key
                self.diags.append(error("F014", rec.fields[key].span,
                                        f"expected obligation names {what} '{values[key]}', which the policy does not have",
                                        did_you_mean(str(values[key]), sorted(names), f"the policy's {what}s")))
                ok = False
        return ok

    def _attach_held(self) -> None:
        """Add the statuses.csv/flags.csv records to their children; F016 for two records of one name
        of one child that are in force at the same moment."""
        extra: dict[tuple[str, str], list[Held]] = {}
        for kind, child, h in self.held:
            extra.setdefault((child, kind), []).append(h)
        for i, c in enumerate(self.children):
            statuses = c.statuses + tuple(extra.get((c.id, "status"), ()))
            flags = c.flags + tuple(extra.get((c.id, "flag"), ()))
            if len(statuses) != len(c.statuses) or len(flags) != len(c.flags):
                c = self.children[i] = replace(c, statuses=statuses, flags=flags)
            for noun, records_ in (("status", c.statuses), ("flag", c.flags)):
                for j, b in enumerate(records_):
                    a = next((a for a in records_[:j] if a.name == b.name and overlap(a, b)), None)
                    if a is not None:
                        first = a.span if a.span.file else c.span
                        self.diags.append(error(
                            "F016", b.span if b.span.file else c.span,
                            f"child '{shown(c.id)}' has two records of {noun} '{b.name}' in force at the same time",
                            f"give each {noun} of a child one record per period, with periods that do not overlap "
                            f"(a date 'to' is the last day in force); the other record is at {first}", (first,)))

    @staticmethod
    def _hint(name: str, known: dict, what: str) -> str:
        if redacting():  # listing the known ids would undo the pseudonyms
            return f"check the id against the {what} in the input"
        return did_you_mean(name, sorted(known), f"known {what}") if known else f"add it under '{what}'"

    def finish(self, children_complete: bool = True, episodes_complete: bool = True) -> FactSet:
        """Check references (F006) and return the facts, in input order.

        References to children (episodes) are only checked when every child (episode)
        record could be read, so an unreadable file does not flood the report.
        """
        for kind, child, cspan, episode, espan in self.refs:
            if child is not None and children_complete and child not in self.child_ids:
                self.diags.append(error("F006", cspan, f"{kind} names child '{shown(child)}', which is not among the children",
                                        self._hint(child, self.child_ids, "children")))
            if kind == "episode" or episode is None or not episodes_complete:
                continue
            if episode not in self.episode_ids:
                self.diags.append(error("F006", espan, f"{kind} names episode '{shown(episode, 'episode')}', which is not among the episodes",
                                        self._hint(episode, self.episode_ids, "episodes")))
            elif child is not None and self.episode_ids[episode][0] not in (None, child):
                owner, where = self.episode_ids[episode]
                self.diags.append(error("F006", espan,
                                        f"{kind}: episode '{shown(episode, 'episode')}' belongs to child '{shown(owner)}', not '{shown(child)}'",
                                        "name the episode's own child", (where,)))
        self._attach_held()
        born = {c.id: c.born for c in self.children}
        for e in self.episodes:
            if e.child in born and e.reported.astimezone(LONDON).date() < born[e.child]:
                self.diags.append(error("F007", e.span, f"episode '{shown(e.id, 'episode')}' was reported before child '{shown(e.child)}' was born",
                                        "check the child's date of birth and the episode's 'reported' time"))
        return FactSet(tuple(self.children), tuple(self.episodes), tuple(self.actions))


def unknown_action(name: str, span: Span, known: Collection[str], more: int = 0) -> Diagnostic:
    """F014 for a recorded action of a kind the policy has no duty for: it could discharge nothing, and the
    duty it was meant for would show as not done (a misspelling read as "overdue")."""
    rows = f" (and {more:,} more record{'s' * (more != 1)} naming it)" if more else ""
    return error("F014", span, f"recorded action names action {quoted(name)}, which the policy does not have{rows}",
                 did_you_mean(name, sorted(known), "the policy's actions"))


def unknown_actions(actions: Iterable[RecordedAction], known: Collection[str]) -> list[Diagnostic]:
    """`unknown_action` for each name among `actions` the policy lacks, at its first record, in input order."""
    first: dict[str, RecordedAction] = {}
    count: dict[str, int] = {}
    for a in actions:
        if a.action not in known:
            first.setdefault(a.action, a)
            count[a.action] = count.get(a.action, 0) + 1
    return [unknown_action(name, a.span, known, count[name] - 1) for name, a in first.items()]
