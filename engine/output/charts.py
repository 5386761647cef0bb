"""Charts for the compliance report, as SVG text drawn by matplotlib (offline, no pyplot state).

Input: a `Compliance` value. Output: SVG documents (str). Invariants: the same input gives
the same bytes (fixed hash salt, no date in the metadata); readable in greyscale (each state
has its own grey and hatching, not a colour alone); sized for an A4 page (17 cm wide).
"""
from __future__ import annotations

import io

import matplotlib
from matplotlib.figure import Figure

from engine.compliance import Compliance

matplotlib.rcParams.update({"svg.hashsalt": "clause", "svg.fonttype": "none", "font.size": 8,
                            "font.family": "DejaVu Sans", "axes.spines.top": False, "axes.spines.right": False})

WIDTH_IN = 6.7  # 17 cm: the text width of an A4 page with 2 cm margins
_GREYS = ("#1a1a1a", "#6e6e6e", "#a8a8a8", "#d9d9d9", "#ffffff", "#4a4a4a")
_HATCH = ("", "///", "", "...", "xx", "\\\\")


def _style(states: tuple[str, ...]) -> dict[str, tuple[str, str]]:
    """A fill and hatching per state: overdue darkest, so it reads first on paper."""
    order = sorted(states, key=lambda s: (s != "overdue", states.index(s)))
    return {s: (_GREYS[i % len(_GREYS)], _HATCH[i % len(_HATCH)]) for i, s in enumerate(order)}


def _svg(fig: Figure) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": "clause report"}, bbox_inches="tight")
    return buf.getvalue()


def monthly_trend(c: Compliance) -> str:
    """Duties arisen per month, stacked by their state as at the evaluation time."""
    fig = Figure(figsize=(WIDTH_IN, 2.6))
    ax = fig.add_subplot()
    months = [m for m, _ in c.months]
    style, bottom = _style(c.states), [0] * len(months)
    for s in c.states:
        values = [counts[s] for _, counts in c.months]
        fill, hatch = style[s]
        ax.bar(months, values, bottom=bottom, label=s.replace("_", " "), color=fill, hatch=hatch,
               edgecolor="#000000", linewidth=0.5)
        bottom = [b + v for b, v in zip(bottom, values)]
    ax.set_ylabel("duties arisen")
    ax.set_title("Duties arisen each month, by state", loc="left")
    ax.legend(ncols=len(c.states), loc="upper left", bbox_to_anchor=(0, -0.12), frameon=False)
    return _svg(fig)


def action_rates(c: Compliance, top: int = 12) -> str:
    """The share of each state for the actions with most duties (horizontal, 100% bars)."""
    tallies = sorted(c.by("action"), key=lambda t: (-t.arisen, t.action))[:top][::-1]
    fig = Figure(figsize=(WIDTH_IN, 0.28 * max(len(tallies), 1) + 1.0))
    ax = fig.add_subplot()
    labels = [f"{t.action.replace('_', ' ')} ({t.arisen})" for t in tallies]
    style, left = _style(c.states), [0.0] * len(tallies)
    for s in c.states:
        values = [100 * (t.rate(s) or 0) for t in tallies]
        fill, hatch = style[s]
        ax.barh(labels, values, left=left, label=s.replace("_", " "), color=fill, hatch=hatch,
                edgecolor="#000000", linewidth=0.5)
        left = [a + v for a, v in zip(left, values)]
    ax.set_xlim(0, 100)
    ax.set_xlabel("% of the action's duties")
    ax.set_title(f"State of duties, the {len(tallies)} most frequent actions (duties in brackets)", loc="left")
    ax.legend(ncols=len(c.states), loc="upper left", bbox_to_anchor=(0, -0.25 if len(tallies) < 6 else -0.08),
              frameon=False)
    return _svg(fig)
