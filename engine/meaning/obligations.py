"""Obligation tuples -> occurrences: when each arises, when it is due, and the output order.

Input: the `obligation` tuples the rules derive (child, episode, action, actor, modality,
clause, exception), the clauses (their timing), the episodes and the evaluation time.
Output: every occurrence arisen by then, with its due time; engine/meaning/lifecycle.py
then makes one row per duty and gives each its state. Each rule is written twice, side by
side: in Python (the reference, behind pyDatalog) and as the SQL DuckDB runs over the
derived `obligation` table; tests/test_scale_differential.py holds them to identical answers.

The rules (the README's "Obligations"):
* arising: the `from` moment (default the report) of the episode; none while that moment is
  in the future, or is a return that has not happened; a child-scoped obligation has no times;
* recurring (`every N days until returned`): occurrence k arises k - 1 periods after the
  first, counted on the London calendar (the same wall-clock time across a clock change;
  `every N hours` is real time), while it arises by the evaluation time and before the
  return; at most MAX_OCCURRENCES;
* due: the arising time when `immediately`; `within` after the arising time or after the
  named moment (real time; none while that moment has not happened); for a recurring duty
  without `within`, the next occurrence's arising time (the end of its period); else none
  (a local standard may have set one: `standard`, compiler/policy.py's with_local_standards);
* order: due, arising time (none last), child, episode, action, actor, occurrence, then
  modality, clause, exception;
* honest time: where the moment a duty's arising (due) time counts from is known only by its day
  (facts/moments.py: the report or the return given as a date), `triggered` (`due`) is the earliest
  reading and `triggered_latest` (`due_latest`) the latest: the same offset from the last minute the
  moment can have been (real time). `time` is then "approximate". The state is judged on the earliest
  reading (a duty shows from the first moment it can have arisen, overdue from the first it can be).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Iterable

if TYPE_CHECKING:  # the SQL side needs only a connection handed in: Python-only callers never load DuckDB
    import duckdb

from compiler import ast
from compiler.core import london_tables as london
from compiler.core.london import LONDON, format_instant, utc
from engine.meaning.base_facts import add_minutes, moment_of, returned_by
from facts.model import Episode

_NEVER = datetime.max.replace(tzinfo=timezone.utc)  # sorts after every real time
MAX_OCCURRENCES = 520  # ten years of weekly meetings: an evaluation time decades late cannot exhaust memory
FIELDS = ("child", "episode", "action", "actor", "modality", "triggered", "due", "clause", "clauses", "exception",
          "status", "open_for", "standard")
STRENGTH = ("must", "should", "consider", "good_practice")  # strongest first: one duty, one row keeps the strongest


def precision(triggered_latest: datetime | None, due_latest: datetime | None) -> str:
    """"approximate" when a moment shown depends on a time known only by its day (it has a latest
    reading), else "exact": the one rule for the output's `time` and the explanation's."""
    return "approximate" if triggered_latest is not None or due_latest is not None else "exact"


@dataclass(frozen=True, slots=True)
class Obligation:
    """One duty (one occurrence of a recurring one) and its state at the evaluation time.

    `clauses`: every clause that creates this same duty (`clause` is the first); `open_for`:
    minutes since it arose, while it is open or overdue; `standard`: the local standard that set
    `due` where the procedure sets no time."""

    child: str
    episode: str | None
    action: str
    actor: str
    modality: str
    triggered: datetime | None
    due: datetime | None
    clause: str
    exception: str | None = None
    status: str | None = None
    occurrence: int = 0  # 1, 2, ... for recurring obligations; 0 otherwise
    done_at: datetime | None = None
    clauses: tuple[str, ...] = ()
    open_for: int | None = None
    standard: str | None = None
    triggered_latest: datetime | None = None  # the latest it can have arisen, when its moment is known only by its day
    due_latest: datetime | None = None

    @property
    def time(self) -> str:
        return precision(self.triggered_latest, self.due_latest)

    @property
    def key(self) -> tuple:
        """Identity across evaluations and policy versions (for diff)."""
        return (self.child, self.episode or "", self.action, self.clause, self.occurrence)

    def sort_key(self) -> tuple:
        """Due, then arising time, as real instants (none last), then the names."""
        return (utc(self.due) if self.due else _NEVER, utc(self.triggered) if self.triggered else _NEVER,
                self.child, self.episode or "", self.action, self.actor, self.occurrence,
                self.modality, self.clause, self.exception or "")

    def to_json(self) -> dict:
        out = {
            "child": self.child, "episode": self.episode, "action": self.action, "actor": self.actor,
            "modality": self.modality,
            "triggered": format_instant(self.triggered) if self.triggered else None,
            "due": format_instant(self.due) if self.due else None,
            "clause": self.clause, "clauses": list(self.clauses or (self.clause,)), "exception": self.exception,
            "status": self.status, "open_for": self.open_for, "standard": self.standard,
        }
        if self.occurrence:
            out["occurrence"] = self.occurrence
        if self.time == "approximate":
            out.update(time=self.time, triggered_latest=format_instant(self.triggered_latest) if self.triggered_latest else None,
                       due_latest=format_instant(self.due_latest) if self.due_latest else None)
        return out


# -- arising and recurrence --------------------------------------------------------------

def later(first: datetime, periods: int, every: ast.Duration) -> datetime:
    """`periods` periods after `first`: London calendar days for a period in days (read as
    parse_instant reads a wall time: fold=0), real minutes for one in hours."""
    if periods == 0:
        return first
    if every.unit != "days":
        return add_minutes(first, periods * every.minutes)
    wall = first.astimezone(LONDON).replace(tzinfo=None) + timedelta(minutes=periods * every.minutes)
    return utc(wall.replace(tzinfo=LONDON)).astimezone(LONDON)


def occurrences(timing: ast.Timing, episode: Episode | None,
                at: datetime) -> list[tuple[int, datetime | None, datetime | None]]:
    """(occurrence number, moment arisen, end of its period when it recurs) for every occurrence arisen by `at`."""
    if episode is None:
        return [(0, None, None)]
    start = timing.start or ast.Moment("reported", None, ast.Span(""))
    first = moment_of(episode, start.anchor, start.minutes, at)
    if first is None or utc(first) > utc(at):
        return []
    if timing.every is None:
        return [(0, first, None)]
    back = returned_by(episode, at)
    out: list[tuple[int, datetime | None, datetime | None]] = []
    for k in range(MAX_OCCURRENCES):
        moment = later(first, k, timing.every)
        if utc(moment) > utc(at) or (back is not None and utc(moment) >= utc(back)):
            break
        out.append((k + 1, moment, later(first, k + 1, timing.every)))
    return out


def due_time(timing: ast.Timing, triggered: datetime | None, period_end: datetime | None, episode: Episode | None,
             at: datetime) -> datetime | None:
    """When the occurrence must be done by, where the procedure says (see the module's rules)."""
    if triggered is None:
        return None
    if timing.immediately:
        return triggered
    if timing.due_after is None:
        return period_end
    if timing.due_anchor is not None and episode is not None:
        base = moment_of(episode, timing.due_anchor.anchor, timing.due_anchor.minutes, at)
        return None if base is None else add_minutes(base, timing.due_after.minutes)
    return add_minutes(triggered, timing.due_after.minutes)


def slack(e: Episode | None, anchor: str) -> int:
    """Minutes between the earliest and the latest reading of the episode's report or return (0: exact)."""
    if e is None:
        return 0
    first, last = (e.reported, e.reported_until) if anchor == "reported" else (e.returned, e.returned_until)
    return 0 if first is None or last is None else int((utc(last) - utc(first)).total_seconds()) // 60


def latest(timing: ast.Timing, episode: Episode | None, triggered: datetime | None,
           due: datetime | None) -> tuple[datetime | None, datetime | None]:
    """(triggered_latest, due_latest): each moment's latest reading, None when it is exact (module rules)."""
    if episode is None or triggered is None:
        return None, None
    start = (timing.start or ast.Moment("reported", None, ast.Span(""))).anchor
    due_anchor = timing.due_anchor.anchor if timing.due_anchor is not None and not timing.immediately else start
    s_start, s_due = slack(episode, start), slack(episode, due_anchor)
    return (add_minutes(triggered, s_start) if s_start else None,
            add_minutes(due, s_due) if due is not None and s_due else None)


def arisen(tuples: Iterable[tuple], clauses: dict[str, ast.Clause], episodes: dict[str, Episode],
           at: datetime) -> list[Obligation]:
    """Every occurrence of every derived obligation tuple arisen by `at`, with its due time."""
    out = []
    for child, episode_id, action, actor, modality, clause_id, exception in tuples:
        episode = episodes.get(episode_id) if episode_id else None
        timing = clauses[clause_id].obligation(action).timing
        for number, moment, end in occurrences(timing, episode, at):
            due = due_time(timing, moment, end, episode, at)
            t_last, d_last = latest(timing, episode, moment, due)
            out.append(Obligation(child, episode_id or None, action, actor, modality, moment, due, clause_id,
                                  exception or None, occurrence=number, standard=timing.standard if due else None,
                                  triggered_latest=t_last, due_latest=d_last))
    return out


# -- the same in SQL ---------------------------------------------------------------------

def _sql(value: object) -> str:
    from compiler.sql import literal  # here, not above: pyDatalog's path (one case, cold) never loads the SQL translator
    return "NULL" if value is None else ("true" if value is True else "false" if value is False else literal(value))


def timing_rows(clauses: dict[str, ast.Clause]) -> list[tuple]:
    """(clause, action, start anchor, start minutes, every minutes, every in days, immediately, within minutes,
    due anchor, due anchor minutes, until returned, local standard) for every obligation a clause creates."""
    rows, seen = [], set()
    for cid in sorted(clauses):
        for c in clauses[cid].then:
            if isinstance(c, ast.Obligation) and (cid, c.action.value) not in seen:
                seen.add((cid, c.action.value))
                t = c.timing
                start = t.start or ast.Moment("reported", None, ast.Span(""))
                rows.append((cid, c.action.value, start.anchor, start.minutes,
                             t.every.minutes if t.every else None, bool(t.every and t.every.unit == "days"),
                             t.immediately, t.due_after.minutes if t.due_after else None,
                             t.due_anchor.anchor if t.due_anchor else None,
                             t.due_anchor.minutes if t.due_anchor else None, t.until_returned, t.standard))
    return rows


def build_heads(con: duckdb.DuckDBPyConnection, clauses: dict[str, ast.Clause]) -> None:
    """heads: one row per obligation head the program can give (action/actor/modality/clause/exception,
    numbered by compiler/sql.py: `obligation_heads`), with its timing, its modality's strength, and ranks
    of the names so the big sort compares integers. The numbers are the program's, so every chunk of a
    chunked evaluation shares them."""
    con.execute("""CREATE OR REPLACE TABLE timing (clause VARCHAR, action VARCHAR, start_anchor VARCHAR,
                   start_min BIGINT, every_min BIGINT, every_days BOOLEAN, immediately BOOLEAN, due_min BIGINT,
                   due_anchor VARCHAR, due_anchor_min BIGINT, until_ret BOOLEAN, standard VARCHAR)""")
    rows = timing_rows(clauses)
    if rows:
        con.execute("INSERT INTO timing VALUES " + ", ".join("(" + ", ".join(map(_sql, r)) + ")" for r in rows))
    strength = "CASE modality " + " ".join(f"WHEN '{m}' THEN {i}" for i, m in enumerate(STRENGTH)) + f" ELSE {len(STRENGTH)} END"
    from compiler.sql import HEADS  # here: the pyDatalog path imports this module, and needs no SQL
    con.execute(f"""CREATE OR REPLACE TABLE heads AS
        SELECT hid, dense_rank() OVER (ORDER BY action, actor) AS r1,
               dense_rank() OVER (ORDER BY modality, clause, exception) AS r2, {strength} AS strength,
               * EXCLUDE (hid)
        FROM (SELECT hid, c2 AS action, c3 AS actor, c4 AS modality, c5 AS clause, c6 AS exception
              FROM {HEADS}) JOIN timing USING (clause, action)""")


HEAD_NAMES = ("action", "actor", "modality", "clause", "exception", "standard")  # the heads' text columns
HEAD_TEXTS = f"SELECT unnest([{', '.join(HEAD_NAMES)}]) AS t FROM heads"  # every text of every head, a row each


def heads_as_enum(con: duckdb.DuckDBPyConnection) -> None:
    """The heads' text columns as one ENUM type (`head_text`) once the rules are done: the output's sort
    carries a small code per name on every row where it carried the text (the UK year's CSV: about 1 CPU s
    of 7), and an ENUM reads, compares and concatenates as its text, so no reader changes."""
    con.execute("DROP TYPE IF EXISTS head_text")
    con.execute(f"CREATE TYPE head_text AS ENUM (SELECT DISTINCT t FROM ({HEAD_TEXTS}) WHERE t IS NOT NULL ORDER BY t)")
    con.execute(f"""CREATE OR REPLACE TABLE heads AS SELECT * REPLACE
                    ({', '.join(f'{c}::head_text AS {c}' for c in HEAD_NAMES)}) FROM heads""")


def _later(first: str, periods: str, h: str = "h") -> str:
    """SQL for `later`: `periods` periods after the instant `first` (us)."""
    step = f"({periods}) * {h}.every_min * {london.MINUTE_US}"
    return (f"CASE WHEN ({periods}) = 0 THEN {first} WHEN {h}.every_days THEN london_local(london_wall({first}) + {step}) "
            f"ELSE {first} + {step} END")


def _slack(anchor: str) -> str:
    """SQL for `slack`: minutes between the earliest and latest reading of the report or return (us in SQL)."""
    return (f"coalesce(CASE WHEN {anchor} = 'reported' THEN e.rep_until - e.rep ELSE e.ret_until - e.ret END, 0) "
            f"// {london.MINUTE_US}")


LATEST_SQL = (f"CASE WHEN triggered IS NOT NULL AND s_start > 0 THEN triggered + s_start * {london.MINUTE_US} END "
              f"AS triggered_latest, CASE WHEN due IS NOT NULL AND s_due > 0 THEN due + s_due * {london.MINUTE_US} END "
              "AS due_latest")


def build_arisen(con: duckdb.DuckDBPyConnection) -> None:
    """arisen(child, episode, hid, occurrence, triggered, due, at_us, back, action, recurs): `arisen()` for every
    obligation (the numbered rows, compiler/sql.py), each child judged as at its `judged_at` time; `back`: the
    return, when it has happened and the duty ends on it (lifecycle.py); `recurs`: whether it is an occurrence
    of a recurring duty."""
    from compiler.sql import ROWS
    m = london.MINUTE_US
    moment = lambda anchor, minutes: (f"CASE WHEN h.{anchor} = 'reported' THEN e.rep + h.{minutes} * {m} "  # noqa: E731
                                      f"WHEN e.ret <= a.at_us THEN e.ret + h.{minutes} * {m} END")
    ob = f"""
        SELECT o.c0 AS child, o.c1 AS episode, h.hid, e.id IS NOT NULL AS has_ep,
               CASE WHEN e.ret <= a.at_us THEN e.ret END AS ret, a.at_us, h.every_min, h.every_days, h.immediately,
               h.due_min, h.due_anchor IS NOT NULL AS anchored, h.action, h.every_min IS NOT NULL AS recurs,
               CASE WHEN h.until_ret AND e.ret <= a.at_us THEN e.ret END AS back,
               CASE WHEN e.id IS NOT NULL THEN {moment('start_anchor', 'start_min')} END AS first,
               CASE WHEN e.id IS NOT NULL AND h.due_anchor IS NOT NULL
                    THEN {moment('due_anchor', 'due_anchor_min')} + h.due_min * {m} END AS anchored_due,
               {_slack('h.start_anchor')} AS s_start,
               {_slack("CASE WHEN h.due_anchor IS NOT NULL AND NOT h.immediately THEN h.due_anchor ELSE h.start_anchor END")}
                    AS s_due
        FROM {ROWS} o JOIN heads h ON h.hid = o.c2 AND h.every_min IS {{}} NULL
        JOIN judged_at a ON a.child = o.c0
        LEFT JOIN in_episodes e ON e.id = o.c1"""
    # a generous count of periods by the clock (offsets differ by an hour at most), then the exact test
    periods = f"(london_wall(at_us) - london_wall(first)) // (every_min * {m}) + 2"
    once_due = (f"CASE WHEN first IS NULL OR immediately THEN first WHEN due_min IS NULL THEN NULL "
                f"WHEN anchored THEN anchored_due ELSE first + due_min * {m} END")
    every_due = f"CASE WHEN immediately THEN t WHEN due_min IS NULL THEN t_end ELSE t + due_min * {m} END"
    con.execute(f"""CREATE OR REPLACE TABLE arisen AS SELECT *, {LATEST_SQL} FROM (
        SELECT child, episode, hid, 0 AS occurrence, first AS triggered, {once_due} AS due, at_us, back, action, recurs,
               s_start, s_due
        FROM ({ob.format('')}) WHERE NOT has_ep OR first <= at_us)""")
    con.execute(f"""INSERT INTO arisen SELECT *, {LATEST_SQL} FROM (
        SELECT child, episode, hid, k + 1 AS occurrence, t AS triggered, {every_due} AS due, at_us, back, action,
               recurs, s_start, s_due FROM (
            SELECT s.*, {_later('s.first', 's.k', 's')} AS t, {_later('s.first', 's.k + 1', 's')} AS t_end FROM (
                SELECT *, unnest(range(least({MAX_OCCURRENCES}, {periods}))) AS k
                FROM ({ob.format('NOT')}) WHERE has_ep AND first <= at_us) s)
        WHERE t <= at_us AND (ret IS NULL OR t < ret))""")
