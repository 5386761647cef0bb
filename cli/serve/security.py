"""What every response of `clause serve` goes through: read-only, token, host check, strict headers.

Input: the ASGI app and the access token (None when serving 127.0.0.1 only). Output: an
ASGI app. Invariants: only GET and HEAD reach the app (405 otherwise); with a token, a request
without it (Bearer header, `clause_token` cookie, or `?token=` which sets the cookie and is
removed from the address by a redirect) gets 401 and no data; without a token only a loopback
Host header is served (so a web page cannot reach the server through DNS rebinding); every
response carries a Content-Security-Policy that allows only this server's own script and
style, no frames, no form posts elsewhere, and is never cached.
"""
from __future__ import annotations

import hmac
from http.cookies import SimpleCookie
from urllib.parse import parse_qsl, urlencode

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cache-control": "no-store",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
}
LOOPBACK = ("127.0.0.1", "localhost", "[::1]", "::1")
COOKIE = "clause_token"


def _host(scope: Scope) -> str:
    for k, v in scope.get("headers", []):
        if k == b"host":
            h = v.decode("latin-1")
            return h.rsplit(":", 1)[0] if not h.endswith("]") else h
    return ""


class Guard:
    def __init__(self, app: ASGIApp, token: str | None):
        self.app, self.token = app, token

    async def _plain(self, send: Send, status: int, text: str, extra: dict[str, str] | None = None) -> None:
        headers = {**HEADERS, "content-type": "text/plain; charset=utf-8", **(extra or {})}
        await send({"type": "http.response.start", "status": status,
                    "headers": [(k.encode(), v.encode()) for k, v in headers.items()]})
        await send({"type": "http.response.body", "body": text.encode()})

    def _given(self, scope: Scope) -> tuple[str | None, str | None]:
        """(token from header or cookie, token from the query string)."""
        found = None
        for k, v in scope.get("headers", []):
            if k == b"authorization" and v.lower().startswith(b"bearer "):
                found = v[7:].decode("latin-1").strip()
            elif k == b"cookie" and found is None:
                morsel = SimpleCookie(v.decode("latin-1")).get(COOKIE)
                found = morsel.value if morsel else None
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        return found, query.get("token")

    def _ok(self, given: str | None) -> bool:
        return given is not None and self.token is not None and hmac.compare_digest(given.encode(), self.token.encode())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["method"] not in ("GET", "HEAD"):
            await self._plain(send, 405, "clause serve is read-only: only GET and HEAD are answered.\n",
                              {"allow": "GET, HEAD"})
            return
        if self.token is None and _host(scope) not in LOOPBACK:
            await self._plain(send, 421, "this server answers only to 127.0.0.1 or localhost.\n")
            return
        if self.token is not None:
            kept, in_query = self._given(scope)
            if self._ok(in_query):
                rest = [(k, v) for k, v in parse_qsl(scope.get("query_string", b"").decode("latin-1")) if k != "token"]
                where = scope["path"] + ("?" + urlencode(rest) if rest else "")
                await self._plain(send, 303, "signed in\n", {
                    "location": where,
                    "set-cookie": f"{COOKIE}={self.token}; Path=/; HttpOnly; SameSite=Strict"})
                return
            if not self._ok(kept):
                await self._plain(send, 401, "an access token is required: open the address clause serve printed, "
                                             "or send 'Authorization: Bearer TOKEN'.\n",
                                  {"www-authenticate": 'Bearer realm="clause"'})
                return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for k, v in HEADERS.items():
                    headers[k] = v
            await send(message)
        await self.app(scope, receive, with_headers)
