"""The DuckDB back-end: the same Datalog program, run set-at-a-time as SQL.

Input: a `CompiledPolicy`, facts (a `FactSet`, or a bulk CSV folder read directly) and the
evaluation time. Output: a `DuckEvaluation` with the same obligations (every field, in the
same order) and episode categories and risks as `engine.evaluation` (pyDatalog), which stays
the reference and the engine behind explanations. Steps, all inside DuckDB:
facts -> in_* tables (duck_load), each id given its integer key (`intern_ids`) -> base predicates as at
the time over keys (engine/meaning/base_facts.py, reading the in_* tables with keys in place of ids)
-> the program's rules translated by compiler/sql.py, stratum by stratum -> obligations with
timing, occurrences and state (engine/meaning/obligations.py, lifecycle.py); the episode list is
engine/meaning/episodes.py's.

Invariants: nothing from a policy or the facts is spliced into SQL except as a quoted
literal (compiler/sql.py) or a number; one in-memory database per evaluation (`DB`), closed
with the evaluation; results stream in batches (`rows`, `iter_obligations`) so a
national year never has to be held as Python objects.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Callable, Iterable, Iterator, Mapping

import fcntl
import os
import shutil
import tempfile
import weakref
from concurrent.futures import ThreadPoolExecutor

import duckdb

from compiler.policy import CompiledPolicy
from compiler.sql import HEADS, ROWS, SqlProgram, translate
from compiler.core import london_tables as london
from engine.meaning.base_facts import build_base, london_sql
from engine.backends.duck_load import SCRATCH, create_tz, intern_ids, keyed, load_factset, load_folder
from engine.meaning.episodes import build_episode_facts
from engine.meaning.lifecycle import RESULT, build_duties, gather
from engine.evaluation import EpisodeFacts
from engine.meaning.obligations import Obligation, build_arisen, build_heads, heads_as_enum
from facts import limits
from facts.bulk import load_bulk
from facts.extracts import Extract, read_extract
from engine.backends.duck_extract import load_extract_sql
from facts.collect import unknown_action, unknown_actions
from facts.model import FactSet
from compiler.core.diagnostics import ClauseError, Span
from compiler.core.london import LONDON

_translated: dict[int, tuple[object, SqlProgram]] = {}
BATCH = 20_000


def sql_program(policy: CompiledPolicy) -> SqlProgram:
    """The policy's program as SQL, translated once per program object."""
    hit = _translated.get(id(policy.program))
    if hit is None or hit[0] is not policy.program:
        hit = (policy.program, translate(policy.program))
        _translated[id(policy.program)] = hit
    return hit[1]


# Every table lives in an in-memory database attached with compression (`evaluate_duck`): a checkpoint
# compresses what is in it, which a chunked evaluation does to its input before the chunks run
DB = "clause"


def cursor(con: duckdb.DuckDBPyConnection, db: str | None = None) -> duckdb.DuckDBPyConnection:
    """A cursor of `con` in `con`'s database, or `db` (a cursor starts in the default one, not `DB`). Threads
    sharing `con` name `db`, asked of `con` once: a connection is not to be used by two threads at once."""
    db = db or con.execute("SELECT current_database()").fetchone()[0]
    cur = con.cursor()
    cur.execute('USE "' + db.replace('"', '""') + '"')
    return cur


def run_rules(con: duckdb.DuckDBPyConnection, sql: SqlProgram, workers: int = 1) -> None:
    """Create the derived tables and fill them, stratum by stratum (recursive ones to a fixpoint).
    A stratum's statements are independent, so `workers` threads run them at once, each on its
    own cursor: DuckDB plans a query on the calling thread, and planning is much of the work.
    A stratum's recursive statements may feed each other (a cycle through several predicates),
    so they are run in turn, all of them, until a whole round adds no row."""
    for create in sql.create_statements():
        con.execute(create)
    db = con.execute("SELECT current_database()").fetchone()[0]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for stratum in sql.strata:
            once = sorted((s for s in stratum if not s.repeat), key=lambda s: -len(s.sql))  # longest first
            list(pool.map(lambda s: cursor(con, db).execute(s.sql).close(), once))
            recursive = [s for s in stratum if s.repeat]
            while recursive and sum([con.execute(s.sql).fetchone()[0] for s in recursive]):
                pass


def _when(us: int | None) -> datetime | None:
    return None if us is None else london.from_us(us)


@dataclass
class DuckEvaluation:
    """Results held in DuckDB; `obligations` and `episodes` as engine.evaluation gives them."""

    at: datetime
    con: duckdb.DuckDBPyConnection = field(repr=False)
    count: int = 0
    notes: tuple = ()  # warnings about an extract's files (ignored columns, absent optional tables...)

    def has_child(self, child: str) -> bool:
        return bool(self.con.execute("SELECT count(*) FROM in_children WHERE id = ?", [child]).fetchone()[0])

    def child_ids(self) -> list[str]:
        return [r[0] for r in self.con.execute("SELECT id FROM in_children ORDER BY id").fetchall()]

    def where(self, child: str | None = None, status: str | None = None, action: str | None = None) -> tuple[str, list]:
        conds, params = [], []
        for column, value in (("child_id", child), ("o.status", status), ("h.action", action)):
            if value is not None:
                conds.append(f"{column} = ?")
                params.append(value)
        return (" WHERE " + " AND ".join(conds) if conds else ""), params

    def rows(self, columns: str, child: str | None = None, status: str | None = None,
             action: str | None = None) -> Iterator[tuple]:
        """Result rows in output order, in batches: `columns` are SQL expressions over the columns of occ, heads
        and the ids' names, named bare (engine/meaning/lifecycle.py `NAMED`, `RESULT`)."""
        where, params = self.where(child, status, action)
        cur = cursor(self.con, DB)  # evaluate_duck made the connection, in `DB`
        cur.execute(RESULT.format(columns=columns, where=where), params)
        while batch := cur.fetchmany(BATCH):
            yield from batch

    def iter_obligations(self, child: str | None = None, status: str | None = None,
                         action: str | None = None) -> Iterator[Obligation]:
        cols = ("shown, shown_episode, action, actor, modality, triggered, due, clause, exception, "
                "status, occurrence, done_at, coalesce(clauses, clause), open_for, CASE WHEN due IS NOT NULL THEN standard END, "
                "triggered_latest, due_latest")
        for r in self.rows(cols, child, status, action):
            yield Obligation(r[0], r[1] or None, r[2], r[3], r[4], _when(r[5]), _when(r[6]), r[7], r[8] or None,
                             r[9], r[10], _when(r[11]), tuple(r[12].split(";")), r[13], r[14], _when(r[15]), _when(r[16]))

    @cached_property
    def obligations(self) -> tuple[Obligation, ...]:
        return tuple(self.iter_obligations())

    @cached_property
    def _episode_rows(self) -> list[tuple]:
        """Each episode's id, real child id, category and risk (built on first use: a CSV export does not need them)."""
        build_episode_facts(self.con)
        return self.con.execute("SELECT id, child, category, risk, category_clause, risk_clause FROM episode_facts "
                                "ORDER BY ord").fetchall()

    @cached_property
    def episodes(self) -> tuple[EpisodeFacts, ...]:
        return self.episodes_of()

    def later_count(self, child: str | None = None) -> int:
        """Episodes (of `child`, when given) reported after the time their child is judged (engine/backends
        `later_count`)."""
        from engine.backends import LATER_SQL
        where, params = (" AND j.child = ?", [child]) if child is not None else ("", [])
        return self.con.execute(LATER_SQL + where, params).fetchone()[0]

    def episode_count(self, child: str | None = None) -> int:
        """How many episodes `episodes_of(child)` gives, without building their facts: those reported by the
        time judged (the others have no facts yet; counted, a table's heading differed from pyDatalog's)."""
        where, params = (" WHERE child = ?", [child]) if child is not None else ("", [])
        every = self.con.execute(f"SELECT count(*) FROM in_episodes{where}", params).fetchone()[0]
        return every - self.later_count(child)

    def episodes_of(self, child: str | None = None) -> tuple[EpisodeFacts, ...]:
        """Each episode's category and risk, only those of `child` (a real id, as filters take) when given."""
        rename = getattr(self, "_rename", None) or (lambda child: child)
        episode = getattr(self, "_rename_episode", None) or (lambda e: e)
        return tuple(EpisodeFacts(episode(i), rename(c), *rest) for i, c, *rest in self._episode_rows
                     if child is None or c == child)

    def rename_children(self, rename: Callable[[str], str], episode: Callable[[str], str] | None = None) -> None:
        """Print every child id as `rename(id)` (e.g. a pseudonym), and every episode id as `episode(id)`
        when given; filters and order still use the real ids."""
        ids = [r[0] for r in self.con.execute("SELECT id FROM in_children").fetchall()]
        self.con.execute("CREATE OR REPLACE TABLE renamed AS SELECT unnest(?) AS id, unnest(?) AS shown",
                         [ids, [rename(i) for i in ids]])
        self.con.execute("UPDATE child_names SET shown = r.shown FROM renamed r WHERE r.id = child_names.child_id")
        if episode is not None:
            eps = [r[0] for r in self.con.execute("SELECT id FROM in_episodes").fetchall()]
            self.con.execute("CREATE OR REPLACE TABLE renamed AS SELECT unnest(?) AS id, unnest(?) AS shown",
                             [eps, [episode(i) for i in eps]])
            self.con.execute("UPDATE episode_names SET shown_episode = r.shown FROM renamed r "
                             "WHERE r.id = episode_names.episode_id")
            self._rename_episode = episode
        self._rename = rename
        self.__dict__.pop("episodes", None)
        self.__dict__.pop("obligations", None)

    def close(self) -> None:
        self.con.close()


def _years(con: duckdb.DuckDBPyConnection, at: datetime) -> tuple[int, int]:
    """The years the clock and calendar tables must cover: every instant of the facts, and `at` (a folder
    with no children has no judged_at row: that was a TypeError where pyDatalog gives no obligations)."""
    lo, hi = con.execute(f"""SELECT min(u), max(u) FROM (SELECT rep AS u FROM in_episodes UNION ALL
        SELECT ret FROM in_episodes UNION ALL SELECT at_us FROM in_actions UNION ALL SELECT at_us FROM judged_at
        UNION ALL SELECT {london.to_us(at)}::BIGINT)""").fetchone()
    return london.from_us(lo).year - 1, london.from_us(hi).year + 2


STEPS = 4
# up to this many episodes one DuckDB thread costs less CPU and no more wall time than two (medians of
# six interleaved runs on the 2-core machine: 9 episodes 0.42 -> 0.38 CPU s, 230 episodes 0.52 -> 0.43,
# wall 0.46 -> 0.42; still so at 576 episodes, so the bound is conservative)
SMALL = 250
# DuckDB spills to disk beyond this (CLAUSE_DUCKDB_MEMORY overrides); with chunks of CHUNK children
# (CLAUSE_DUCKDB_CHUNK overrides) a UK year (one chunk) peaked at 747 MB and a national one at 865 MB;
# a chunk costs its statements' planning and a pass over the whole input, so chunks are as large as
# memory allows (the UK year in two chunks of 50,000 took 4% more CPU than in one)
MEMORY_LIMIT = "600MB"
CHUNK = 100_000
WHOLE = ("in_children", "in_episodes", "in_actions", "in_statuses", "in_flags", "judged_at")  # the input: the rules read it keyed (`_derive_keyed`)


def _asof(con: duckdb.DuckDBPyConnection, at: datetime, child_times: Mapping[str, datetime] | None) -> None:
    """judged_at(child, ck, at_us): when each child is judged (an instant); ck is the child's key."""
    con.execute(f"""CREATE OR REPLACE TABLE judged_at AS SELECT id AS child, ck, {london.to_us(at)}::BIGINT AS at_us
        FROM in_children""")
    if child_times:
        ids = list(child_times)
        con.execute("""CREATE OR REPLACE TABLE judged_given AS SELECT unnest(?) AS child, unnest(?)::BIGINT AS at_us""",
                    [ids, [london.to_us(child_times[i]) for i in ids]])
        con.execute("""UPDATE judged_at SET at_us = g.at_us
                       FROM judged_given g WHERE g.child = judged_at.child""")


def _derive(con: duckdb.DuckDBPyConnection, policy: CompiledPolicy, workers: int) -> None:
    """in_* and judged_at -> occ, heads, category_by and risk_by (the scratch tables dropped). The heads
    are numbered by the program (compiler/sql.py), so the occ rows of several chunks share one numbering."""
    sql = sql_program(policy)
    build_base(con, policy.program)
    run_rules(con, sql, workers)
    # each step's inputs are dropped as soon as it is done: a table held in memory makes later steps spill
    con.execute("DROP VIEW obligation")  # the relation as rules read it: from here the numbered rows are read
    _drop(con, ("vis", "moment_day", *sql.schema, *sql.features), keep=("category_by", "risk_by"))
    build_heads(con, policy.program.clauses)
    build_arisen(con)
    _drop(con, (ROWS, HEADS))
    build_duties(con)


def _drop(con: duckdb.DuckDBPyConnection, tables: Iterable[str], keep: Iterable[str] = ()) -> None:
    for table in dict.fromkeys(tables):
        if table not in keep:
            con.execute(f"DROP TABLE IF EXISTS {table}")


def _derive_keyed(con: duckdb.DuckDBPyConnection, policy: CompiledPolicy, workers: int, size: int) -> None:
    """`_derive` over keys (compiler/sql_keys.py KEY), `size` children at a time (by key, so in id order; a child's
    facts all go to its chunk, and a child's obligations depend on its facts alone), the chunks' rows
    gathered into one occ (a view over the chunks' tables), category_by and risk_by. While the rules run,
    each in_* table is a view of itself with keys in place of ids (duck_load `keyed`), or in chunks a table
    of the chunk's rows (read several times, a view would filter the whole input each time); the tables
    are back as they were afterwards."""
    count = con.execute("SELECT count(*) FROM in_children").fetchone()[0]
    chunked = count > size
    kind = "TABLE" if chunked else "VIEW"
    if chunked:
        # the input, read by every chunk, is compressed first (a checkpoint): uncompressed, a national year's
        # input alone (about 1.2 GB) outgrew the memory limit, and every chunk spilled and read it back (1M
        # children: 285 -> 263 CPU s). The chunks' obligations are not: a checkpoint after each chunk cost
        # 2-2.7 CPU s a chunk and saved the output's sort about half that (1M children: 289 -> 271 CPU s).
        # One chunk has no such pressure, and the checkpoint would cost the UK year 2 s of 17.
        con.execute("CHECKPOINT")  # the current database: `DB`
    for table in WHOLE:
        con.execute(f"ALTER TABLE {table} RENAME TO whole_{table}")
    starts = range(0, max(count, 1), size)
    for i, lo in enumerate(starts):
        where = f" WHERE ck > {lo} AND ck <= {lo + size}" if count > size else ""
        for table in WHOLE:
            con.execute(keyed(table, f"whole_{table}", where, kind))
        _derive(con, policy, workers)
        con.execute(f"ALTER TABLE occ RENAME TO occ_{i}")
        if chunked:
            for table in WHOLE:
                con.execute(f"DROP TABLE {table}")
        for table in ("category_by", "risk_by"):
            if i == 0:
                con.execute(f"ALTER TABLE {table} RENAME TO all_{table}")
            else:
                con.execute(f"INSERT INTO all_{table} SELECT * FROM {table}")
                con.execute(f"DROP TABLE {table}")
    for table in ("category_by", "risk_by"):
        con.execute(f"ALTER TABLE all_{table} RENAME TO {table}")
    gather(con, [f"occ_{i}" for i in range(len(starts))])
    for table in WHOLE:
        if not chunked:
            con.execute(f"DROP VIEW {table}")
        con.execute(f"ALTER TABLE whole_{table} RENAME TO {table}")


SPILL = "clause-duckdb-"


def _spill_folder() -> tuple[str, int]:
    """A new spill folder, and a descriptor holding an exclusive lock on its `lock` file for as long as the
    evaluation lives. First the folders whose lock nobody holds are removed: their run was killed (SIGTERM,
    SIGKILL) and could not remove its own, and a national year's spill is gigabytes. The system drops a
    lock when its process ends, so a folder is never taken from a run that is still going (a reused
    process id or another container's, as a process-id check could)."""
    root = tempfile.gettempdir()
    for name in os.listdir(root):
        folder = os.path.join(root, name)
        if name.startswith(SPILL) and os.path.isfile(os.path.join(folder, "lock")):
            try:
                fd = os.open(os.path.join(folder, "lock"), os.O_RDONLY)
            except OSError:  # another user's
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                shutil.rmtree(folder, True)
            except OSError:  # held: its run is going
                pass
            finally:
                os.close(fd)
    folder = tempfile.mkdtemp(prefix=SPILL)
    fd = os.open(os.path.join(folder, "lock"), os.O_RDONLY | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return folder, fd


def _remove_spill(folder: str, fd: int) -> None:
    shutil.rmtree(folder, True)
    os.close(fd)


def _chunk() -> int:
    return limits.duckdb_chunk(CHUNK)


def evaluate_duck(policy: CompiledPolicy, facts: FactSet | str | Path | Extract, at: datetime,
                  threads: int | None = None,
                  progress: Callable[[str], None] | None = None,
                  child_times: Mapping[str, datetime] | None = None,
                  chunk: int | None = None) -> DuckEvaluation:
    """Evaluate `facts` (a FactSet or a bulk folder) as at `at`.

    `threads`: DuckDB's threads (default: one per core, but one for an input of at most SMALL episodes).
    `child_times` judges the children it names at their own time (so several
    cases, their ids kept apart, run in one evaluation: `evaluate_duck_cases`). `progress`
    is called with the name of each of the STEPS steps as it finishes. Beyond `chunk` children
    (default CHUNK) the rules run a chunk of children at a time, which bounds the memory they need;
    the result is the same. Raises ClauseError when a bulk folder is invalid (through facts.bulk.load_bulk), and
    (F014) when a recorded action names an action the policy lacks."""
    done = progress or (lambda step: None)
    config = {"threads": threads} if threads else {}
    config["memory_limit"] = limits.duckdb_memory(MEMORY_LIMIT)
    # DuckDB's block allocator keeps the buffers it has used for the next operator, rather than handing
    # them back to the system and faulting them in again (the UK year's whole command: 30.4 CPU s, was 32.4)
    config["block_allocator_memory"] = config["memory_limit"]
    # each evaluation spills to a folder of its own: DuckDB 1.3 names its spill files the same in every
    # instance and removes the folder when one closes (two evaluations at once: `clause diff`, the server)
    spill, lock = _spill_folder()
    config["temp_directory"] = spill
    try:
        con = duckdb.connect(":memory:", config=config)
        con.execute(f"ATTACH ':memory:' AS {DB} (COMPRESS)")
        con.execute(f"USE {DB}")
        # no automatic checkpoints, only `_derive_keyed`'s: an automatic one compresses tables about to be dropped
        con.execute("SET checkpoint_threshold = '1TB'")
    except BaseException:  # Ctrl-C while DuckDB starts
        _remove_spill(spill, lock)
        raise
    weakref.finalize(con, _remove_spill, spill, lock)
    try:
        notes: tuple = ()
        if isinstance(facts, Extract):
            read = load_extract_sql(con, facts)
            if read is None:
                facts_read, read = read_extract(facts)
                load_factset(con, facts_read)
            notes = tuple(dict.fromkeys(read))
        elif not isinstance(facts, FactSet) and not load_folder(con, facts):
            load_factset(con, load_bulk(facts))
        elif isinstance(facts, FactSet):
            load_factset(con, facts)
        _check_actions(con, policy, facts)
        _drop(con, SCRATCH)  # the reader's raw text: everything from here reads the in_* tables
        intern_ids(con)
        done("facts read")
        # every order that matters is asked for (ORDER BY, row_number() OVER); none rests on insertion order
        con.execute("SET preserve_insertion_order = false")
        _asof(con, at, child_times)
        lo, hi = _years(con, at)
        london_sql(con, create_tz(con, lo, hi), london.bank_holidays(lo, hi))
        workers = threads or os.cpu_count() or 1
        if threads is None and con.execute("SELECT count(*) FROM in_episodes").fetchone()[0] <= SMALL:
            con.execute("SET threads = 1")  # a small input: DuckDB's parallelism costs more than it saves
            workers = 1
        _derive_keyed(con, policy, workers, chunk or _chunk())
        heads_as_enum(con)
        done("base facts")
        done("rules")
        con.execute("SET preserve_insertion_order = true")
        count = con.execute("SELECT count(*) FROM occ").fetchone()[0]
        done("obligations")
        return DuckEvaluation(at, con, count, notes)
    except BaseException:
        con.close()
        raise


def _check_actions(con: duckdb.DuckDBPyConnection, policy: CompiledPolicy, facts: FactSet | str | Path | Extract) -> None:
    """F014, as pyDatalog raises it (engine/evaluation.py), when a recorded action names an action the policy
    lacks. The tables hold no positions, so only then is the input read again by the Python reader, for them."""
    names = [n for (n,) in con.execute("SELECT DISTINCT action FROM in_actions WHERE action NOT IN "
                                        "(SELECT unnest(?::VARCHAR[])) ORDER BY action", [sorted(policy.action_names)]).fetchall()]
    if not names:
        return
    located = facts if isinstance(facts, FactSet) else read_extract(facts)[0] if isinstance(facts, Extract) \
        else load_bulk(facts)
    diags = unknown_actions(located.actions, policy.action_names)
    # the two readers agree (tested); were they ever not to, the names still stop the run, without a position
    where = Span(str(facts.folder if isinstance(facts, Extract) else "facts" if isinstance(facts, FactSet) else facts))
    raise ClauseError(diags or [unknown_action(n, where, policy.action_names) for n in names])


def evaluate_duck_cases(policy: CompiledPolicy, cases: list[tuple[FactSet, datetime]]) -> DuckEvaluation:
    """Several fact sets, each judged at its own time, in one
    evaluation. Their child, episode and action ids must not collide (prefix them). The result lists
    every case's obligations and episodes together; each child's are exactly its case's alone."""
    merged = FactSet(*(tuple(x for facts, _ in cases for x in getattr(facts, f)) for f in ("children", "episodes", "actions")))
    times = {c.id: at for facts, at in cases for c in facts.children}
    return evaluate_duck(policy, merged, cases[0][1] if cases else datetime.now(LONDON), child_times=times)
