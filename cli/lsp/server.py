"""The language server's protocol side, on pygls: editor messages in, LSP answers out.

Input: JSON-RPC over stdio from an editor (didOpen, didChange, didSave, didClose, hover,
definition, completion, formatting: `clause fmt` of the open text). Output: publishDiagnostics for every file of the policy folder
an edited file belongs to (an empty list clears a file's old ones), and the answers to
requests. Invariants: positions go out as 0-based lines and characters in the units the
client and server agreed (UTF-16 unless the client offers another), converted from the
compiler's 1-based line and character columns; only `file:` documents are analysed.
"""
from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Callable

from lsprotocol import types as lsp
from pygls.lsp.server import LanguageServer
from pygls.uris import from_fs_path, to_fs_path

from cli.lsp.features import Analysis, analyse, completions, definition, hover, policy_root, word_end
from compiler.core.diagnostics import ClauseError, Diagnostic, Span
from compiler.fmt import format_text

Units = Callable[[str], int]


class ClauseServer(LanguageServer):
    """The server, with the last analysis of each policy folder and the files it published to."""

    def __init__(self) -> None:
        from importlib.metadata import version
        super().__init__("clause", version("clause"), text_document_sync_kind=lsp.TextDocumentSyncKind.Full)
        self.analyses: dict[Path, Analysis] = {}
        self.published: dict[Path, set[str]] = {}

    def units(self) -> Units:
        return self.workspace.position_codec.client_num_units

    def open_texts(self) -> dict[str, str]:
        out = {}
        for uri, doc in self.workspace.text_documents.items():
            path = to_fs_path(uri) if uri.startswith("file:") else None
            if path and path.endswith(".clause"):
                out[str(Path(path).resolve())] = doc.source
        return out

    def analysis(self, path: str, fresh: bool = False) -> Analysis:
        root = policy_root(Path(path))
        if fresh or root not in self.analyses:
            self.analyses[root] = analyse(root, self.open_texts())
        return self.analyses[root]


def to_client(text: str, line: int, column: int, units: Units) -> lsp.Position:
    """A compiler position (1-based line and column in characters) as an LSP position."""
    lines = text.split("\n")  # as the parser counts lines
    if not line:
        return lsp.Position(0, 0)
    if line > len(lines):
        return lsp.Position(len(lines), 0)
    return lsp.Position(line - 1, units(lines[line - 1][: max(column - 1, 0)]))


def from_client(text: str, position: lsp.Position, units: Units) -> tuple[int, int]:
    """An LSP position as the compiler's (1-based line, 1-based column in characters)."""
    lines = text.split("\n")
    line = lines[position.line] if position.line < len(lines) else ""
    count = column = 0
    while column < len(line) and count + units(line[column]) <= position.character:
        count += units(line[column])
        column += 1
    return position.line + 1, column + 1


def span_range(text: str, span: Span, units: Units) -> lsp.Range:
    start = to_client(text, span.line, span.column, units)
    if span.end_line and (span.end_line, span.end_column) > (span.line, span.column):
        end = to_client(text, span.end_line, span.end_column, units)
    else:
        end = to_client(text, span.line, word_end(text, span.line, span.column), units)
    return lsp.Range(start, end)


def _diagnostic(d: Diagnostic, analysis: Analysis, text: str, units: Units) -> lsp.Diagnostic:
    related = [lsp.DiagnosticRelatedInformation(
        lsp.Location(from_fs_path(r.file), span_range(analysis.texts[r.file], r, units)), f"see {r.clause or r}")
        for r in d.related if r.file in analysis.texts]
    severity = lsp.DiagnosticSeverity.Error if d.severity == "error" else lsp.DiagnosticSeverity.Warning
    message = d.message + (f"\nhint: {d.hint}" if d.hint else "")
    if d.span.file not in analysis.texts:
        message = f"{d.span}: {message}"
    return lsp.Diagnostic(span_range(text, d.span, units) if d.span.file in analysis.texts else lsp.Range(
        lsp.Position(0, 0), lsp.Position(0, 0)), message, severity, d.code, source="clause",
        related_information=related or None)


def publish(ls: ClauseServer, path: str) -> None:
    """Analyse the policy `path` belongs to and publish every file's diagnostics."""
    analysis = ls.analysis(path, fresh=True)
    units = ls.units()
    by_file: dict[str, list[lsp.Diagnostic]] = {f: [] for f in ls.published.get(analysis.root, set()) | set(analysis.texts)}
    for d in analysis.diagnostics:
        file = d.span.file if d.span.file in analysis.texts else path  # about the folder or a source: shown here
        by_file.setdefault(file, []).append(_diagnostic(d, analysis, analysis.texts.get(file, ""), units))
    for file, diagnostics in sorted(by_file.items()):
        ls.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(from_fs_path(file), diagnostics))
    ls.published[analysis.root] = {f for f, ds in by_file.items() if ds}


def _path(uri: str) -> str | None:
    path = to_fs_path(uri) if uri.startswith("file:") else None
    return str(Path(path).resolve()) if path and path.endswith(".clause") else None


def build() -> ClauseServer:
    """A server with every feature registered."""
    server = ClauseServer()

    def refresh(ls: ClauseServer, uri: str) -> None:
        path = _path(uri)
        if path is not None:
            publish(ls, path)

    @server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: ClauseServer, params: lsp.DidOpenTextDocumentParams) -> None:
        refresh(ls, params.text_document.uri)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: ClauseServer, params: lsp.DidChangeTextDocumentParams) -> None:
        refresh(ls, params.text_document.uri)

    @server.feature(lsp.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: ClauseServer, params: lsp.DidSaveTextDocumentParams) -> None:
        refresh(ls, params.text_document.uri)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: ClauseServer, params: lsp.DidCloseTextDocumentParams) -> None:
        refresh(ls, params.text_document.uri)  # the file on disk stands in again

    def located(ls: ClauseServer, params: lsp.TextDocumentPositionParams) -> tuple[Analysis, str, int, int] | None:
        path = _path(params.text_document.uri)
        if path is None:
            return None
        analysis = ls.analysis(path)
        text = analysis.texts.get(path, "")
        return (analysis, path, *from_client(text, params.position, ls.units()))

    @server.feature(lsp.TEXT_DOCUMENT_HOVER)
    def on_hover(ls: ClauseServer, params: lsp.HoverParams) -> lsp.Hover | None:
        at = located(ls, params)
        markdown = hover(*at) if at else None
        return lsp.Hover(lsp.MarkupContent(lsp.MarkupKind.Markdown, markdown)) if markdown else None

    @server.feature(lsp.TEXT_DOCUMENT_DEFINITION)
    def on_definition(ls: ClauseServer, params: lsp.DefinitionParams) -> lsp.Location | None:
        at = located(ls, params)
        span = definition(*at) if at else None
        if span is None:
            return None
        return lsp.Location(from_fs_path(span.file), span_range(at[0].texts[span.file], span, ls.units()))

    @server.feature(lsp.TEXT_DOCUMENT_COMPLETION, lsp.CompletionOptions(trigger_characters=[" "]))
    def on_completion(ls: ClauseServer, params: lsp.CompletionParams) -> lsp.CompletionList:
        at = located(ls, params)
        before = ""
        if at:
            analysis, path, line, column = at
            lines = analysis.texts.get(path, "").split("\n")
            before = lines[line - 1][: column - 1] if line <= len(lines) else ""
        kinds = {"keyword": lsp.CompletionItemKind.Keyword, "modality": lsp.CompletionItemKind.Operator}
        items = [lsp.CompletionItem(name, kind=kinds.get(what, lsp.CompletionItemKind.EnumMember), detail=what)
                 for name, what in completions(at[0] if at else None, before)]
        return lsp.CompletionList(is_incomplete=False, items=items)

    @server.feature(lsp.TEXT_DOCUMENT_FORMATTING)
    def on_formatting(ls: ClauseServer, params: lsp.DocumentFormattingParams) -> list[lsp.TextEdit] | None:
        path = _path(params.text_document.uri)
        if path is None:
            return None
        text = ls.workspace.get_text_document(params.text_document.uri).source
        try:
            new = format_text(text, path)
        except ClauseError:
            return None  # a file that does not parse is left as it is; its diagnostic is already shown
        lines = text.split("\n")
        end = lsp.Position(len(lines) - 1, ls.units()(lines[-1]))
        return [lsp.TextEdit(lsp.Range(lsp.Position(0, 0), end), new)] if new != text else []

    return server


class _OneLine(logging.Formatter):
    """pygls logs a message it cannot handle (malformed JSON, say) with Python's traceback; the editor's log
    gets one line instead, and the editor itself pygls's error answer."""

    def format(self, record: logging.LogRecord) -> str:
        cause = f": {record.exc_info[1]}" if record.exc_info and record.exc_info[1] else ""
        return f"clause lsp: {record.getMessage()}{cause}"


def serve() -> None:
    """Run over stdin and stdout until the editor says exit."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_OneLine())
    pygls_log = logging.getLogger("pygls")
    pygls_log.addHandler(handler)
    pygls_log.propagate = False
    build().start_io()
