"""Same inputs, same bytes: row order, list order, hash seed, engine and chunking never change the output.

A bulk folder's rows (and the items of its `;`-separated lists) are shuffled by hypothesis;
`clause obligations --format csv` must print exactly the bytes it prints for the sorted folder,
on either engine. A different PYTHONHASHSEED in a fresh process, and evaluation in chunks of
children, give the same bytes too. `make fuzz` runs many more examples, on a larger year.

The year is small in `make test` (pyDatalog's cost grows with it); its seed is one whose children.csv
has a list cell of several items and whose statuses.csv and flags.csv have rows, so that list order
and the order of those files' rows are shuffled too (the year fixture checks this).
"""
from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings, strategies as st

from cli.main import main
from facts.bulk import write_bulk
from facts.synth import synthesize
from tests.evaluated import policy as bundled_policy
from tests.loads import LARGE

ROOT = Path(__file__).resolve().parent.parent
AT = "2025-01-01T00:00"
CHILDREN, SEED = (25, 5) if LARGE else (5, 3)
# two shuffles in make test (each costs a DuckDB start-up), 100 in make fuzz
PROPERTY = settings(max_examples=max(2, settings().max_examples // 50), deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def obligations_csv(folder: Path, engine: str) -> str:
    result = CliRunner().invoke(main, ["obligations", str(folder), "--engine", engine, "--at", AT, "--format", "csv"])
    assert result.exit_code == 0, result.output
    return result.stdout


def shuffled_copy(src: Path, dst: Path, rng: random.Random) -> None:
    """The same CSV files with data rows in another order and list cells' items reordered."""
    dst.mkdir(parents=True, exist_ok=True)
    for path in sorted(src.glob("*.csv")):
        header, *rows = path.read_text(encoding="utf-8").splitlines()
        rng.shuffle(rows)
        columns = header.split(",")
        out = []
        for row in rows:
            cells = row.split(",")  # synthetic files hold no quoted commas
            for i, name in enumerate(columns):
                if name in ("statuses", "flags") and ";" in cells[i]:
                    items = cells[i].split(";")
                    rng.shuffle(items)
                    if ";".join(items) == cells[i]:  # every shuffle reorders the list (a list of two: 1 in 2 would not)
                        items.reverse()
                    cells[i] = ";".join(items)
            out.append(",".join(cells))
        (dst / path.name).write_text("\n".join([header, *out]) + "\n", encoding="utf-8")


def has_several_items(folder: Path) -> bool:
    """Whether some children.csv statuses or flags cell lists several items (which shuffled_copy reorders)."""
    header, *rows = (folder / "children.csv").read_text(encoding="utf-8").splitlines()
    lists = [i for i, name in enumerate(header.split(",")) if name in ("statuses", "flags")]
    return any(";" in row.split(",")[i] for row in rows for i in lists)


@pytest.fixture(scope="module")
def year(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    folder = tmp_path_factory.mktemp("year")
    write_bulk(synthesize(CHILDREN, SEED), folder)
    # what the shuffles reorder is there: a list of several items, status and flag records over time
    assert has_several_items(folder)
    assert all(len((folder / f).read_text(encoding="utf-8").splitlines()) > 1 for f in ("statuses.csv", "flags.csv"))
    reference = obligations_csv(folder, "pydatalog")  # the cheaper engine on a small load; both are compared to it
    assert reference.count("\n") > 20  # a real load, not an empty answer
    return folder, reference


@PROPERTY
@given(seed=st.integers(0, 2**32 - 1))
def test_row_and_list_order_change_no_byte(year: tuple[Path, str], tmp_path_factory: pytest.TempPathFactory,
                                           seed: int) -> None:
    folder, reference = year
    copy = tmp_path_factory.mktemp("shuffled")
    shuffled_copy(folder, copy, random.Random(seed))
    assert obligations_csv(copy, "duckdb") == reference
    assert obligations_csv(copy, "pydatalog") == reference


def test_another_hash_seed_in_a_fresh_process_changes_no_byte(year: tuple[Path, str]) -> None:
    folder, reference = year
    for seed in (("0", "12345") if LARGE else ("12345",)):
        for engine in ("duckdb", "pydatalog"):
            done = subprocess.run([sys.executable, "-m", "cli.main", "obligations", str(folder), "--engine", engine,
                                   "--at", AT, "--format", "csv"], cwd=ROOT, capture_output=True, text=True,
                                  env={**os.environ, "PYTHONHASHSEED": seed}, timeout=300)
            assert done.returncode == 0, done.stderr
            assert done.stdout == reference, (seed, engine)


def test_chunked_evaluation_prints_the_same_bytes(year: tuple[Path, str]) -> None:
    from compiler.core.london import parse_instant
    from engine.backends.batch import Run
    from engine.backends.partition import evaluate_partitioned
    from engine.output import render
    from facts.bulk import load_bulk
    folder, reference = year
    facts, at, policy = load_bulk(folder), parse_instant(AT), bundled_policy()
    for size in (1, 4):
        merged = evaluate_partitioned(policy, facts, at, size)
        run = Run("bulk", None, merged)
        assert render.as_csv([(run, run.obligations())]) == reference
