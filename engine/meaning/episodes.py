"""The episode list as at a time: which episodes exist, whether each has returned, their order.

Python and SQL side by side: every back-end, the explanations and the batch merge read
these and nothing else.

Input: a `FactSet` (Python) or the `in_episodes` and `judged_at(child, at_us, track)`
tables (SQL, times as us), and the evaluation time. Output: the existing episodes in
listing order; whether an episode's return has happened. Invariants:
* an episode exists once it has been reported: reported <= at, compared as instants
  (UTC), never by the London wall clock, so in the repeated autumn hour an episode
  reported 01:30 BST exists at 01:10 GMT (40 minutes later in real time);
* a return counts once it has happened: returned <= at, as instants;
* the listing order is child, report instant, episode id;
* an episode's category (risk) is the least (value, clause) derived for it.
"""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Iterable

if TYPE_CHECKING:  # the SQL side needs only a connection handed in: Python-only callers never load DuckDB
    import duckdb

from compiler.core.london import utc
from facts.model import Episode, FactSet


# ---- existence: reported by the evaluation time ----

def exists(e: Episode, at: datetime) -> bool:
    return utc(e.reported) <= utc(at)


EXISTS_SQL = "e.rep <= a.at_us"  # over in_episodes `e` joined to judged_at `a` on the child


# ---- the return: happened by the evaluation time ----

def returned_by(e: Episode, at: datetime) -> datetime | None:
    """The return time when the child has returned by `at`, else None."""
    return e.returned if e.returned is not None and utc(e.returned) <= utc(at) else None


RETURNED_SQL = "(e.ret IS NOT NULL AND e.ret <= a.at_us)"


# ---- order: child, report instant, id ----

def order_key(e: Episode) -> tuple[str, datetime, str]:
    return (e.child, utc(e.reported), e.id)


ORDER_SQL = "e.child, e.rep, e.id"


# ---- the list ----

def listed(facts: FactSet, at: datetime) -> list[Episode]:
    """The episodes that exist as at `at`, in listing order."""
    return sorted((e for e in facts.episodes if exists(e, at)), key=order_key)


def first_derived(rows: Iterable[tuple]) -> dict[str, tuple[str, str]]:
    """(episode, value, clause) tuples (category_by, risk_by) -> each episode's value and the clause that
    derived it: the least (value, clause), as `build_episode_facts` picks in SQL."""
    out: dict[str, tuple[str, str]] = {}
    for episode, value, clause in rows:
        if episode not in out or (value, clause) < out[episode]:
            out[episode] = (value, clause)
    return out


def build_visible(con: duckdb.DuckDBPyConnection) -> None:
    """vis: the existing episodes with `at_us` (the child's evaluation time) and `back` (returned by then)."""
    con.execute(f"""CREATE OR REPLACE TABLE vis AS SELECT e.*, a.at_us, {RETURNED_SQL} AS back
                    FROM in_episodes e JOIN judged_at a ON a.child = e.child WHERE {EXISTS_SQL}""")


def build_episode_facts(con: duckdb.DuckDBPyConnection) -> None:
    """episode_facts(ord, id, child, category, category_clause, risk, risk_clause): the list with each
    episode's derived category and risk (the least by value, then clause, as `first_derived`)."""
    first = lambda t: (f"(SELECT c0, c1, c2 FROM (SELECT *, row_number() OVER (PARTITION BY c0 ORDER BY c1, c2) AS rn "  # noqa: E731
                       f"FROM {t}) WHERE rn = 1)")
    con.execute(f"""CREATE OR REPLACE TABLE episode_facts AS
        SELECT row_number() OVER (ORDER BY {ORDER_SQL}) AS ord, e.id, e.child,
               k.c1 AS category, k.c2 AS category_clause, r.c1 AS risk, r.c2 AS risk_clause
        FROM in_episodes e JOIN judged_at a ON a.child = e.child
        LEFT JOIN {first('category_by')} k ON k.c0 = e.ek LEFT JOIN {first('risk_by')} r ON r.c0 = e.ek
        WHERE {EXISTS_SQL}""")
