"""Which engine evaluates an input: pyDatalog (the reference) or DuckDB (the same rules as SQL).

Input: the user's choice (auto, pydatalog, duckdb) and the size of the input. Output:
the engine to use and, for cases, an evaluation `engine.output.render` can print. Invariant:
both engines give the same obligations and episode facts (tests/test_scale_differential.py),
so `auto` only trades DuckDB's fixed cost (its import in a fresh process, then creating and
planning every table and rule for any input) against pyDatalog's cost per episode: DuckDB above
THRESHOLD episodes, the crossover measured by bench/interactive.py (bench/results.md, "Interactive
speed": one case of N episodes, N from 1 to 500, each engine, plus DuckDB's import). Three runs
on the shared 2-core machine (2026-12-01) put the crossover by CPU time at 60, 55 and 49 episodes
(by wall time 74, 30 and 55: the machine was busy); the old 200 cost inputs of 50 to 200 episodes
up to three times the time.
"""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

from compiler.core.diagnostics import Diagnostic, Span, warning
from compiler.core.london import format_instant, utc
from compiler.policy import CompiledPolicy
from facts.model import FactSet

ENGINES = ("auto", "pydatalog", "duckdb")
THRESHOLD = 55  # episodes: the median of the measured crossovers above


# episodes reported after the time judged, in SQL (DuckEvaluation.later_count) and in Python (`later_count`),
# side by side; tests/test_cli_obligations.py holds the two to the same counts
LATER_SQL = "SELECT count(*) FROM in_episodes e JOIN judged_at j ON j.ck = e.ck WHERE e.rep > j.at_us"


def later_count(facts: FactSet, at: datetime, child: str | None = None) -> int:
    """Episodes (of `child`, when given) reported, at their earliest reading, after `at`: as yet no duty."""
    return sum(1 for e in facts.episodes if utc(e.reported) > utc(at) and child in (None, e.child))


def later_episodes(count: int, where: str | Path, at: datetime) -> list[Diagnostic]:
    """F021, a warning (none when `count` is 0): a folder judged before some of its episodes were reported
    (an --at too early, or reported times in the future) once gave those episodes no duty without a word."""
    if not count:
        return []
    return [warning("F021", Span(str(where)), f"{count:,} episode{'s' if count != 1 else ''} reported after "
                    f"{format_instant(at)}, the time judged: as yet {'they give' if count != 1 else 'it gives'} no duty",
                    "give --at a later time, or check the reported times")]


def is_bulk_folder(path: str | Path) -> bool:
    """A folder holding children.csv (the loader reads it as a bulk extract)."""
    p = Path(path)
    return p.is_dir() and (p / "children.csv").is_file()


def episode_lines(folder: str | Path) -> int:
    """About how many episodes a bulk folder holds (data lines of episodes.csv), without parsing it."""
    path = Path(folder) / "episodes.csv"
    try:
        if not path.is_file():  # a pipe would block here; the loader says what is wrong with it
            return 0
        with path.open("rb") as fh:
            return max(0, sum(1 for line in fh if line.strip()) - 1)
    except OSError:
        return 0


def choose(engine: str, episodes: int) -> str:
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}")
    if engine == "auto":
        return "duckdb" if episodes > THRESHOLD else "pydatalog"
    return engine


def evaluate_case(policy: CompiledPolicy, facts: FactSet, at: datetime, engine: str):
    """One case's evaluation by the chosen engine (an Evaluation or a DuckEvaluation)."""
    if choose(engine, len(facts.episodes)) == "duckdb":
        from engine.backends.duck import evaluate_duck
        return evaluate_duck(policy, facts, at)
    from engine.evaluation import evaluate
    return evaluate(policy, facts, at)
