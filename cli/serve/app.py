"""The web application of `clause serve`: pages and JSON for the worklist, a child, why and why not, the report.

Input: a `Source` (cli/serve/source.py) and the access token. Output: a Starlette ASGI app.
Invariants: pages are server-side Jinja2 templates with autoescaping (every id, note and
name from the facts is escaped) that work without JavaScript; JSON answers carry
`"version": SHAPE_VERSION` (the shape is documented in the README); the answers are the
command line's (`clause obligations`, `why`, `why-not`, `report`) on the same data.
"""
from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

import duckdb
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from cli.serve.explain import ChildView, child_view, no_child, question
from cli.serve.security import Guard
from cli.serve.source import Snapshot, Source
from compiler.core.diagnostics import ClauseError, render_text
from compiler.core.london import LONDON
from engine import worklist as wl
from engine.explain import render
from engine.backends.duck import MEMORY_LIMIT
from engine.explain.words import period
from facts.limits import out_of_memory
from facts.validate import did_you_mean

SHAPE_VERSION = 1
ROW_LIMIT = 500  # rows on one worklist page; the JSON lists them all

env = Environment(loader=PackageLoader("cli.serve", "templates"), autoescape=select_autoescape(default=True),
                  trim_blocks=True, lstrip_blocks=True)
env.filters["when"] = lambda m: m.astimezone(LONDON).strftime("%a %d %b %Y %H:%M") if m else "-"
env.filters["label"] = lambda name: str(name).replace("_", " ") if name else "-"
env.filters["held"] = lambda h: h.name.replace("_", " ") + ("" if h.throughout else f" ({period(h)})")  # a status or flag record


def _query(current: dict[str, str], **changes: str | None) -> str:
    """A worklist query string: the current filters with some changed (None removes one)."""
    merged = {**current, **changes}
    return urlencode({k: v for k, v in merged.items() if v is not None})


env.globals["query"] = _query


class BadRequest(Exception):
    pass


def _date(request: Request, name: str) -> date | None:
    value = request.query_params.get(name) or None
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise BadRequest(f"{name}: expected a date as YYYY-MM-DD, got {value!r}") from None


def _filters(request: Request, source: Source, snap: Snapshot) -> wl.Filters:
    """The worklist's filters, each checked: a misspelt state, actor or action matched nothing and read as
    "no duty" (a case system asking for state=OVERDUE believed nothing overdue); an unknown child is X001."""
    q = request.query_params
    sort = q.get("sort") or "urgency"
    if sort not in wl.SORTS:
        raise BadRequest(f"sort: expected one of {', '.join(wl.SORTS)}, got {sort!r}")
    state, actor, action, child = (q.get(k) or None for k in ("state", "actor", "action", "child"))
    if state is not None and state not in wl.states():
        raise BadRequest(f"state: expected one of {', '.join(wl.states())}, got {state!r}")
    known = source.policy.known_names()
    for name, value in (("actor", actor), ("action", action)):
        if value is not None and value not in known[name]:
            raise BadRequest(f"{name}: {value!r} is not an {name} of the policy; {did_you_mean(value, known[name])}")
    if child is not None and not snap.child_parts(child):
        raise no_child(source, child)
    return wl.Filters(actor=actor, action=action, child=child, state=state, due_from=_date(request, "due_from"),
                      due_to=_date(request, "due_to"), sort=sort)


def _page(name: str, status: int = 200, **context: Any) -> HTMLResponse:
    return HTMLResponse(env.get_template(name).render(**context), status_code=status)


def build_app(source: Source) -> Starlette:
    def answer(data: dict) -> Response:
        """JSON as the command line writes it (explanations' dates of birth are left out by their renderer)."""
        return Response(json.dumps(data, ensure_ascii=False), media_type="application/json")

    def worklist(request: Request) -> wl.Worklist:
        snap = source.snapshot()
        return wl.build(snap.pairs(), _filters(request, source, snap), snap.at.astimezone(LONDON).date())

    def choices(snap) -> dict[str, list[str]]:
        obs = [o for _, o in snap.pairs()]
        return {"actor": sorted({o.actor for o in obs}), "action": sorted({o.action for o in obs})}

    def home(request: Request) -> Response:
        snap = source.snapshot()
        view = worklist(request)
        return _page("worklist.html", snap=snap, view=view, rows=view.rows[:ROW_LIMIT], limit=ROW_LIMIT,
                     states=list(view.counts), choices=choices(snap), f=view.filters, sorts=wl.SORTS)

    def api_worklist(request: Request) -> Response:
        return answer(worklist(request).to_json(source.snapshot().at))

    def _child(request: Request) -> ChildView:
        child = request.query_params.get("id") or ""
        if not child:  # was a 404 "no child ''"
            raise BadRequest("id: the page needs a child, as ?id=C1")
        return child_view(source, child)

    def child_page(request: Request) -> Response:
        view = _child(request)
        return _page("child.html", snap=source.snapshot(), v=view, actions=view.actions, redact=source.redact)

    def api_child(request: Request) -> Response:
        return answer({"version": SHAPE_VERSION, **_child(request).to_json()})

    def _question(request: Request, kind: str):
        q = request.query_params
        for name in ("id", "action"):  # without them the question read as "unknown action ''" or no child ''
            if not q.get(name):
                raise BadRequest(f"{name}: the question needs a child (id) and an action, as ?id=C1&action=strategy_discussion")
        return question(source, kind, q["id"], q["action"], q.get("episode") or None)

    def why_not_page(request: Request) -> Response:
        q = request.query_params
        trees, html = _question(request, "why-not")
        return _page("why_not.html", snap=source.snapshot(), child=q.get("id") or "", action=q.get("action") or "",
                     episode=q.get("episode") or "", body=Markup(html))

    def api_why(request: Request) -> Response:
        trees, _ = _question(request, "why")
        return answer({"version": SHAPE_VERSION, "trees": [render.to_data(t, births=not source.redact) for t in trees]})

    def api_why_not(request: Request) -> Response:
        trees, _ = _question(request, "why-not")
        return answer({"version": SHAPE_VERSION, "trees": [render.to_data(t, births=not source.redact) for t in trees]})

    def _compliance(request: Request):
        from compiler.core.london_tables import to_us
        from engine.compliance import compute, merge_cases, period_bounds
        snap = source.snapshot()
        end = _date(request, "to") or snap.at.astimezone(LONDON).date()
        start = _date(request, "from") or (end.replace(day=1) - timedelta(days=62)).replace(day=1)
        if end < start:
            raise BadRequest("the period ends before it starts")
        cases = tuple(replace(p.case, name=p.name, facts=p.facts) if p.case else None for p in snap.parts)
        facts = snap.parts[0].facts if cases[0] is None else merge_cases(cases)
        with source.lock:
            return compute(source.policy, facts, start, end, min(period_bounds(start, end)[1], snap.at, key=to_us))

    def report_page(request: Request) -> Response:
        from engine.output import report
        c = _compliance(request)
        return _page("report.html", snap=source.snapshot(), c=c, body=Markup(report.body(c, ROW_LIMIT)))

    def api_report(request: Request) -> Response:
        return answer(_compliance(request).to_json())

    def report_css(request: Request) -> Response:
        from engine.output import report
        return Response(report.css(), media_type="text/css")

    async def on_error(request: Request, exc: Exception) -> Response:
        if isinstance(exc, BadRequest):
            status, message = 400, str(exc)
        elif isinstance(exc, ClauseError):
            codes = {d.code for d in exc.diagnostics}
            status = 404 if codes & {"X001", "X003"} else 400 if codes & {"X002"} else 503
            message = render_text(exc.diagnostics)
        elif isinstance(exc, duckdb.OutOfMemoryException):  # past CLAUSE_DUCKDB_MEMORY: F013, as the CLI says it
            status, message = 503, render_text(out_of_memory(MEMORY_LIMIT).diagnostics)
        else:
            raise exc
        if request.url.path.startswith("/api/"):
            return JSONResponse({"version": SHAPE_VERSION, "error": message}, status_code=status)
        return _page("error.html", status=status, message=message, code=status)

    routes = [
        Route("/", home), Route("/child", child_page), Route("/why-not", why_not_page), Route("/report", report_page),
        Route("/api/v1/worklist", api_worklist), Route("/api/v1/child", api_child), Route("/api/v1/why", api_why),
        Route("/api/v1/why-not", api_why_not), Route("/api/v1/report", api_report),
        Route("/static/report.css", report_css),
        Mount("/static", StaticFiles(packages=[("cli.serve", "static")]), name="static"),
    ]
    return Starlette(routes=routes, exception_handlers={BadRequest: on_error, ClauseError: on_error,
                                                        duckdb.OutOfMemoryException: on_error})


def create_app(source: Source, token: str | None) -> Guard:
    return Guard(build_app(source), token)
