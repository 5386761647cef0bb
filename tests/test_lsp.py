"""`clause lsp` as an editor runs it: a subprocess speaking Content-Length framed JSON-RPC on stdio.

The editor's side is written out here (no LSP client library), so the test sees the bytes
an editor would. Every wait is bounded: a server that hangs or dies fails the test.
The pure features (cli/lsp/features.py) are also tested in-process, on the same fixture.
"""
from __future__ import annotations

import json
import queue
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any, Iterator

import pytest

from cli.lsp.features import analyse, completions, definition, hover, policy_root
from compiler.fmt import format_text

ROOT = Path(__file__).resolve().parent.parent
SMALL = ROOT / "tests" / "data" / "policy_small"
TIMEOUT = 60  # seconds for any one answer; generous for a loaded 2-core machine


class Editor:
    """The client half of a language server conversation."""

    def __init__(self, cwd: Path) -> None:
        clause = Path(sys.executable).with_name("clause")
        command = [str(clause), "lsp"] if clause.exists() else [sys.executable, "-m", "cli.main", "lsp"]
        self.proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     cwd=cwd)
        self.inbox: queue.Queue[dict | None] = queue.Queue()
        self.next_id = 0
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        out = self.proc.stdout
        while True:
            headers = {}
            while (line := out.readline()) not in (b"\r\n", b""):
                name, _, value = line.decode("ascii").partition(":")
                headers[name.strip().lower()] = value.strip()
            if not line:
                self.inbox.put(None)  # the server closed its output
                return
            self.inbox.put(json.loads(out.read(int(headers["content-length"])).decode("utf-8")))

    def send(self, message: dict) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode("utf-8")
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.proc.stdin.flush()

    def notify(self, method: str, params: dict) -> None:
        self.send({"method": method, "params": params})

    def request(self, method: str, params: dict | None) -> Any:
        self.next_id += 1
        self.send({"id": self.next_id, "method": method, "params": params})
        message = self.wait(lambda m: m.get("id") == self.next_id and "method" not in m)
        assert "error" not in message, message
        return message["result"]

    def wait(self, wanted) -> dict:
        """The next message for which `wanted` holds; others (logs, other files' diagnostics) are passed over."""
        while True:
            try:
                message = self.inbox.get(timeout=TIMEOUT)
            except queue.Empty:
                pytest.fail(f"no answer from the language server within {TIMEOUT} s")
            if message is None:
                pytest.fail(f"the language server stopped: {self.proc.stderr.read().decode(errors='replace')[-2000:]}")
            if wanted(message):
                return message

    def diagnostics_for(self, uri: str) -> list[dict]:
        return self.wait(lambda m: m.get("method") == "textDocument/publishDiagnostics"
                         and m["params"]["uri"] == uri)["params"]["diagnostics"]


@pytest.fixture
def policy(tmp_path: Path) -> Path:
    shutil.copytree(SMALL, tmp_path / "policy")
    return tmp_path / "policy"


@pytest.fixture
def editor(policy: Path) -> Iterator[Editor]:
    ed = Editor(policy.parent)
    try:
        yield ed
    finally:
        if ed.proc.poll() is None:
            ed.proc.kill()
            ed.proc.wait(timeout=TIMEOUT)
        for stream in (ed.proc.stdin, ed.proc.stdout, ed.proc.stderr):
            stream.close()


def position_of(text: str, needle: str, offset: int = 0) -> dict:
    before = text[: text.index(needle) + offset]
    line = before.count("\n")
    return {"line": line, "character": len(before) - (before.rfind("\n") + 1)}


def test_an_editor_session(editor: Editor, policy: Path) -> None:
    init = editor.request("initialize", {"processId": None, "rootUri": policy.as_uri(), "capabilities": {}})
    caps = init["capabilities"]
    assert caps["hoverProvider"] and caps["definitionProvider"] and caps["completionProvider"]
    editor.notify("initialized", {})

    rules = policy / "rules.clause"
    uri = rules.as_uri()
    on_disk = rules.read_text(encoding="utf-8")
    assert "the child has status looked_after" in on_disk
    # unsaved text: an unknown status, typed in the editor only
    text = on_disk.replace("the child has status looked_after", "the child has status child_in_care", 1)
    editor.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "clause", "version": 1, "text": text}})
    (problem,) = [d for d in editor.diagnostics_for(uri) if d["severity"] == 1]
    where = position_of(text, "child_in_care")
    assert problem["code"] == "E002" and "child_in_care" in problem["message"]
    assert problem["range"]["start"] == where
    assert problem["range"]["end"] == {"line": where["line"], "character": where["character"] + len("child_in_care")}

    quote = "A child whose whereabouts cannot be established is missing."
    answer = editor.request("textDocument/hover", {"textDocument": {"uri": uri}, "position": position_of(text, quote, 5)})
    shown = answer["contents"]["value"]
    assert quote in shown and "Small Missing Children Procedure" in shown and "Categories" in shown
    assert "line 5" in shown  # where the sentence is in sources/small.txt

    # an exception's target: hover shows the clause, definition goes to it
    target = position_of(text, "overrides SM-CAT-2", len("overrides "))
    assert "Whereabouts known: absent" in editor.request(
        "textDocument/hover", {"textDocument": {"uri": uri}, "position": target})["contents"]["value"]
    location = editor.request("textDocument/definition", {"textDocument": {"uri": uri}, "position": target})
    assert location["uri"] == uri and location["range"]["start"] == position_of(text, "SM-CAT-2 \"Whereabouts known")

    listed = editor.request("textDocument/completion", {"textDocument": {"uri": uri},
                                                        "position": position_of(text, "child_in_care")})
    assert {"looked_after", "child_in_need"} <= {i["label"] for i in listed["items"]}

    # fixing the text clears the error
    editor.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": 2},
                                             "contentChanges": [{"text": on_disk}]})
    assert not [d for d in editor.diagnostics_for(uri) if d["severity"] == 1]

    # formatting: nothing to do on the canonical layout; one edit, the whole text, on another
    options = {"tabSize": 2, "insertSpaces": True}
    assert editor.request("textDocument/formatting", {"textDocument": {"uri": uri}, "options": options}) == []
    messy = on_disk.replace("\n  says", " says").replace("\n   and", " and")
    editor.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": 3},
                                             "contentChanges": [{"text": messy}]})
    editor.diagnostics_for(uri)
    (edit,) = editor.request("textDocument/formatting", {"textDocument": {"uri": uri}, "options": options})
    lines = messy.split("\n")
    assert edit["range"] == {"start": {"line": 0, "character": 0},
                             "end": {"line": len(lines) - 1, "character": len(lines[-1])}}
    assert edit["newText"] == format_text(messy) == on_disk

    assert editor.request("shutdown", None) is None
    editor.notify("exit", None)
    assert editor.proc.wait(timeout=TIMEOUT) == 0


def test_columns_count_utf16_code_units_as_the_protocol_says(editor: Editor, policy: Path) -> None:
    editor.request("initialize", {"processId": None, "rootUri": policy.as_uri(), "capabilities": {}})
    editor.notify("initialized", {})
    path = policy / "extra.clause"
    text = 'section SMALL "Duties"\nclause SM-NEW "Emoji 😀 title" says "Not in the document at all."\n  then police must locate_child\n'
    editor.notify("textDocument/didOpen", {"textDocument": {"uri": path.as_uri(), "languageId": "clause", "version": 1,
                                                            "text": text}})
    (problem,) = [d for d in editor.diagnostics_for(path.as_uri()) if d["code"] == "E020"]
    python_column = text.split("\n")[1].index('"Not in')
    assert problem["range"]["start"] == {"line": 1, "character": python_column + 1}  # the emoji is 2 UTF-16 units
    editor.request("shutdown", None)
    editor.notify("exit", None)
    assert editor.proc.wait(timeout=TIMEOUT) == 0


# ---- the features, in-process ------------------------------------------------------------------

def test_the_policy_folder_of_a_file() -> None:
    assert policy_root(ROOT / "policy" / "lmcp" / "04-child-protection.clause") == ROOT / "policy"
    assert policy_root(SMALL / "rules.clause") == SMALL


def test_hovers_work_while_another_file_is_broken(policy: Path) -> None:
    rules = str((policy / "rules.clause").resolve())
    broken = {str((policy / "documents.clause").resolve()): "document SMALL oops\n"}
    analysis = analyse(policy, broken)
    assert [d.code for d in analysis.diagnostics if d.severity == "error"][:1] == ["E001"]
    text = analysis.texts[rules]
    line = text[: text.index("SM-CAT-2 \"")].count("\n") + 1
    shown = hover(analysis, rules, line, len("clause ") + 2)
    assert shown.startswith("**SM-CAT-2** (clause): Whereabouts known: absent")


def test_definition_of_an_overlap() -> None:
    analysis = analyse(ROOT / "policy", {})
    for f in analysis.policy.files:
        for item in f.items:
            for overlap in getattr(item, "overlaps", ()):
                name = overlap.others[0]
                span = definition(analysis, f.path, name.span.line, name.span.column)
                assert analysis.index[name.value].id.span == span
                return
    pytest.fail("the bundled policy declares no overlap")


def test_completion_follows_the_words_before_the_cursor() -> None:
    analysis = analyse(SMALL, {})
    assert {n for n, _ in completions(analysis, "  when the child has flag ")} == {
        "cse", "cce", "trafficking", "safeguarding_concerns", "risk_of_removal_abroad", "taken_abroad", "missed_appointments"}
    actions = dict(completions(analysis, "  then police must chec"))
    assert actions["check_in"] == "action" and "police" not in actions  # declared in the fixture
    actors = dict(completions(analysis, "  then "))
    assert actors["duty_officer"] == "actor"
    everything = dict(completions(analysis, "  when "))
    assert everything["must"] == "modality" and everything["overrides"] == "keyword" and everything["more than"] == "keyword"


def test_definition_of_a_version_and_of_an_accepted_clause(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "tests" / "data" / "policy_versions", tmp_path / "policy")
    rules = str((tmp_path / "policy" / "rules.clause").resolve())
    extra = rules.replace("rules.clause", "zz-accept.clause")
    analysis = analyse(tmp_path / "policy", {extra: 'accept W101 MCP-CP-1 "why"\n'})
    text = analysis.texts[rules]
    line = text[: text.index("version of MCP-CP-1")].count("\n") + 1
    column = len(text.split("\n")[line - 1].split("version of ")[0]) + len("version of ") + 1
    target = analysis.index["MCP-CP-1"].id.span
    assert definition(analysis, rules, line, column) == target
    assert definition(analysis, extra, 1, len("accept W101 ") + 1) == target


def test_a_malformed_message_is_one_line_in_the_editors_log(tmp_path: Path) -> None:
    """pygls logged a message it could not parse with Python's traceback on stderr (the editor's log); one
    line now, and the editor still gets pygls's error message."""
    clause = Path(sys.executable).with_name("clause")
    command = [str(clause), "lsp"] if clause.exists() else [sys.executable, "-m", "cli.main", "lsp"]
    done = subprocess.run(command, input=b"Content-Length: 5\r\n\r\n{bad}", capture_output=True, cwd=tmp_path,
                          timeout=TIMEOUT)
    assert done.returncode == 0 and "Traceback" not in done.stderr.decode()
    (line,) = done.stderr.decode().splitlines()
    assert line.startswith("clause lsp: Unable to handle message: Expecting property name")
    assert b'"method": "window/showMessage"' in done.stdout
