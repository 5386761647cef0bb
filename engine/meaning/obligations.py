"""Derived obligation tuples -> `Obligation`s with times, occurrences and status.

Input: the `obligation` tuples from the rules, the clauses (their timing), the
facts and the evaluation time. Output: obligations sorted by due time, then
arising time, child, episode, action, actor. Invariants: an obligation appears
only once it has arisen (triggered <= as_of); a recurring one yields one
obligation per occurrence that has arisen, and none from the return onwards;
status is given only when the input records actions at all.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Iterable

from compiler import ast
from facts.model import Episode, FactSet, RecordedAction
from compiler.core.london import format_instant
from engine.meaning.base_facts import add_minutes, moment_of, returned_by, utc

_NEVER = datetime.max.replace(tzinfo=timezone.utc)  # sorts after every real time
MAX_OCCURRENCES = 520  # ten years of weekly meetings: an evaluation time decades late cannot exhaust memory
FIELDS = ("child", "episode", "action", "actor", "modality", "triggered", "due", "clause", "exception", "status")


@dataclass(frozen=True, slots=True)
class Obligation:
    child: str
    episode: str | None
    action: str
    actor: str
    modality: str
    triggered: datetime | None
    due: datetime | None
    clause: str
    exception: str | None = None
    status: str | None = None
    occurrence: int = 0  # 1, 2, ... for recurring obligations; 0 otherwise
    done_at: datetime | None = None

    @property
    def key(self) -> tuple:
        """Identity across evaluations and policy versions (for diff)."""
        return (self.child, self.episode or "", self.action, self.clause, self.occurrence)

    def sort_key(self) -> tuple:
        """Due, then arising time, as real instants (none last), then the names."""
        return (utc(self.due) if self.due else _NEVER, utc(self.triggered) if self.triggered else _NEVER,
                self.child, self.episode or "", self.action, self.actor, self.occurrence)

    def to_json(self) -> dict:
        out = {
            "child": self.child, "episode": self.episode, "action": self.action, "actor": self.actor,
            "modality": self.modality,
            "triggered": format_instant(self.triggered) if self.triggered else None,
            "due": format_instant(self.due) if self.due else None,
            "clause": self.clause, "exception": self.exception, "status": self.status,
        }
        if self.occurrence:
            out["occurrence"] = self.occurrence
        return out


def occurrences(timing: ast.Timing, episode: Episode | None, at: datetime) -> list[tuple[int, datetime | None]]:
    """(occurrence number, moment arisen) for every occurrence arisen by `at`."""
    if episode is None:
        return [(0, None)]
    start = timing.start or ast.Moment("reported", None, ast.Span(""))
    first = moment_of(episode, start.anchor, start.minutes, at)
    if first is None or utc(first) > utc(at):
        return []
    if timing.every is None:
        return [(0, first)]
    back = returned_by(episode, at)
    out, k = [], 0
    while k < MAX_OCCURRENCES:
        moment = add_minutes(first, k * timing.every.minutes)
        if utc(moment) > utc(at) or (back is not None and utc(moment) >= utc(back)):
            return out
        out.append((k + 1, moment))
        k += 1
    return out


def due_time(timing: ast.Timing, triggered: datetime | None, episode: Episode | None, at: datetime) -> datetime | None:
    if triggered is None:
        return None
    if timing.immediately:
        return triggered
    if timing.due_after is None:
        return None
    if timing.due_anchor is not None and episode is not None:
        base = moment_of(episode, timing.due_anchor.anchor, timing.due_anchor.minutes, at)
        return None if base is None else add_minutes(base, timing.due_after.minutes)
    return add_minutes(triggered, timing.due_after.minutes)


def status_of(ob: Obligation, episode: Episode | None, actions: Iterable[RecordedAction], at: datetime,
              window_end: datetime | None) -> tuple[str, datetime | None]:
    """pending / overdue / done / done_late, from the first matching recorded action."""
    since = ob.triggered if ob.occurrence else (episode.reported if episode else None)
    matches = sorted(
        (a.at for a in actions
         if a.child == ob.child and a.action == ob.action
         and (a.episode is None or ob.episode is None or a.episode == ob.episode)
         and utc(a.at) <= utc(at)
         and (since is None or utc(a.at) >= utc(since))
         and (window_end is None or utc(a.at) < utc(window_end))),
        key=utc)
    if matches:
        done = matches[0]
        late = ob.due is not None and utc(done) > utc(ob.due)
        return ("done_late" if late else "done"), done
    if ob.due is not None and utc(ob.due) < utc(at):
        return "overdue", None
    return "pending", None


def build(tuples: Iterable[tuple], clauses: dict[str, ast.Clause], facts: FactSet, at: datetime,
          track_status: bool | None = None) -> list[Obligation]:
    """`track_status` defaults to whether `facts` records any action (give it for part of a larger input)."""
    episodes = {e.id: e for e in facts.episodes}
    track_status = bool(facts.actions) if track_status is None else track_status
    out: list[Obligation] = []
    for child, episode_id, action, actor, modality, clause_id, exception in tuples:
        episode = episodes.get(episode_id) if episode_id else None
        timing = clauses[clause_id].obligation(action).timing
        arisen = occurrences(timing, episode, at)
        for i, (number, moment) in enumerate(arisen):
            ob = Obligation(child, episode_id or None, action, actor, modality, moment,
                            due_time(timing, moment, episode, at), clause_id, exception or None, None, number)
            if track_status:
                window_end = add_minutes(moment, timing.every.minutes) if timing.every and moment else None
                status, done_at = status_of(ob, episode, facts.actions, at, window_end)
                ob = replace(ob, status=status, done_at=done_at)
            out.append(ob)
    return sorted(out, key=Obligation.sort_key)
