"""HTTP requests to `clause serve`: random methods, paths, query strings, headers and huge values.

The app is the one `clause serve` builds (cli/serve: create_app over a Source), called in-process
as an ASGI application with the request as uvicorn would hand it over (raw path and query bytes,
headers as bytes: nothing is cleaned up by a client library first), twice: on loopback without a token, and with a token. Data: the
examples folder and a case whose ids and texts are markup, judged at a fixed time. Outcome: a
2xx or 3xx answer is `result`, a 4xx `diagnostics` (the request refused, with a message); a 5xx,
an exception out of the app, or a raw `<script>alert`/`<img src=x`/`<svg onload` in any answer
that is not JSON is a crash. The status code is kept as the input's detail.
"""
from __future__ import annotations

import asyncio
import random
import shutil
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from bench.fuzz.common import DIAGNOSTICS, RESULT, Bad, Kind
from bench.fuzz.mutate import HARD_TIMES, HUGE_NUMBERS

ROOT = Path(__file__).resolve().parents[2]
AT = "2024-06-09T10:00"
TOKEN = "fuzz-token-0123456789"
MARKUP = ("<script>alert", "<img src=x", "<svg onload")
HOSTILE_CHILD = "<script>alert('c')</script>&\"x"
_ID = HOSTILE_CHILD.replace('"', '\\"')
HOSTILE_CASE = f"""case: hostile
description: "<b>bold</b> </script><script>alert(2)</script>"
as_of: 2024-06-09T10:00
children:
  - id: "{_ID}"
    born: 2010-01-20
episodes:
  - id: "<img src=x onerror=alert(1)>"
    child: "{_ID}"
    reported: 2024-06-05T23:00
actions:
  - action: strategy_discussion
    child: "{_ID}"
    by: "<svg onload=alert(3)>"
    at: 2024-06-06T10:00
"""
PATHS = ["/", "/child", "/why-not", "/report", "/api/v1/worklist", "/api/v1/child", "/api/v1/why", "/api/v1/why-not",
         "/api/v1/report", "/static/report.css", "/static/app.js", "/static/style.css"]
ODD_PATHS = ["/static/../../etc/passwd", "/static/%2e%2e/%2e%2e/etc/passwd", "//", "/api/v2/worklist", "/api/v1/",
             "/child/", "/%00", "/%ff%fe", "/static/", "/static/app.js/..", "/favicon.ico", "/" + "a" * 70000,
             "/api/v1/why%3Fid=C1", "/child;id=C1", "/static/%5c..%5c", "/report?"]
KEYS = ["state", "actor", "action", "child", "due_from", "due_to", "sort", "id", "episode", "from", "to", "token", "x",
        "order", ""]
VALUES = ["C1", "C2", "E1", "E2", HOSTILE_CHILD, "<img src=x onerror=alert(1)>", "strategy_discussion",
          "return_interview", "team_manager", "overdue", "open", "done", "upcoming", "due", "-due", "child", "nope",
          "2024-01-01", "2024-12-31", "2024-06-09", "", "%", "%ff", "%00", "%2B", "+", "&", "=", "C1%0d%0aX: y",
          "<script>alert(9)</script>", "'\"><svg onload=alert(5)>", "x" * 100_000, TOKEN, "../../etc/passwd",
          "\u202e", "é", "😀"] + [t.decode() for t in HARD_TIMES] + [n.decode("utf-8", "replace") for n in HUGE_NUMBERS]
METHODS = ["GET"] * 34 + ["HEAD"] * 3 + ["POST", "PUT", "DELETE", "OPTIONS", "PATCH", "TRACE", "FUZZ"]
HOSTS = ["127.0.0.1", "localhost", "127.0.0.1:8765", "[::1]", "evil.example", "", "localhost.evil.example",
         "127.0.0.1.nip.io", "LOCALHOST", "x" * 5000]


ASCII = "".join(chr(c) for c in range(33, 127))


def _value(rng: random.Random) -> str:
    v = rng.choice(VALUES)
    return v if v.startswith("%") or rng.random() < 0.1 else quote(v, safe="")


def _query(rng: random.Random) -> str:
    parts = []
    for _ in range(rng.choice([0, 1, 1, 2, 3, 5, 40])):
        key = rng.choice(KEYS)
        r = rng.random()
        parts.append(key if r < 0.05 else f"{key}={_value(rng)}")
    return "&".join(parts)


class Answer:
    """One response as the ASGI app sent it."""

    def __init__(self) -> None:
        self.status_code, self.headers, self.body = 0, {}, bytearray()

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


def call(app: Any, method: str, url: str, headers: dict[str, str]) -> Answer:
    """`app` asked `method url` with `headers` (latin-1 values, so any byte) -> its Answer."""
    path, _, query = (quote(part, safe=ASCII) for part in url.partition("?"))  # a server takes only ASCII targets
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
             "path": unquote(path), "raw_path": path.encode("latin-1", "replace"), "root_path": "",
             "query_string": query.encode("latin-1", "replace"), "client": ("127.0.0.1", 40000),
             "server": ("127.0.0.1", 8765),
             "headers": [(k.lower().encode("latin-1"), v.encode("latin-1", "replace")) for k, v in
                         ({"host": "127.0.0.1:8765"} | headers).items()]}
    answer = Answer()
    sent = False

    async def receive() -> dict:
        nonlocal sent
        if sent:
            await asyncio.sleep(3600)  # the client stays connected; nothing else arrives
        sent = True
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        if message["type"] == "http.response.start":
            answer.status_code = message["status"]
            answer.headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in message.get("headers", [])}
        elif message["type"] == "http.response.body":
            answer.body += message.get("body", b"")

    asyncio.run(app(scope, receive, send))
    return answer


class HttpKind(Kind):
    name, seed = "HTTP requests", 20204

    def setup(self, work: Path) -> None:
        from compiler.core.london import parse_instant
        from compiler.policy import compile_policy
        from cli.serve.app import create_app
        from cli.serve.source import Source
        self.work = work
        data = work / "served"
        if not data.exists():
            shutil.copytree(ROOT / "examples", data)
            (data / "hostile.yaml").write_text(HOSTILE_CASE, encoding="utf-8")
        policy = compile_policy(ROOT / "policy")
        at = parse_instant(AT)
        self.apps = {"open": create_app(Source(data, policy, at), None), "token": create_app(Source(data, policy, at), TOKEN)}
        ok = call(self.apps["open"], "GET", "/api/v1/worklist", {})
        if ok.status_code != 200:
            raise RuntimeError(f"the served data do not load: {ok.status_code}")
        self.detail = ""

    def make(self, rng: random.Random) -> tuple[str, dict]:
        which = "token" if rng.random() < 0.2 else "open"
        # the report is computed afresh for each request (seconds), so it is asked a tenth as often
        path = rng.choices(PATHS, [0.1 if "report" in p and "css" not in p else 1 for p in PATHS])[0] \
            if rng.random() < 0.85 else rng.choice(ODD_PATHS)
        query = _query(rng)
        headers = {}
        if rng.random() < 0.3:
            headers["host"] = rng.choice(HOSTS)
        if which == "token" or rng.random() < 0.1:
            r = rng.random()
            if r < 0.4:
                headers["authorization"] = "Bearer " + (TOKEN if rng.random() < 0.7 else rng.choice(["", "x", TOKEN + "x"]))
            elif r < 0.7:
                headers["cookie"] = rng.choice([f"clause_token={TOKEN}", "clause_token=", "a=b; clause_token=x",
                                                '=;;"', "clause_token=" + "x" * 9000])
            elif r < 0.8:
                query = (query + "&" if query else "") + f"token={TOKEN}"
        for _ in range(rng.choice([0, 0, 1, 3])):
            name = rng.choice(["accept-encoding", "accept", "content-type", "x-forwarded-for", "range", "if-none-match",
                               "cache-control", "referer", "user-agent", "x-" + "h" * rng.choice([1, 200])])
            headers[name] = rng.choice(["gzip, br", "*/*", "text/html;q=0.1", "bytes=0-5", "bytes=9-1", "-1",
                                        "999999999999", "", "x" * 8000, "\u00e9", "<script>alert(7)</script>"])
        method = rng.choice(METHODS)
        label = f"{method} {path[:40]}{' with query' if query else ''} ({which})"
        return label, {"client": which, "method": method, "url": path + ("?" + query if query else ""), "headers": headers}

    def run(self, item: dict) -> str:
        r = call(self.apps[item["client"]], item["method"], item["url"], item["headers"])
        self.detail = str(r.status_code)
        if r.status_code >= 500:
            raise Bad(f"HTTP {r.status_code} for {item['method']} {item['url'][:60]}")
        kind = r.headers.get("content-type", "")
        if not kind.startswith("application/json"):
            body = r.text
            for raw in MARKUP:
                if raw in body:
                    raise Bad(f"unescaped {raw!r} in a {kind or 'typeless'} answer to {item['url'][:60]}")
        return RESULT if r.status_code < 400 else DIAGNOSTICS
