"""Interactive speed (issue 19): the engines' crossover, and the commands a person waits for.

`python bench/interactive.py` measures and rewrites only its own section of bench/results.md (between
the markers below); `make bench` (bench/run.py) appends the same section after the scale table.
Sections:

* crossover: one synthetic case of N episodes (facts/synth.py, seed 1, N/3 children), evaluated in a
  warm process by pyDatalog and by DuckDB (`engine.backends.evaluate_case`), N from 1 to 500;
  wall and CPU seconds (CPU counts every DuckDB thread), medians. A fresh `clause` process pays for
  importing DuckDB too (measured apart: a fresh interpreter importing it, less one that does not),
  so `--engine auto` compares pyDatalog with DuckDB plus that import: engine.backends.THRESHOLD is
  set from the first size at which DuckDB is faster (by wall time).
* commands, each a fresh process (the compiled policy in the cache, as after any first run), the
  median of several: one case, `clause test` and `clause diff` on the bundled cases (default engine
  and --engine pydatalog), `clause why` and why-not for one child of the UK-sized folder; and `why`
  for one child of that folder in a warm process (as `clause serve` answers it).
Timings are whatever this machine gives while it runs (it may be shared: CPU seconds are the
steadier figure); nothing here is asserted.
"""
from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

BEGIN, END = "<!-- interactive: begin -->", "<!-- interactive: end -->"
SIZES = (1, 2, 5, 10, 20, 35, 50, 75, 100, 150, 200, 300, 500)
UK = (75_000, 1)  # children, seed: the UK-sized year bench/run.py uses
WHY_AT = "2025-01-01T00:00"


def _cpu() -> float:
    return time.process_time()


def _timed(fn, runs: int) -> tuple[float, float]:
    """Median (wall, CPU) seconds of `runs` calls."""
    walls, cpus = [], []
    for _ in range(runs):
        w, c = time.perf_counter(), _cpu()
        fn()
        walls.append(time.perf_counter() - w)
        cpus.append(_cpu() - c)
    return statistics.median(walls), statistics.median(cpus)


def fresh(args: list[str], runs: int = 5, cwd: Path = ROOT) -> tuple[float, float, int]:
    """Median (wall, CPU) of `runs` fresh processes running `args`, and the exit code."""
    walls, cpus, code = [], [], 0
    for _ in range(runs):
        w = time.perf_counter()
        p = subprocess.Popen(args, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(p.pid, 0)
        walls.append(time.perf_counter() - w)
        cpus.append(usage.ru_utime + usage.ru_stime)
        code = os.waitstatus_to_exitcode(status)
    return statistics.median(walls), statistics.median(cpus), code


def clause(*args: str) -> list[str]:
    return [sys.executable, "-m", "cli.main", *args]


def duckdb_import(runs: int = 7) -> tuple[float, float]:
    """What importing DuckDB adds to a fresh process: (wall, CPU) medians, with it less without it."""
    w1, c1, _ = fresh([sys.executable, "-c", "import duckdb"], runs)
    w0, c0, _ = fresh([sys.executable, "-c", "pass"], runs)
    return max(0.0, w1 - w0), max(0.0, c1 - c0)


def crossover(sizes=SIZES) -> tuple[list[tuple[int, float, float, float, float]], tuple[float, float]]:
    """[(episodes, pyDatalog wall, CPU, DuckDB wall, CPU)] and DuckDB's import (wall, CPU)."""
    from compiler.policy import compile_policy
    from compiler.core.london import parse_instant
    from engine.backends import evaluate_case
    from facts.synth import synthesize
    policy, at = compile_policy(), parse_instant(WHY_AT)
    evaluate_case(policy, synthesize(1, 1, 1), at, "pydatalog")  # warm: rules loaded, SQL translated
    evaluate_case(policy, synthesize(1, 1, 1), at, "duckdb").close()
    rows = []
    for n in sizes:
        facts = synthesize(max(1, round(n / 3)), 1, n)
        runs = 5 if n <= 50 else 3 if n <= 200 else 1
        pw, pc = _timed(lambda: evaluate_case(policy, facts, at, "pydatalog"), runs)
        dw, dc = _timed(lambda: evaluate_case(policy, facts, at, "duckdb").close(), max(runs, 3))
        rows.append((n, pw, pc, dw, dc))
        print(f"crossover {n}: pydatalog {pw:.3f}/{pc:.3f} duckdb {dw:.3f}/{dc:.3f}", file=sys.stderr)
    imp = duckdb_import()
    return rows, imp


def crossing(rows, imp: float, column: int) -> float | None:
    """Where pyDatalog's time first exceeds DuckDB's plus `imp` for good, interpolated linearly between
    the two sizes around it (`column` 1: wall, 2: CPU; DuckDB's is `column` + 2)."""
    gap = [(r[0], r[column] - r[column + 2] - imp) for r in rows]  # > 0: DuckDB is faster
    for i in range(len(gap) - 1, 0, -1):
        (n0, g0), (n1, g1) = gap[i - 1], gap[i]
        if g1 > 0 and g0 <= 0:
            return n0 + (n1 - n0) * (-g0) / (g1 - g0) if all(g > 0 for _, g in gap[i:]) else None
    return gap[0][0] if gap and all(g > 0 for _, g in gap) else None


def uk_folder() -> Path:
    """The UK-sized synthetic year (bench/.data/uk-year, as bench/run.py makes it)."""
    out = HERE / ".data" / "uk-year"
    if not (out / "episodes.csv").is_file():
        from facts.bulk import write_bulk
        from facts.synth import synthesize
        write_bulk(synthesize(*UK), out)
    return out


def busy_child(folder: Path) -> str:
    """A child from the middle of the folder with an episode of more than 72 hours (so `why
    strategy_discussion` has a duty to explain)."""
    import csv

    from compiler.core.london import parse_instant
    with (folder / "episodes.csv").open(encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r["returned"]]
    for r in rows[len(rows) // 2:] + rows:
        if (parse_instant(r["returned"][:16]) - parse_instant(r["reported"][:16])).total_seconds() > 72 * 3600:
            return r["child"]
    return rows[0]["child"]


def warm_why(folder: Path, child: str, runs: int = 7) -> tuple[float, float]:
    """`clause why` for one child of the folder in a warm process (after one first call)."""
    from click.testing import CliRunner

    from cli.main import main
    args = ["why", str(folder), "--child", child, "--action", "strategy_discussion", "--at", WHY_AT]
    CliRunner().invoke(main, args)
    return _timed(lambda: CliRunner().invoke(main, args), runs)


def commands(folder: Path, child: str) -> list[tuple[str, float, float]]:
    """(command, wall, CPU) for each interactive command, fresh processes, medians."""
    out = []
    why = ["--child", child, "--action", "strategy_discussion", "--at", WHY_AT]
    plan = [("clause obligations examples/cp-plan-missing-with-parents.yaml",
             clause("obligations", "examples/cp-plan-missing-with-parents.yaml"), 9),
            ("clause test (tests/cases)", clause("test"), 5),
            ("clause test --engine pydatalog", clause("test", "--engine", "pydatalog"), 1),
            ("clause test --coverage", clause("test", "--coverage"), 1),
            ("clause diff --base policy (tests/cases)", clause("diff", "--base", "policy"), 5),
            ("clause diff --base policy --engine pydatalog", clause("diff", "--base", "policy", "--engine", "pydatalog"), 1),
            (f"clause why UK-year --child {child}", clause("why", str(folder), *why), 7),
            (f"clause why-not UK-year --child {child}", clause("why-not", str(folder), *why), 7)]
    fresh(clause("test", "-k", "cp-plan"), 1)  # the compiled policy into the cache
    for label, args, runs in plan:
        wall, cpu, _ = fresh(args, runs)
        out.append((label, wall, cpu))
        print(f"{label}: {wall:.2f} / {cpu:.2f}", file=sys.stderr)
    return out


def section() -> str:
    """The markdown section (with its markers), measured now."""
    from engine.backends import THRESHOLD
    rows, (iw, ic) = crossover()
    by_wall, by_cpu = crossing(rows, iw, 1), crossing(rows, ic, 2)
    folder = uk_folder()
    child = busy_child(folder)
    cmds = commands(folder, child)
    ww, wc = warm_why(folder, child)
    lines = [BEGIN, "## Interactive speed", "",
             f"{os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f} when it finished (CPU seconds are the "
             "steadier figure on a shared machine). Medians.", "",
             "### `--engine auto`: pyDatalog or DuckDB, by case size", "",
             "One case of N episodes in a warm process (seconds, wall / CPU; DuckDB's CPU counts all its threads).", "",
             "| episodes | pyDatalog wall | pyDatalog CPU | DuckDB wall | DuckDB CPU |", "|---|---|---|---|---|"]
    lines += [f"| {n} | {pw:.3f} | {pc:.3f} | {dw:.3f} | {dc:.3f} |" for n, pw, pc, dw, dc in rows]
    def at(x: float | None) -> str:
        return "none of these sizes" if x is None else f"about {x:.0f} episodes"
    lines += ["", f"Importing DuckDB adds {iw:.3f} s wall, {ic:.3f} s CPU to a fresh process. With that import, "
              f"DuckDB is the faster from {at(by_cpu)} on by CPU time, {at(by_wall)} by wall time (interpolated "
              "between the sizes around the crossing). engine.backends.THRESHOLD (auto: DuckDB above it) is "
              f"{THRESHOLD}, set from the CPU figure (the steadier on a shared machine) over repeated runs.", "",
              "### Commands", "", "| command | wall s | CPU s |", "|---|---|---|"]
    lines += [f"| `{label}` | {wall:.2f} | {cpu:.2f} |" for label, wall, cpu in cmds]
    lines += [f"| `clause why` UK-year, one child, warm process | {ww:.3f} | {wc:.3f} |", "",
              f"UK-year: {UK[0]:,} children (facts/synth.py, seed {UK[1]}); the child asked about is {child}.", END]
    return "\n".join(lines) + "\n"


def replace_section(text: str, new: str) -> str:
    """`text` with its interactive section replaced by `new` (appended when it has none)."""
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        return head + new.rstrip("\n") + rest.split(END, 1)[1]
    return text.rstrip("\n") + "\n\n" + new


def main() -> None:
    from compiler.core.files import write_atomic
    path = HERE / "results.md"
    new = section()
    write_atomic(path, replace_section(path.read_text(encoding="utf-8") if path.exists() else "# Benchmark\n", new))
    print(new)


if __name__ == "__main__":
    main()
