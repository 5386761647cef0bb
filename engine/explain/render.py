"""Explanation trees as text, JSON (schema clause.why/1) or one self-contained HTML page.

Input: node trees from engine/explain/why.py (under `CaseNode`s) and whether dates of birth may be
shown (`births=False` for --redact). Output: strings. The words come from engine/explain/words.py,
so all three formats say the same; JSON carries the nodes' data fields (ids, predicates, arguments,
London times as `format_instant` writes them, spans as {file, line, column}) with each node's line
of text for convenience; docs/why-json.md documents the shape.
"""
from __future__ import annotations

import html
import json
from datetime import datetime
from typing import Iterable

from compiler import ast
from compiler.core.diagnostics import Span, printable
from compiler.core.london import format_instant
from engine.explain.nodes import (CandidateNode, CaseNode, ClauseInfo, ClauseNode, ConditionNode, ExceptionNode,
                                  FactNode, Node, ObligationNode, RecordNode, StatusNode, TimingNode, WhyNotNode)
from engine.explain.words import clause_of, headline, holds_mark
from engine.meaning.obligations import precision
from facts.model import Held

SCHEMA = "clause.why/1"
MARK = {True: "✓", False: "✗"}


def _source(node: Node) -> Span | None:
    """The input record a node cites (facts, records, a recorded action)."""
    if isinstance(node, (FactNode, RecordNode)):
        return node.span
    if isinstance(node, StatusNode) and node.recorded is not None:
        return node.recorded.span
    return None


def _where(node: Node) -> str:
    s = _source(node)
    return f"  [{s.file}:{s.line}]" if s and s.file else ""


def _text(node: Node, depth: int, out: list[str], births: bool) -> None:
    pad = "  " * depth
    mark = holds_mark(node)
    out.append(f"{pad}{MARK[mark] + ' ' if mark is not None else ''}{headline(node, births)}{_where(node)}")
    c = clause_of(node)
    if c:
        out.append(f"{pad}    {c.document}, section \"{c.section}\" - {c.span.file}:{c.span.line}")
        out += [f"{pad}    says: \"{q}\"" for q in c.says]
        out += [f"{pad}    note: {n}" for n in c.notes]
    for child in node.children:
        _text(child, depth + 1, out, births)


def as_text(trees: Iterable[Node], births: bool = True) -> str:
    out: list[str] = []
    for tree in trees:
        _text(tree, 0, out, births)
        out.append("")
    return printable("\n".join(out), keep="\n\t")  # an id's control characters shown, never obeyed


# ---- JSON ------------------------------------------------------------------------------

def _t(moment) -> str | None:
    return format_instant(moment) if moment is not None else None


def _moment(m: ast.Moment | None) -> dict | None:
    return None if m is None else {"anchor": m.anchor, "offset_minutes": m.minutes}


def _bound(value) -> str | None:
    return None if value is None else _t(value) if isinstance(value, datetime) else value.isoformat()


def _held(h: Held | None) -> dict | None:
    """A status or flag record: name, from and to as written (a date, or a date and time; null open), source."""
    return None if h is None else {"name": h.name, "from": _bound(h.start), "to": _bound(h.end),
                                   "source": h.span.to_json() if h.span.file else None}


def _clause(c: ClauseInfo) -> dict:
    return {"id": c.id, "title": c.title, "kind": c.kind, "document": c.document, "document_title": c.document_title,
            "section": c.section, "says": list(c.says), "notes": list(c.notes), "at": c.span.to_json()}


def _fields(n: Node) -> dict:
    """The node's own data, by kind (docs/why-json.md)."""
    if isinstance(n, CaseNode):
        return {"case": n.case, "at": _t(n.at)}
    if isinstance(n, ObligationNode):
        return {"obligation": n.obligation.to_json()}
    if isinstance(n, TimingNode):
        t = n.timing
        return {"triggered": _t(n.triggered), "due": _t(n.due), "occurrence": n.occurrence,
                "from": _moment(t.start) or {"anchor": "reported", "offset_minutes": 0},
                "immediately": t.immediately, "within_minutes": t.due_after.minutes if t.due_after else None,
                "of": _moment(t.due_anchor), "every_minutes": t.every.minutes if t.every else None,
                "time": precision(n.triggered_latest, n.due_latest),
                "triggered_latest": _t(n.triggered_latest), "due_latest": _t(n.due_latest)}
    if isinstance(n, StatusNode):
        r = n.recorded
        return {"status": n.status, "action": n.action, "at": _t(n.at), "due": _t(n.due), "done_at": _t(n.done_at),
                "recorded": None if r is None else {"action": r.action, "child": r.child, "episode": r.episode,
                                                    "by": r.by, "at": _t(r.at), "source": r.span.to_json()}}
    if isinstance(n, ClauseNode):
        return {"clause": _clause(n.clause), "sets": n.sets, "value": n.value}
    if isinstance(n, ConditionNode):
        return {"condition": ast.describe(n.atom), "negated": n.negated, "holds": n.holds,
                "bindings": dict(n.bindings), "at": n.atom.span.to_json(), "atom": ast.to_data(n.atom)}
    if isinstance(n, FactNode):
        child = n.child.id if n.child else n.episode.child if n.episode else None
        out = {"predicate": n.pred, "arguments": list(n.args), "child": child,
               "episode": n.episode.id if n.episode else None, "source": n.span.to_json()}
        if n.pred == "window_count":
            out["counted"] = [_t(x) for x in n.counted]
        if n.pred == "window_true":
            out["flagged"] = [{"episode": e.id, "reported": _t(e.reported)} for e in n.flagged]
        if n.pred in ("status", "flag", "status_at", "flag_at"):
            out["held"] = _held(n.held)
            out["in_force_at"] = _t(n.at)
        return out
    if isinstance(n, RecordNode):
        return {"about": n.about, "child": n.child.id if n.child else None, "episode": n.episode.id if n.episode else None,
                "field": n.field, "within_minutes": n.within.minutes if n.within else None, "at": _t(n.at), "moment": _moment(n.moment), "when": _t(n.when),
                "off": n.off if n.about == "calendar" else None, "holidays": n.holidays if n.about == "calendar" else None,
                "statuses": [_held(h) for h in n.child.statuses] if n.about == "child" and n.child else None,
                "flags": [_held(h) for h in n.child.flags] if n.about == "child" and n.child else None,
                "source": n.span.to_json()}
    if isinstance(n, ExceptionNode):
        return {"clause": _clause(n.clause), "outcome": n.outcome, "actor": n.actor}
    if isinstance(n, CandidateNode):
        return {"clause": _clause(n.clause), "child": n.child, "episode": n.episode, "outcome": n.outcome,
                "holds": n.holds, "failed": n.failed, "conditions": n.conditions, "actors": list(n.actors),
                "exception": n.exception}
    if isinstance(n, WhyNotNode):
        return {"child": n.child, "action": n.action, "episode": n.episode, "present": n.present,
                "holds": n.holds, "at": _t(n.at)}
    raise TypeError(n)


def to_data(node: Node, births: bool = True) -> dict:
    """One node and its subtree as JSON-ready data: kind, the node's fields, its text, its children."""
    out = {"kind": node.kind, **_fields(node), "text": headline(node, births)}
    if node.children:
        out["children"] = [to_data(c, births) for c in node.children]
    return out


def as_json(trees: Iterable[Node], births: bool = True) -> str:
    data = {"schema": SCHEMA, "cases": [to_data(t, births) for t in trees]}
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


# ---- HTML ------------------------------------------------------------------------------

def html_fragment(trees: Iterable[Node], births: bool = True) -> str:
    """The trees as nested HTML lists, every text escaped (for pages that hold explanations)."""
    return "".join(_html(t, births) for t in trees)


def _html(node: Node, births: bool) -> str:
    e = html.escape
    mark = holds_mark(node)
    tick = f"<span class='{'ok' if mark else 'no'}'>{MARK[mark]}</span> " if mark is not None else ""
    s = _source(node)
    where = f" <span class='src'>{e(s.file)}:{s.line}</span>" if s and s.file else ""
    head = f"<span class='k-{node.kind}'>{tick}{e(headline(node, births))}</span>{where}"
    body = ""
    c = clause_of(node)
    if c:
        body += (f"<div class='cl'><div class='meta'>{e(c.document_title)} &middot; section &ldquo;{e(c.section)}&rdquo;"
                 f" &middot; <code>{e(c.span.file)}:{c.span.line}</code></div>"
                 + "".join(f"<blockquote>{e(q)}</blockquote>" for q in c.says)
                 + "".join(f"<p class='note'>Interpretation: {e(n)}</p>" for n in c.notes) + "</div>")
    kids = "".join(_html(k, births) for k in node.children)
    if not (body or kids):
        return f"<li>{head}</li>"
    return f"<li><details open><summary>{head}</summary>{body}<ul>{kids}</ul></details></li>"


def as_html(trees: Iterable[Node], title: str, births: bool = True) -> str:
    items = "".join(_html(t, births) for t in trees)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
body{{font:15px/1.5 system-ui,sans-serif;max-width:62rem;margin:2rem auto;padding:0 1rem;color:#222}}
ul{{list-style:none;padding-left:1.2rem;border-left:1px solid #ddd}} summary{{cursor:pointer}}
blockquote{{margin:.3rem 0;padding:.2rem .6rem;border-left:3px solid #6a8;background:#f5faf6}}
.meta,.src,.note{{color:#666;font-size:90%}} .ok{{color:#17803d}} .no{{color:#b42318}}
.k-obligation,.k-why-not{{font-weight:700}} .k-clause,.k-candidate{{font-weight:600}}
</style></head><body><h1>{html.escape(title)}</h1><ul>{items}</ul></body></html>
"""
