"""The English of explanations: one line per node, and the lines that cite a clause.

Input: the typed nodes of engine/explain/nodes.py and whether dates of birth may be shown.
Output: strings for a practitioner (moments on the London wall clock with the weekday). The
only place an explanation's words are written; text, JSON (`text` fields) and HTML all use it.
Invariant: with `births=False` no date of birth appears (the records hold it, the words omit it).
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Callable

from compiler import ast
from compiler.core.london import LONDON, format_instant
from compiler.core.vocabulary import EPISODE_BOOLEANS
from engine.explain.nodes import (CandidateNode, CaseNode, ClauseInfo, ClauseNode, ConditionNode, ExceptionNode,
                                  FactNode, Node, ObligationNode, RecordNode, StatusNode, TimingNode, WhyNotNode)
from engine.meaning.base_facts import held_at, moment_of, returned_by
from engine.meaning.lifecycle import span_words
from engine.meaning.obligations import precision
from facts.model import Held

HIDDEN_BIRTH = "[date of birth]"


def human(moment: datetime) -> str:
    """How explanations show a moment: London wall clock with the weekday."""
    return moment.astimezone(LONDON).strftime("%a %d %b %Y %H:%M")


def _when(moment) -> str:
    return human(moment) if moment else "-"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' * (n != 1)}"


def fact_words(n: FactNode, births: bool = True) -> str:
    """A base fact as a sentence, from its predicate, arguments and records."""
    a, c, e = n.args, n.child, n.episode
    born = (c.born.isoformat() if births else HIDDEN_BIRTH) if c else ""
    if n.pred == "child":
        return f"child {a[0]}, born {born}"
    if n.pred in ("status", "flag", "status_at", "flag_at"):
        noun = n.pred.split("_")[0]
        who = e.child if n.pred.endswith("_at") and e else a[0]
        said = f"child {who} has {noun} {a[1]}"
        if n.held is None or n.held.throughout or n.at is None:
            return said
        when = f"the report on {human(n.at)}" if n.pred.endswith("_at") else f"the evaluation time, {human(n.at)}"
        return f"{said} {period(n.held)}, in force at {when}"
    if n.pred == "child_field":
        return f"child {a[0]} is placed in {a[2]}" if a[1] == "placed_in" else f"child {a[0]}'s {a[1].replace('_', ' ')} is {a[2]}"
    if e is None:
        return f"{n.pred}({', '.join(map(str, a))})"
    if n.pred == "episode":
        return f"episode {e.id} of child {e.child}, reported {_moment(e.reported, e.reported_until)}"
    if n.pred == "episode_true":
        if a[1] == "returned":
            back = returned_by(e, n.at)
            return f"episode {e.id}: returned {_moment(back, e.returned_until) if back else '-'}"
        return f"episode {e.id} has {a[1]}" if a[1] in EPISODE_BOOLEANS else f"episode {e.id} has a {a[1]}"
    if n.pred == "episode_value":
        return f"episode {e.id}: {a[1]} {a[2]}"
    if n.pred == "age":
        return f"child {e.child}, born {born}, was {a[1]} on {e.reported.astimezone(LONDON).date().isoformat()}"
    if n.pred == "elapsed":
        back = returned_by(e, n.at)
        until = f"returned {_moment(back, e.returned_until)}" if back else f"not returned by {human(n.at)}"
        return f"reported {_moment(e.reported, e.reported_until)}, {until}: {a[1] // 60} hours {a[1] % 60} minutes"
    if n.pred == "window_count":
        dates = ", ".join(human(t) for t in n.counted)
        return (f"{_plural(a[2], 'episode')} of child {e.child} reported in the {a[1] // 1440} days up to "
                f"{human(e.reported)}: {dates}")
    if n.pred == "window_true":
        which = ", ".join(f"{o.id} (reported {human(o.reported)})" for o in n.flagged)
        return (f"{a[2]} on episode{'s' * (len(n.flagged) != 1)} {which} of child {e.child}, in the "
                f"{a[1] // 1440} days up to {human(e.reported)}")
    if n.pred in ("weekend", "off_day"):
        when = f"{a[2] // 60} hours after {a[1]} is {_when(moment_of(e, a[1], a[2], n.at))}"
        return f"{when}, a weekend" + (" or bank holiday" if n.pred == "off_day" else "")
    return f"{n.pred}({', '.join(map(str, a))})"


def _bound(value) -> str:
    return human(value) if isinstance(value, datetime) else value.isoformat()


def period(h: Held) -> str:
    """When a status or flag record is in force, as written: 'from 2024-06-03 to 2024-09-30' ('' throughout)."""
    return " ".join(([f"from {_bound(h.start)}"] if h.start is not None else [])
                    + ([f"to {_bound(h.end)}"] if h.end is not None else []))


def _records(records: tuple[Held, ...]) -> str:
    return ", ".join(h.name + (f" ({period(h)})" if not h.throughout else "") for h in records) or "none"


def record_words(n: RecordNode) -> str:
    if n.about == "child" and n.child:
        c = n.child
        said = (f"child {c.id}: statuses {_records(c.statuses)}; flags {_records(c.flags)}; "
                f"placed in {c.placed_in}; responsible authority {c.responsible_authority}")
        if n.at is None or all(h.throughout for h in c.statuses + c.flags):
            return said
        when = f"the report on {human(n.at)}" if n.episode else f"the evaluation time, {human(n.at)}"
        now = [h.name for h in held_at(c.statuses, n.at) + held_at(c.flags, n.at)]
        return f"{said}; in force at {when}: {', '.join(now) or 'none'}"
    e = n.episode
    if n.about == "unrecorded":
        return f"episode {e.id}: {n.field} not recorded"
    if n.about == "no_flag_in_window":
        return f"no episode of child {e.child} reported in the {n.within} up to {human(e.reported)} has {n.field}"
    if n.about == "not_returned":
        return f"episode {e.id}: not returned by {_when(n.at)}"
    kind = ("a weekend or bank holiday" if n.off else "a working day") if n.holidays else \
        ("a weekend" if n.off else "a weekday")
    return f"{n.moment} is {_when(n.when)}, {kind}"


def condition_words(n: ConditionNode) -> str:
    """The condition as the clause states it, or, negated, denied in plain words ("the child does not have
    status looked_after", where the language writes "not the child has status looked_after")."""
    return denied(n.atom) if n.negated else ast.describe(n.atom)


# Each kind of condition denied, as `ast.describe` states it: tests/test_explain.py fails on a kind left out
DENIALS: dict[type, Callable[[Any], str]] = {
    ast.HasStatus: lambda a: f"the child does not have status {a.status}",
    ast.NoStatus: lambda a: "the child has a status",
    ast.HasFlag: lambda a: f"the child does not have flag {a.flag}",
    ast.ChildField: lambda a: f"the child does not have {a.field} {a.value}",
    ast.Age: lambda a: f"the child is not aged {a.years} or {a.side}",
    ast.Returned: lambda a: "the child has not returned",
    ast.Reported: lambda a: "the child has not been reported missing",
    ast.Window: lambda a: f"the child has not been reported missing {a.count} times within {a.within}",
    ast.WindowFlag: lambda a: f"the child has not had {a.flag} within {a.within}",
    ast.Lasted: lambda a: f"the episode has not lasted {'more than ' if a.strictly_more else ''}{a.duration}",
    ast.EpisodeField: lambda a: f"the episode does not have {a.field}" + (f" {a.value}" if a.value else ""),
    ast.Category: lambda a: f"the episode is not {a.category}",
    ast.Risk: lambda a: f"the risk is not {a.level}",
    ast.OffDay: lambda a: f"{a.moment} does not fall on a weekend" + (" or public holiday" if a.holidays else ""),
}


def denied(atom: ast.Atom) -> str:
    """`ast.describe(atom)` denied."""
    return DENIALS[type(atom)](atom)


def _timing(n: TimingNode) -> str:
    t = n.timing
    if n.triggered is None:
        arose = "in force while its conditions hold (it is about the child, not an episode)"
    else:
        recurring = f", occurrence {n.occurrence}, every {t.every} until returned" if n.occurrence else ""
        arose = f"arose {_when(n.triggered)} ({t.start or 'reported'}{recurring})"
    if n.due is None:
        return f"{arose}; no due time is set by the procedure{_approximate(n)}"
    rule = "immediately" if t.immediately else f"within {t.due_after}" + (f" of {t.due_anchor}" if t.due_anchor else "")
    if t.every is not None and t.due_after is None:
        rule = f"by the next occurrence, {t.every} on"
    if n.standard:
        rule += f": local standard {n.standard}, the authority's own standard, not the procedure's"
    return f"{arose}; due {_when(n.due)} ({rule}){_approximate(n)}"


def _approximate(n: TimingNode) -> str:
    """Honest time: what a date-only record leaves open (engine/meaning/obligations.py)."""
    if precision(n.triggered_latest, n.due_latest) == "exact":
        return ""
    parts = []
    if n.triggered_latest is not None:
        parts.append(f"it arose between {_when(n.triggered)} and {_when(n.triggered_latest)}")
    if n.due_latest is not None:
        parts.append(f"it is due between {_when(n.due)} and {_when(n.due_latest)}")
    return ("; time approximate: the record gives only the date, not the time, of the moment this counts from, "
            "so " + " and ".join(parts) + " (shown from the earliest, the first moment it can be)")


def _status(n: StatusNode) -> str:
    if n.done_at is not None:
        who = f" by {n.recorded.by}" if n.recorded else ""
        return f"status {n.status}: {n.action} recorded {_when(n.done_at)}{who}"
    if n.status == "overdue":
        return f"status overdue: nothing recorded by {_when(n.due)} (as at {_when(n.at)})"
    if n.status == "ended":
        return f"status ended: the child returned before it was done, and it ends on the return (as at {_when(n.at)})"
    if n.status == "upcoming":
        return f"status upcoming: it will arise {_when(n.triggered)} if nothing changes"
    since = f"; open {span_words(n.open_for)}" if n.open_for is not None else ""
    return f"status {n.status}: nothing recorded yet{since} (as at {_when(n.at)})"


def _exception(n: ExceptionNode) -> str:
    x = n.clause
    if n.outcome == "replaced_actor":
        return f"actor replaced by {n.actor}: exception {x.id} \"{x.title}\""
    return f"exception {x.id} {'did not apply' if n.outcome == 'did_not_apply' else 'applied'}"


def _candidate(n: CandidateNode) -> str:
    where = f"{n.clause.id}" + (f" for episode {n.episode}" if n.episode else "")
    if n.outcome == "present":
        return f"{where}: all conditions hold; present ({', '.join(n.actors)})"
    if n.outcome == "replaced":
        return f"{where}: all conditions hold, but exception {n.exception} replaced it"
    if n.outcome == "not_arisen":
        return f"{where}: all conditions hold, but it has not arisen by {_when(n.at)}"
    return f"{where}: {n.failed} of {_plural(n.conditions, 'condition')} failed"


def _why_not(n: WhyNotNode) -> str:
    head = f"{n.action} for child {n.child}" + (f" (episode {n.episode})" if n.episode else "")
    if n.present:
        return f"{head}: present ({_plural(n.present, 'obligation')})"
    if n.children:
        ways = _plural(len(n.children), "way")
        return f"{head}: not required as at {_when(n.at)}; {ways} it could arise, nearest first"
    return f"{head}: no clause creates it for this child"


def headline(node: Node, births: bool = True) -> str:
    """The node's one line of English."""
    if isinstance(node, CaseNode):
        return f"case {node.case}, as at {format_instant(node.at)}"
    if isinstance(node, ObligationNode):
        ob = node.obligation
        return f"{ob.actor} {ob.modality} {ob.action} - child {ob.child}" + (f", episode {ob.episode}" if ob.episode else "")
    if isinstance(node, TimingNode):
        return _timing(node)
    if isinstance(node, StatusNode):
        return _status(node)
    if isinstance(node, ClauseNode):
        prefix = "because " if node.sets == "because" else f"{node.sets} {node.value}: "
        c = node.clause
        dated = f" ({'version of ' + c.version_of + ', ' if c.version_of else ''}{c.in_force})" if c.in_force else ""
        return f"{prefix}{c.id} \"{c.title}\"{dated}"
    if isinstance(node, ConditionNode):
        return condition_words(node)
    if isinstance(node, FactNode):
        return fact_words(node, births)
    if isinstance(node, RecordNode):
        return record_words(node)
    if isinstance(node, ExceptionNode):
        return _exception(node)
    if isinstance(node, CandidateNode):
        return _candidate(node)
    if isinstance(node, WhyNotNode):
        return _why_not(node)
    raise TypeError(node)


def clause_of(node: Node) -> ClauseInfo | None:
    """The clause a node cites with its source (clauses, exceptions, candidates)."""
    return node.clause if isinstance(node, (ClauseNode, ExceptionNode, CandidateNode)) else None


def holds_mark(node: Node) -> bool | None:
    """✓ or ✗ for conditions and candidates; None where a node is not a test."""
    return node.holds if isinstance(node, (ConditionNode, CandidateNode)) else None


def _moment(t: datetime, until: datetime | None) -> str:
    """A fact's moment; one known only by its date says so (read from its earliest minute), not a midnight."""
    if until is None:
        return human(t)
    return f"on {t.astimezone(LONDON).strftime('%a %d %b %Y')} (date only, no time recorded)"
