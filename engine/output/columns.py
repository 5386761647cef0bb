"""The output's one definition: the table's columns and the obligation fields of JSON and CSV,
each cell with its Python formatting (an `Obligation` -> text or value) and its SQL formatting
(over the columns of DuckDB's `occ`, `heads` and the ids' names, by name: engine/meaning/lifecycle.py `NAMED`) side by side.

Input: an `Obligation`, or the names of SQL columns. Output: cell text and values, and the
heading line. engine/output/render.py writes Python objects with the `python` side,
engine/output/stream.py writes DuckDB rows with the `sql` side. Invariants: both sides give
the same text for the same obligation (tests/test_scale_io.py compares the outputs byte for
byte); times show on the London clock: the table as `Sat 02 Mar 2024 17:30`, JSON and CSV as
`format_instant` (seconds when not zero, the offset in the repeated autumn hour); ids from the
facts show their control characters escaped in the table (`visible`) and never start a CSV cell
with a formula character (`csv_text`).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Callable, Iterable

from compiler.codegen import NO_EPISODE_KEY
from compiler.core.diagnostics import printable
from compiler.core.london import format_instant
from engine.meaning.lifecycle import span_words
from engine.meaning.obligations import HEAD_NAMES, Obligation

WHEN = "%a %d %b %Y %H:%M"


@dataclass(frozen=True)
class Column:
    name: str
    python: Callable[[Obligation], object]
    sql: str


# ---- times ----

def when(moment: datetime | None) -> str:
    """A moment as the table shows it ('-' for none); the moment is a London time."""
    return moment.strftime(WHEN) if moment else "-"


def when_sql(wall: str) -> str:
    """SQL: `when` of a London clock time in us (NULL -> '-')."""
    return f"coalesce(strftime(make_timestamp({wall}), '{WHEN}'), '-')"


def iso(moment: datetime | None) -> str | None:
    return format_instant(moment) if moment else None


def iso_sql(expr: str, wall: str) -> str:
    """SQL: `iso` of an instant in us, given its London clock time (NULL stays NULL): seconds when
    not zero, and the offset when the clock time would read back as another instant (the second
    01:xx of an autumn clock change). The whole is under `CASE WHEN expr IS NOT NULL`: DuckDB then
    computes it only for the rows that have the instant (most obligations have no latest reading, and
    `wall` may be a london_wall call written six times here). Reading the clock time back (london_local)
    costs more than the rest together, so it is done only for a time of day that can be read twice."""
    offset = f"({wall} - {expr})"
    return (f"CASE WHEN {expr} IS NOT NULL THEN "
            f"strftime(make_timestamp({wall}), '%Y-%m-%dT%H:%M') || CASE WHEN floor_div({wall}, 1000000) % 60 <> 0 "
            f"THEN strftime(make_timestamp({wall}), ':%S') ELSE '' END || CASE WHEN london_maybe_repeated({wall}) THEN "
            f"CASE WHEN london_local({wall}) <> {expr} "
            f"THEN (CASE WHEN {offset} < 0 THEN '-' ELSE '+' END) || lpad((abs({offset}) // 3600000000)::VARCHAR, 2, '0') "
            f"|| ':' || lpad((abs({offset}) // 60000000 % 60)::VARCHAR, 2, '0') ELSE '' END ELSE '' END END")


# ---- text from the facts, made harmless where it lands ----

# Control characters (C0, DEL, C1: a terminal obeys them, e.g. ESC ] 0 ; sets the window title, ESC [ 2 J
# clears the screen) and the bidirectional overrides (which reorder what is shown): written as \xNN or
# \uNNNN in the table, so an id is shown, never obeyed. The same set for Python's re and DuckDB's RE2.
CONTROL_RE2 = r"[\x00-\x1f\x7f-\x9f\x{200e}\x{200f}\x{202a}-\x{202e}\x{2066}-\x{2069}]"


def visible(text: str) -> str:
    """`text` with each control or bidirectional-override character written as `\\x1b` or `\\u202e`
    (compiler/core/diagnostics.py `printable`, which diagnostics and `why` text use too)."""
    return printable(text)


def visible_sql(expr: str) -> str:
    """SQL: `visible` of a text (code point by code point only when it holds such a character)."""
    char = r"CASE WHEN ord(c) < 256 THEN '\x' || lpad(lower(hex(ord(c))), 2, '0') ELSE '\u' || lpad(lower(hex(ord(c))), 4, '0') END"
    return (f"CASE WHEN regexp_matches({expr}, '{CONTROL_RE2}') THEN array_to_string(list_transform("
            f"string_split({expr}, ''), lambda c: CASE WHEN regexp_matches(c, '{CONTROL_RE2}') THEN {char} "
            f"ELSE c END), '') ELSE {expr} END")


# A CSV cell a spreadsheet would take for a formula (OWASP's CSV injection guidance: = + - @, a tab or a
# carriage return first) starts with a single quote, so it is shown as the text it is.
FORMULA = ("=", "+", "-", "@", "\t", "\r")
FORMULA_SQL = "^[=+\\-@\\t\\r]"  # RE2: a text starting with a FORMULA character


def csv_text(value: object) -> object:
    """A CSV cell's value, a leading formula character neutralised (numbers and None as they are)."""
    return "'" + value if isinstance(value, str) and value[:1] in FORMULA else value


def csv_line(cells) -> str:
    """One CSV row as csv.writer writes it (minimal quoting, lines ending in \\n), except that a cell with a
    carriage return is quoted too (csv.writer leaves it bare, and readers then see a line break)."""
    return ",".join('"' + t.replace('"', '""') + '"' if any(ch in (t := str(c)) for ch in ',"\r\n') else t
                    for c in cells) + "\n"


def csv_text_sql(expr: str) -> str:
    """SQL: `csv_text` of a text (NULL stays NULL)."""
    return f"CASE WHEN regexp_matches({expr}, '{FORMULA_SQL}') THEN '''' || {expr} ELSE {expr} END"


def span_of(first: datetime | None, last: datetime | None) -> str:
    """The table's range of an approximate moment: '-23:59' (the same London date) or '-Sun 09 Jun 2024 00:30'."""
    if first is None or last is None:
        return ""
    return "-" + (last.strftime("%H:%M") if first.date() == last.date() else last.strftime(WHEN))


def span_sql(first_wall: str, last: str) -> str:
    """SQL: `span_of`, given the first moment's London clock time and the last moment as an instant (us)."""
    lw = f"london_wall({last})"
    return (f"CASE WHEN {last} IS NULL OR {first_wall} IS NULL THEN '' WHEN floor_div({first_wall}, 86400000000) = "
            f"floor_div({lw}, 86400000000) THEN '-' || strftime(make_timestamp({lw}), '%H:%M') "
            f"ELSE '-' || strftime(make_timestamp({lw}), '{WHEN}') END")


# ---- the table ----

def _status(o: Obligation) -> str:
    if o.status == "overdue":
        return "OVERDUE"
    if o.status == "open" and o.open_for is not None:
        return "open " + span_words(o.open_for)
    return o.status or ""


TABLE = (
    Column("due", lambda o: when(o.due) + span_of(o.due, o.due_latest) + (f" ({o.standard})" if o.standard else ""),
           when_sql("due_wall") + " || " + span_sql("due_wall", "due_latest")
           + " || CASE WHEN due IS NOT NULL AND standard IS NOT NULL THEN ' (' || standard || ')' ELSE '' END"),
    Column("status", _status, "CASE WHEN status = 'overdue' THEN 'OVERDUE' WHEN status = 'open' AND open_for "
           "IS NOT NULL THEN 'open ' || span_words(open_for) ELSE coalesce(status, '') END"),
    Column("child", lambda o: visible(o.child), visible_sql("shown")),
    Column("episode", lambda o: visible(o.episode or "-"), visible_sql(f"CASE WHEN episode = {NO_EPISODE_KEY} THEN '-' ELSE shown_episode END")),
    Column("action", lambda o: o.action + (f" #{o.occurrence}" if o.occurrence else ""),
           "action || CASE WHEN occurrence > 0 THEN ' #' || occurrence ELSE '' END"),
    Column("actor", lambda o: o.actor, "actor"),
    Column("modality", lambda o: o.modality, "modality"),
    Column("triggered", lambda o: when(o.triggered) + span_of(o.triggered, o.triggered_latest),
           when_sql("triggered_wall") + " || " + span_sql("triggered_wall", "triggered_latest")),
    Column("clause", lambda o: o.clause + (f" (via {o.exception})" if o.exception else "")
           + "".join(", " + c for c in o.clauses[1:]),
           "clause || CASE WHEN exception <> '' THEN ' (via ' || exception || ')' ELSE '' END"
           " || CASE WHEN contains(clauses, ';') THEN ', ' || replace(substr(clauses, strpos(clauses, ';') + 1), "
           "';', ', ') ELSE '' END"),
)
HEADERS = tuple(c.name for c in TABLE)


# ---- JSON and CSV: the obligation's fields (engine.meaning.obligations.FIELDS, in order), then its occurrence ----

DATA = (
    Column("child", lambda o: o.child, "shown"),
    Column("episode", lambda o: o.episode, f"CASE WHEN episode = {NO_EPISODE_KEY} THEN NULL ELSE shown_episode END"),
    Column("action", lambda o: o.action, "action"),
    Column("actor", lambda o: o.actor, "actor"),
    Column("modality", lambda o: o.modality, "modality"),
    Column("triggered", lambda o: iso(o.triggered), iso_sql("triggered", "triggered_wall")),
    Column("due", lambda o: iso(o.due), iso_sql("due", "due_wall")),
    Column("clause", lambda o: o.clause, "clause"),
    # every clause that gives the duty: a list in JSON, `;`-separated in CSV and in SQL
    Column("clauses", lambda o: list(o.clauses or (o.clause,)), "coalesce(clauses, clause)"),
    Column("exception", lambda o: o.exception, "CASE WHEN exception = '' THEN NULL ELSE exception END"),
    Column("status", lambda o: o.status, "status"),
    Column("open_for", lambda o: o.open_for, "open_for"),
    Column("standard", lambda o: o.standard, "CASE WHEN due IS NOT NULL THEN standard END"),
)
LISTS = frozenset({"clauses"})  # cells SQL gives `;`-separated and JSON shows as lists
# DATA's text cells that are ours, never the facts' or the policy's: times (a year's digits first) and states;
# none starts with a formula character, so SQL writes them without `csv_text_sql`'s test (APPROX's are ours too)
PLAIN = frozenset({"triggered", "due", "status"})
# DATA's text cells that are the policy's (a head's names and standard; `clauses` joins clause ids): the
# same few texts on millions of rows, so SQL tests the heads once (`FORMULA_SQL` over `heads`) and
# writes these cells without the test when no head's text needs it
HEAD_TEXT = frozenset({*HEAD_NAMES, "clauses"})
# DATA's cells that are the facts' ids (or their pseudonyms): a few hundred thousand texts on millions of rows,
# so SQL tests the ids' names once (engine/meaning/lifecycle.py NAMED) and writes these without the test when
# no id needs it
ID_TEXT = frozenset({"child", "episode"})
NUMBERS = frozenset({"open_for"})  # cells that are numbers, never text
OCCURRENCE = Column("occurrence", lambda o: o.occurrence, "occurrence")  # 0: not recurring (left out)
# honest time (engine/meaning/obligations.py): whether a moment depends on a time known only by its day,
# and the latest readings; in JSON only when approximate (like `occurrence`), in CSV always
APPROX = (
    Column("time", lambda o: o.time, "CASE WHEN triggered_latest IS NOT NULL OR due_latest IS NOT NULL "
           "THEN 'approximate' ELSE 'exact' END"),
    Column("triggered_latest", lambda o: iso(o.triggered_latest),
           iso_sql("triggered_latest", "london_wall(triggered_latest)")),
    Column("due_latest", lambda o: iso(o.due_latest), iso_sql("due_latest", "london_wall(due_latest)")),
)
CSV_HEADER = ("case", *(c.name for c in DATA), OCCURRENCE.name, *(c.name for c in APPROX))


def data(o: Obligation) -> dict:
    """An obligation as JSON shows it: every field, `occurrence` when it recurs, `time` and the latest
    readings when a moment is approximate."""
    out = {c.name: c.python(o) for c in DATA}
    if o.occurrence:
        out["occurrence"] = o.occurrence
    if o.time == "approximate":
        out.update({c.name: c.python(o) for c in APPROX})
    return out


def csv_row(name: str, o: Obligation) -> tuple:
    """An obligation as a CSV row: the case, every field (none as empty), the occurrence (0 as empty), time;
    text that would read as a formula made plain (`csv_text`)."""
    return (csv_text(name), *("" if (v := c.python(o)) is None else csv_text(";".join(v) if isinstance(v, list) else v)
                              for c in DATA), o.occurrence or "", *("" if (v := c.python(o)) is None else csv_text(v) for c in APPROX))


# ---- the heading of a run ----

# Beyond this many episodes the heading counts them rather than list them (a bulk folder's would fill a screen)
HEADING_EPISODES = 12


def heading(name: str, at: datetime, count: int, episodes: Iterable | int) -> str:
    """'NAME: as at TIME - N obligations; episodes: E1 missing, risk high, ...' (no newline); beyond
    HEADING_EPISODES episodes (or given only their number), '; 576 episodes (--format json lists them)'."""
    episodes = episodes if isinstance(episodes, int) else list(episodes)
    head = f"{visible(name)}: as at {when(at)} - {count} obligation{'s' * (count != 1)}"
    if isinstance(episodes, int) or len(episodes) > HEADING_EPISODES:
        n = episodes if isinstance(episodes, int) else len(episodes)
        return head + f"; {n} episodes (--format json lists them)"
    ep = ", ".join(f"{visible(e.id)} {e.category or '?'}{', risk ' + e.risk if e.risk else ''}" for e in episodes)
    return head + (f"; episodes: {ep}" if ep else "")
