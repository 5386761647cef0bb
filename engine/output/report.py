"""The compliance report as HTML (one printable page, charts inside), CSV or JSON.

Input: a `Compliance` value (engine/compliance.py). Output: strings. Rendering only:
every figure comes from the value; HTML goes through Jinja2 with autoescaping, so no
id, name or note from the facts can become markup; the page needs no network.
"""
from __future__ import annotations

import base64
import csv
import io
import json
from importlib.resources import files

from jinja2 import Environment, PackageLoader, select_autoescape

from engine.compliance import Compliance, Tally
from engine.output import charts
from engine.output.columns import csv_text

_env = Environment(loader=PackageLoader("engine.output", "templates"), autoescape=select_autoescape(default=True),
                   trim_blocks=True, lstrip_blocks=True)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


_env.filters["pct"] = _pct
_env.filters["label"] = lambda name: str(name).replace("_", " ")
_env.filters["when"] = lambda moment: moment.strftime("%a %d %b %Y %H:%M")


def css() -> str:
    """The report's style sheet (inlined in the standalone page; served as a file by `clause serve`)."""
    return files("engine.output").joinpath("templates/report.css").read_text(encoding="utf-8")


def _data_uri(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


OVERDUE_ROWS = 1000  # the HTML lists the oldest overdue duties (a national year has hundreds of thousands); JSON all


def body(c: Compliance, overdue_limit: int | None = OVERDUE_ROWS) -> str:
    """The report without a page around it (for `clause serve`'s layout)."""
    rows = c.overdue if overdue_limit is None else c.overdue[:overdue_limit]
    return _env.get_template("report_body.html").render(
        c=c, total=c.total(), by_action=c.by("action"), by_actor=c.by("actor"), overdue=rows,
        trend=_data_uri(charts.monthly_trend(c)), rates=_data_uri(charts.action_rates(c)))


def as_html(c: Compliance) -> str:
    return _env.get_template("report.html").render(c=c, body=body(c), css=css())


def as_json(c: Compliance) -> str:
    return json.dumps(c.to_json(), indent=2, ensure_ascii=False) + "\n"


def as_csv(c: Compliance) -> str:
    """One row per action, clause and actor: duties arisen, per-state counts and rates; a total row last."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(("from", "to", "action", "clause", "actor", "arisen", *c.states, *(f"{s}_rate" for s in c.states)))

    def row(t: Tally, action: str, clause: str, actor: str) -> None:
        rates = ("" if t.rate(s) is None else f"{t.rate(s):.4f}" for s in c.states)
        w.writerow((c.start.isoformat(), c.end.isoformat(), *map(csv_text, (action, clause, actor)), t.arisen,
                    *(t.counts[s] for s in c.states), *rates))
    for t in c.tallies:
        row(t, t.action, t.clause, t.actor)
    row(c.total(), "(all)", "(all)", "(all)")
    return buf.getvalue()


FORMATS = {"html": as_html, "json": as_json, "csv": as_csv}
