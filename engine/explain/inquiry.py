"""Asking about one child: find them in the input, check the question, evaluate.

Input: a compiled policy, loaded facts, an optional time, and the child, action
and episode asked about. Output: one `Inquiry` per case (or bulk extract) that
holds the child, evaluated on that child's facts alone (the same obligations as
the whole input: rules never look across children) with status tracked as in the
whole input. Bad questions raise ClauseError: X001 no such child, X002 unknown
action, X003 no such episode for the child.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import datetime

from compiler import ast

from compiler.core import vocabulary
from compiler.core.diagnostics import ClauseError, Span, error
from compiler.core.privacy import shown
from compiler.policy import CompiledPolicy
from engine.backends.batch import now
from engine.evaluation import Evaluation, evaluate
from engine.explain.nodes import CaseNode, Node
from engine.explain.why import Explainer
from engine.output.redact import case_pseudonym, episode_pseudonym, pseudonymise, pseudonym
from facts.loader import LoadedInput


def no_such_child(where: str, child: str, known: list[str], redact: bool = False) -> ClauseError:
    """X001: the --child option's `child` is not in the input (which the span names). The hint names the
    nearest known ids, except under --redact, where listing real ids would undo the pseudonyms."""
    if redact or not known:
        hint = "give the id as written in the case file or children.csv"
    else:
        # the same ranking whichever engine read the input (an error path: a national year takes ~1 s)
        # of the ids as near as each other (C00001: C000001, C000091, C000101), the first in id order
        close = [k for _, k in sorted(_near(child, known))[:3]] if len(known) <= 100_000 else []
        listed = close or known[:5]
        hint = (f"did you mean {', '.join(repr(k) for k in close)}?" if close else
                f"known children include {', '.join(listed)}" + (f" ({len(known)} in all)" if len(known) > 5 else ""))
    message = f"--child '{shown(child)}': no child of that id in this input"
    return ClauseError([error("X001", Span(where), message, hint)])


def _near(child: str, known: list[str]) -> list[tuple[float, str]]:
    """(-similarity, id) of every id at least half like `child` (difflib's ratio, with its cheap bounds first)."""
    m = difflib.SequenceMatcher()
    m.set_seq2(child)
    out = []
    for k in known:
        m.set_seq1(k)
        if m.real_quick_ratio() >= 0.5 and m.quick_ratio() >= 0.5 and (r := m.ratio()) >= 0.5:
            out.append((-r, k))
    return out


@dataclass(frozen=True)
class Inquiry:
    case: str
    evaluation: Evaluation


def inquire(policy: CompiledPolicy, loaded: LoadedInput, where: str, child: str, action: str,
            episode: str | None = None, at: datetime | None = None, redact: bool = False) -> list[Inquiry]:
    known = set(vocabulary.ACTIONS) | {d.name.value for d in policy.ast.items(ast.Declaration) if d.kind == "action"}
    if action not in known:
        close = difflib.get_close_matches(action, sorted(known), n=1)
        raise ClauseError([error("X002", Span(where), f"unknown action '{action}'",
                                 f"did you mean '{close[0]}'?" if close else "see the vocabulary")])
    runs = ([(c.name, c.facts, at or c.as_of) for c in loaded.cases] or [("bulk", loaded.bulk, at or now())])
    found = []
    for name, facts, when in runs:
        if not any(c.id == child for c in facts.children):
            continue
        mine = facts.for_child(child)
        if episode is not None and not any(e.id == episode for e in mine.episodes):
            if redact:
                raise ClauseError([error("X003", Span(where), f"child '{pseudonym(child)}' has no episode "
                                         f"'{episode_pseudonym(episode)}'", "check the episode id against the input")])
            raise ClauseError([error("X003", Span(where), f"child '{child}' has no episode '{episode}' in case {name}",
                                     "episodes: " + (", ".join(e.id for e in mine.episodes) or "none"))])
        if redact:
            mine, name = pseudonymise(mine), (name if name == "bulk" else case_pseudonym(name))
        found.append(Inquiry(name, evaluate(policy, mine, when, action=action)))
    if not found:
        raise no_such_child(where, child, sorted({c.id for _, facts, _ in runs for c in facts.children}), redact)
    return found


def why_trees(found: list[Inquiry], child: str, action: str, episode: str | None, redact: bool = False) -> list[CaseNode]:
    """One case node per case where the child has the obligation, holding each derivation."""
    who = pseudonym(child) if redact else child
    episode = episode_pseudonym(episode) if redact else episode
    out = []
    for q in found:
        explainer = Explainer(q.evaluation)  # the occurrences of a recurring obligation share one derivation
        trees: list[Node] = [explainer.why(o) for o in q.evaluation.obligations
                             if o.child == who and o.action == action and (episode is None or o.episode == episode)]
        if trees:
            out.append(CaseNode(case=q.case, at=q.evaluation.at, children=tuple(trees)))
    return out


def why_not_trees(found: list[Inquiry], child: str, action: str, episode: str | None, redact: bool = False) -> list[CaseNode]:
    who = pseudonym(child) if redact else child
    episode = episode_pseudonym(episode) if redact else episode
    return [CaseNode(case=q.case, at=q.evaluation.at, children=(Explainer(q.evaluation).why_not(who, action, episode),))
            for q in found]
