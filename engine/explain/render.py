"""Explanation trees as text, JSON or one self-contained HTML page.

Input: `Node` trees from engine/explain/why.py. Output: strings. Rendering only:
every word of substance comes from the tree, so all three formats agree.
"""
from __future__ import annotations

import html
import json
from typing import Iterable

from engine.explain.why import Node

MARK = {True: "✓", False: "✗"}


def _where(node: Node) -> str:
    s = node.span
    return f"  [{s.file}:{s.line}]" if s and s.file and node.kind in ("fact", "status") else ""


def _text(node: Node, depth: int, out: list[str]) -> None:
    pad = "  " * depth
    mark = f"{MARK[node.holds]} " if node.kind in ("condition", "candidate") else ""
    out.append(f"{pad}{mark}{node.text}{_where(node)}")
    c = node.clause
    if c and node.kind in ("clause", "candidate", "exception"):
        out.append(f"{pad}    {c.document}, section \"{c.section}\" - {c.span.file}:{c.span.line}")
        for q in c.says:
            out.append(f"{pad}    says: \"{q}\"")
        for n in c.notes:
            out.append(f"{pad}    note: {n}")
    for child in node.children:
        _text(child, depth + 1, out)


def as_text(trees: Iterable[Node]) -> str:
    out: list[str] = []
    for tree in trees:
        _text(tree, 0, out)
        out.append("")
    return "\n".join(out)


def as_json(trees: Iterable[Node]) -> str:
    return json.dumps([t.to_json() for t in trees], indent=2, ensure_ascii=False) + "\n"


def _html(node: Node) -> str:
    e = html.escape
    mark = f"<span class='{'ok' if node.holds else 'no'}'>{MARK[node.holds]}</span> " \
        if node.kind in ("condition", "candidate") else ""
    where = f" <span class='src'>{e(node.span.file)}:{node.span.line}</span>" if _where(node) else ""
    head = f"<span class='k-{node.kind}'>{mark}{e(node.text)}</span>{where}"
    body = ""
    c = node.clause
    if c and node.kind in ("clause", "candidate", "exception"):
        body += (f"<div class='cl'><div class='meta'>{e(c.document_title)} &middot; section &ldquo;{e(c.section)}&rdquo;"
                 f" &middot; <code>{e(c.span.file)}:{c.span.line}</code></div>"
                 + "".join(f"<blockquote>{e(q)}</blockquote>" for q in c.says)
                 + "".join(f"<p class='note'>Interpretation: {e(n)}</p>" for n in c.notes) + "</div>")
    kids = "".join(_html(k) for k in node.children)
    if not (body or kids):
        return f"<li>{head}</li>"
    return f"<li><details open><summary>{head}</summary>{body}<ul>{kids}</ul></details></li>"


def as_html(trees: Iterable[Node], title: str) -> str:
    items = "".join(_html(t) for t in trees)
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
