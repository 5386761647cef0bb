"""A child as the browser shows them: facts, a timeline per episode, each obligation with its why.

Input: a `Source` and a child id (as served: a pseudonym when redacting). Output: `ChildView`
(data plus the explanation fragments as escaped HTML from engine/explain/render.py).
Invariants: the child is re-evaluated alone with pyDatalog (the reference engine, the one
that explains), as at the served evaluation time, with status exactly as in the whole input;
its obligations are the served ones (rules never look across children); X001/X002/X003
come from engine/explain/inquiry.py as on the command line.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from compiler.core.diagnostics import ClauseError, Span, error
from compiler.core.london import format_instant, utc
from compiler.core.privacy import redaction
from engine.evaluation import evaluate
from engine.explain import render
from engine.explain.inquiry import inquire, why_not_trees, why_trees
from engine.explain.nodes import Node
from engine.explain.why import Explainer
from engine.meaning.obligations import Obligation
from facts.loader import LoadedInput
from facts.model import Child, Episode

from cli.serve.source import Part, Source


def _fragment(trees: list[Node], redact: bool) -> str:
    """The trees as nested HTML lists (every text escaped by the renderer); dates of birth hidden when redacting."""
    return render.html_fragment(trees, births=not redact)


@dataclass(frozen=True)
class Item:
    obligation: Obligation
    why: str  # HTML fragment
    tree: Node


@dataclass(frozen=True)
class Event:
    at: datetime
    kind: str  # reported | returned | arose | due | done
    text: str
    state: str | None = None


@dataclass(frozen=True)
class EpisodeView:
    episode: Episode | None  # None: the child's obligations that belong to no episode
    category: str | None
    risk: str | None
    items: tuple[Item, ...]
    events: tuple[Event, ...]


@dataclass(frozen=True)
class PartView:
    name: str
    at: datetime
    child: Child
    episodes: tuple[EpisodeView, ...]


@dataclass(frozen=True)
class ChildView:
    id: str
    parts: tuple[PartView, ...]
    actions: tuple[str, ...]  # every action a why-not question may name

    def to_json(self) -> dict:
        return {"child": self.id, "cases": [{
            "case": p.name, "as_of": format_instant(p.at),
            "episodes": [{"id": e.episode.id, "reported": format_instant(e.episode.reported),
                          "returned": format_instant(e.episode.returned) if e.episode.returned else None,
                          "category": e.category, "risk": e.risk} for e in p.episodes if e.episode],
            "obligations": [i.obligation.to_json() for e in p.episodes for i in e.items],
        } for p in self.parts]}


def _events(episode: Episode | None, items: list[Item]) -> tuple[Event, ...]:
    out = []
    if episode is not None:
        out.append(Event(episode.reported, "reported", "reported missing"))
        if episode.returned is not None:
            out.append(Event(episode.returned, "returned", "returned"))
    for i in items:
        o = i.obligation
        name = o.action.replace("_", " ") + (f" #{o.occurrence}" if o.occurrence else "")
        if o.triggered:
            out.append(Event(o.triggered, "arose", f"{name}: {o.actor.replace('_', ' ')} {o.modality}"))
        if o.due:
            out.append(Event(o.due, "due", f"{name} due", o.status))
        if o.done_at:
            out.append(Event(o.done_at, "done", f"{name} done" + (" late" if o.status == "done_late" else "")))
    order = {"reported": 0, "arose": 1, "due": 2, "done": 3, "returned": 4}
    return tuple(sorted(out, key=lambda e: (utc(e.at), order[e.kind], e.text)))


def _part_view(source: Source, part: Part, child: str) -> PartView:
    with source.lock:
        mine = part.facts.for_child(child)
        ev = evaluate(source.policy, mine, part.at)
        explainer = Explainer(ev)
        items = [Item(o, "", explainer.why(o)) for o in ev.obligations]
    items = [replace(i, why=_fragment([i.tree], source.redact)) for i in items]
    cats = {e.id: e for e in ev.episodes}
    episodes = []
    for e in sorted(mine.episodes, key=lambda e: (utc(e.reported), e.id)):
        own = [i for i in items if i.obligation.episode == e.id]
        facts = cats.get(e.id)
        episodes.append(EpisodeView(e, facts.category if facts else None, facts.risk if facts else None,
                                    tuple(own), _events(e, own)))
    loose = [i for i in items if i.obligation.episode is None]
    if loose:
        episodes.append(EpisodeView(None, None, None, tuple(loose), ()))
    return PartView(part.name, part.at, next(c for c in mine.children if c.id == child), tuple(episodes))


def _actions(source: Source) -> tuple[str, ...]:
    return source.policy.known_names()["action"]


def no_child(source: Source, child: str) -> ClauseError:
    """X001 for a request naming a child the served input does not hold (a 404)."""
    return ClauseError([error("X001", Span("request"), f"no child '{child}' in {source.path.name}",
                              "open a child from the worklist")])


def child_view(source: Source, child: str) -> ChildView:
    return source.memo(("child", child), lambda: _child_view(source, child))


def _child_view(source: Source, child: str) -> ChildView:
    parts = source.snapshot().child_parts(child)
    if not parts:
        raise no_child(source, child)
    return ChildView(child, tuple(_part_view(source, p, child) for p in parts), _actions(source))


def _loaded(source: Source) -> LoadedInput:
    """The served facts (pseudonymised when redacting) as the inquiry module takes them."""
    parts = source.snapshot().parts
    if parts[0].case is None:
        return LoadedInput(bulk=parts[0].facts)
    return LoadedInput(cases=tuple(replace(p.case, name=p.name, facts=p.facts) for p in parts if p.case))


def question(source: Source, kind: str, child: str, action: str, episode: str | None) -> tuple[list[Node], str]:
    """`why` or `why-not` for a child and action, as trees and as an HTML fragment."""
    if not source.snapshot().child_parts(child):  # the request's words, not the command line's (--child)
        raise no_child(source, child)
    with source.lock, redaction(source.redact):
        found = inquire(source.policy, _loaded(source), source.path.name, child, action, episode, source.fixed_at)
        trees = (why_trees if kind == "why" else why_not_trees)(found, child, action, episode)
    return trees, _fragment(trees, source.redact)
