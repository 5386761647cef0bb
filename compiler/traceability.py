"""Source traceability: every sentence of every source document, and what encodes it.

Input: a `CompiledPolicy` (its documents, quotes and where each was found).
Output: a `Traceability` report: per document, per sentence, the clauses that
quote it, the not-encoded entries that list it, or nothing (a gap). Headings are
told apart from sentences and are never gaps. Renderers: text, JSON and HTML.
"""
from __future__ import annotations

import html
import json
from dataclasses import dataclass

from compiler import ast
from compiler.policy import CompiledPolicy
from compiler.sources import Sentence

SENTENCE_END = (".", ";", "!", "?", ")", "”", '"')


@dataclass(frozen=True)
class Row:
    sentence: Sentence
    heading: bool
    clauses: tuple[str, ...]
    not_encoded: tuple[str, ...]

    @property
    def status(self) -> str:
        if self.clauses:
            return "encoded"
        if self.not_encoded:
            return "not encoded"
        return "heading" if self.heading else "gap"


@dataclass(frozen=True)
class DocumentReport:
    id: str
    title: str
    path: str
    rows: tuple[Row, ...]

    def count(self, status: str) -> int:
        return sum(r.status == status for r in self.rows)


@dataclass(frozen=True)
class Traceability:
    documents: tuple[DocumentReport, ...]

    @property
    def gaps(self) -> int:
        return sum(d.count("gap") for d in self.documents)


def is_heading(text: str) -> bool:
    """A line with no sentence ending, or a short lead-in ending in a colon."""
    if text.endswith(":"):
        return len(text.split()) <= 8
    return not text.endswith(SENTENCE_END)


def trace(policy: CompiledPolicy) -> Traceability:
    not_encoded_ids = {n.id.value for n in policy.ast.items(ast.NotEncoded)}
    docs = []
    for d in policy.ast.items(ast.Document):
        source = policy.sources.get(d.id.value)
        if source is None:
            continue
        ranges = [(start, end, ident) for (ident, _), (doc, start, end) in policy.quotes.items() if doc == d.id.value]
        rows = []
        for s in source.sentences:
            hits = sorted({ident for start, end, ident in ranges if start < s.end and s.start < end})
            rows.append(Row(s, is_heading(s.text), tuple(h for h in hits if h not in not_encoded_ids),
                            tuple(h for h in hits if h in not_encoded_ids)))
        docs.append(DocumentReport(d.id.value, d.title.value, source.path, tuple(rows)))
    return Traceability(tuple(docs))


def render_text(report: Traceability) -> str:
    out = []
    for d in report.documents:
        out.append(f"{d.id}: {d.title}  ({d.path})")
        out.append(f"  {d.count('encoded')} encoded, {d.count('not encoded')} listed as not encoded, "
                   f"{d.count('heading')} headings, {d.count('gap')} gaps")
        for r in d.rows:
            label = {"encoded": ", ".join(r.clauses), "not encoded": "not encoded: " + ", ".join(r.not_encoded),
                     "heading": "(heading)", "gap": "GAP"}[r.status]
            text = r.sentence.text if len(r.sentence.text) <= 100 else r.sentence.text[:97] + "..."
            out.append(f"  {r.sentence.line:>4}  {label:<32}  {text}")
        out.append("")
    out.append(f"{report.gaps} gap{'s' * (report.gaps != 1)}")
    return "\n".join(out)


def render_json(report: Traceability) -> str:
    return json.dumps({
        "gaps": report.gaps,
        "documents": [{
            "id": d.id, "title": d.title, "path": d.path,
            "sentences": [{"line": r.sentence.line, "column": r.sentence.column, "text": r.sentence.text,
                           "status": r.status, "clauses": list(r.clauses), "not_encoded": list(r.not_encoded)}
                          for r in d.rows]} for d in report.documents]}, indent=2, ensure_ascii=False)


def render_html(report: Traceability, policy: CompiledPolicy) -> str:
    notes = {n.id.value: n.because.value for n in policy.ast.items(ast.NotEncoded)}
    titles = {c.id.value: c.title.value for c in policy.ast.clauses}
    e = html.escape
    parts = ["<!doctype html><html lang='en'><meta charset='utf-8'><title>Clause: source traceability</title>",
             "<style>body{font:15px/1.45 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}"
             "tr.gap{background:#fde2e1}tr.heading td{font-weight:600;color:#555}tr.not-encoded{background:#f4f4f4}"
             "td{vertical-align:top;padding:.3rem .5rem;border-bottom:1px solid #ddd}td.l{color:#777;text-align:right}"
             "code{font-size:90%}</style>",
             f"<h1>Source traceability</h1><p>{report.gaps} gap{'s' * (report.gaps != 1)}.</p>"]
    for d in report.documents:
        parts.append(f"<h2>{e(d.id)}: {e(d.title)}</h2><p>{d.count('encoded')} sentences encoded, "
                     f"{d.count('not encoded')} listed as not encoded, {d.count('gap')} gaps.</p><table>")
        for r in d.rows:
            if r.status == "encoded":
                what = "<br>".join(f"<code>{e(c)}</code> {e(titles.get(c, ''))}" for c in r.clauses)
            elif r.status == "not encoded":
                what = "<br>".join(f"not encoded (<code>{e(n)}</code>): {e(notes.get(n, ''))}" for n in r.not_encoded)
            else:
                what = "heading" if r.status == "heading" else "<strong>gap: neither encoded nor listed</strong>"
            parts.append(f"<tr class='{r.status.replace(' ', '-')}'><td class='l'>{r.sentence.line}</td>"
                         f"<td>{e(r.sentence.text)}</td><td>{what}</td></tr>")
        parts.append("</table>")
    parts.append("</html>")
    return "\n".join(parts)
