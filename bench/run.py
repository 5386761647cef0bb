"""`make bench`: both back-ends and the plain-Python references on a Liverpool-sized and a UK-sized year.

Writes a markdown table to stdout and to bench/results.md. Loads are synthetic
(facts/synth.py, seed 1, year 2024, judged as at 2025-01-01T00:00), generated once into
bench/.data/. Each measurement runs in a fresh process (bench/measure.py), so its peak
memory (getrusage ru_maxrss) is its own. pyDatalog cannot do the UK year in reasonable
time (about 30 ms an episode: hours), so it runs on the Liverpool year and on a sample;
the hand-written reference (bench/handwritten.py) and the reference interpreter run on the Liverpool
year and a UK sample; ratios compare evaluation throughput (episodes a second) with the hand-written
reference's on the same load, and DuckDB's CPU time with its (against_handwritten). BENCH_QUICK=1 replaces the
full Liverpool year for pyDatalog by a 300-child sample (minutes instead of ~6).
DuckDB rows are the median of five runs (the others take minutes each). Timings are
wall-clock on whatever machine runs this; nothing here is asserted. The UK year's whole
`clause obligations` command is also measured against the floor (bench/floor.py) in CPU
seconds (BENCH_FLOOR=1 runs only that, into bench/floor.md; BENCH_RUNS=N runs), and
BENCH_NATIONAL=1 runs only the national curve (7.5k to 1M children, each against the floor) into bench/national.md.
"""
from __future__ import annotations

import csv
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from compiler.core.files import atomic, write_atomic

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = HERE / ".data"
AT = "2025-01-01T00:00"
LOADS = {"Liverpool year": (1500, 5000), "UK year": (75000, None)}


def in_fresh_process(target, *args) -> None:
    """Run `target(*args)` in a spawned interpreter: this process stays small, which matters because Linux
    keeps a process's memory high-water mark across fork and exec, so every measured process would
    report as its peak at least what this one held when it started it."""
    import multiprocessing
    proc = multiprocessing.get_context("spawn").Process(target=target, args=args)
    proc.start()
    proc.join()
    if proc.exitcode:
        raise RuntimeError(f"{target.__name__}{args} failed (exit code {proc.exitcode})")


def _write_year(out: Path, children: int, episodes: int | None) -> None:
    from facts.bulk import write_bulk
    from facts.synth import synthesize
    write_bulk(synthesize(children, 1, episodes), out)


def _write_extract(out: Path, native: Path, children: int, episodes: int | None, kind: str) -> None:
    from facts.bulk import write_bulk
    from facts.extracts import load_profile
    from facts.extracts.write import as_extract, write_extract
    from facts.synth import synthesize
    facts = as_extract(synthesize(children, 1, episodes), kind, 1)
    write_extract(facts, out, load_profile(kind), kind)
    write_bulk(facts, native)


def generate(name: str, children: int, episodes: int | None) -> Path:
    out = DATA / name.replace(" ", "-").lower()
    if not (out / "episodes.csv").is_file():
        in_fresh_process(_write_year, out, children, episodes)
    return out


def generate_extract(name: str, children: int, episodes: int | None, kind: str) -> tuple[Path, Path]:
    """The same synthetic year as an extract of `kind` (ssd, ssda903) and as the native CSV of the same facts."""
    out = DATA / (name.replace(" ", "-").lower() + f"-{kind}")
    native = out.with_name(out.name + "-native")
    if not (native / "episodes.csv").is_file():
        in_fresh_process(_write_extract, out, native, children, episodes, kind)
    return out, native


def subset(folder: Path, n: int) -> Path:
    """The first n children of a bulk folder, with their episodes, actions, statuses and flags (streamed, no
    parsing of values). Written in a hidden sibling folder renamed into place when every file is there, so
    an interrupted run leaves no folder a later run would take as whole."""
    out = folder.with_name(f"{folder.name}-first-{n}")
    if out.is_dir():
        return out
    part = folder.with_name(f".{out.name}.partial")
    shutil.rmtree(part, ignore_errors=True)
    part.mkdir(parents=True)
    keep: set[str] = set()
    for name, key in (("children.csv", "id"), ("episodes.csv", "child"), ("actions.csv", "child"),
                      ("statuses.csv", "child"), ("flags.csv", "child")):
        if not (folder / name).is_file():
            continue
        with (folder / name).open(newline="", encoding="utf-8") as src, atomic(part / name) as dst:
            reader = csv.DictReader(src)
            writer = csv.DictWriter(dst, reader.fieldnames or [], lineterminator="\n")
            writer.writeheader()
            for row in reader:
                if name == "children.csv" and len(keep) < n:
                    keep.add(row["id"])
                if row[key] in keep:
                    writer.writerow(row)
    part.rename(out)
    return out


def measure(engine: str, folder: Path, sample: int | None = None, runs: int = 1) -> dict:
    """The measurement in a fresh process; with `runs`, the run of median total time."""
    cmd = [sys.executable, str(HERE / "measure.py"), engine, str(folder), AT] + ([str(sample)] if sample else [])
    results = [json.loads(subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, check=True)
                          .stdout.strip().splitlines()[-1]) for _ in range(runs)]
    results.sort(key=lambda r: r["read"] + r["evaluate"] + r["write"])
    return results[len(results) // 2]


def measured(cmd: list[str]) -> dict:
    """A fresh process's own CPU seconds (user + system, every thread), wall seconds and peak memory (MB)."""
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t
    if status:
        raise RuntimeError(f"{cmd[:3]} failed: {proc.stderr.read().decode(errors='replace')[-2000:]}")
    return {"cpu": usage.ru_utime + usage.ru_stime, "wall": wall, "peak_mb": usage.ru_maxrss / 1024}


def median_of(cmd: list[str], runs: int) -> dict:
    """The run of median CPU time among `runs`."""
    results = sorted((measured(cmd) for _ in range(runs)), key=lambda r: r["cpu"])
    return results[len(results) // 2]


def whole_command(folder: Path, out: Path) -> dict:
    """`clause obligations FOLDER --engine duckdb --format csv -o OUT` as a user runs it, and its output's rows."""
    r = measured([sys.executable, "-m", "cli.main", "obligations", str(folder), "--engine", "duckdb", "--format", "csv",
                  "-o", str(out), "--at", AT])
    with out.open("rb") as fh:
        r["rows"] = sum(1 for _ in fh) - 1
    return r


def floor(folder: Path, rows: int, out: Path) -> dict:
    """bench/floor.py: bare DuckDB reading the folder and writing `rows` sorted rows of the output's width."""
    return measured([sys.executable, str(HERE / "floor.py"), str(folder), str(rows), str(out)])


def paired(folder: Path, ours_out: Path, floor_out: Path, runs: int) -> tuple[dict, dict]:
    """The whole command and the floor on the same load, alternately, `runs` times each: the run of median
    CPU time of each."""
    ours, bare = [], []
    for _ in range(runs):
        ours.append(whole_command(folder, ours_out))
        bare.append(floor(folder, ours[-1]["rows"], floor_out))
    return middle(ours), middle(bare)


def middle(runs: list[dict]) -> dict:
    """The run of median CPU time."""
    return sorted(runs, key=lambda r: r["cpu"])[len(runs) // 2]


def against_floor(folder: Path, runs: int = 3) -> list[str]:
    """The whole command and the floor on the same load, alternately, `runs` times each; medians of CPU time."""
    tmp = DATA / "out"
    tmp.mkdir(exist_ok=True)
    o, f = paired(folder, tmp / "obligations.csv", tmp / "floor.csv", runs)
    return ["| run | rows written | CPU s | wall s | peak MB |", "|---|---|---|---|---|",
            f"| `clause obligations` (DuckDB, CSV to a file), a fresh process | {o['rows']:,} | {o['cpu']:.2f} | "
            f"{o['wall']:.2f} | {o['peak_mb']:,.0f} |",
            f"| floor (bench/floor.py: bare DuckDB reads the three CSV files, sorts and writes as many rows) | "
            f"{o['rows']:,} | {f['cpu']:.2f} | {f['wall']:.2f} | {f['peak_mb']:,.0f} |",
            "", f"Whole command over floor: {o['cpu']:.2f} / {f['cpu']:.2f} CPU s = {o['cpu'] / f['cpu']:.2f}x "
            f"(wall {o['wall']:.2f} / {f['wall']:.2f} s = {o['wall'] / f['wall']:.2f}x); medians of {runs} runs each."]


def against_handwritten(folder: Path, runs: int = 3) -> list[str]:
    """DuckDB, bench/handwritten.py and the interpreter (bench/reference.py) on one load, each in fresh
    processes (bench/measure.py: read, evaluate, write CSV), alternately, `runs` times each; medians of the
    process's CPU time. Then the whole commands, `clause obligations --engine duckdb --format csv -o` and
    `python bench/handwritten.py FOLDER AT OUT`, the same way, their output compared byte for byte."""
    engines = ("duckdb", "handwritten", "reference")
    got: dict[str, list[dict]] = {e: [] for e in engines}
    for _ in range(runs):
        for e in engines:
            cmd = [sys.executable, str(HERE / "measure.py"), e, str(folder), AT]
            got[e].append(json.loads(subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, check=True)
                                     .stdout.strip().splitlines()[-1]))
    m = {e: middle(rs) for e, rs in got.items()}
    hand = m["handwritten"]["cpu"]
    lines = ["| back-end (bench/measure.py, a fresh process) | obligations | CPU s | evaluate wall s | CPU vs hand-written |",
             "|---|---|---|---|---|"]
    for e in engines:
        r = m[e]
        lines.append(f"| {e} | {r['obligations']:,} | {r['cpu']:.2f} | {r['evaluate']:.2f} | {hand / r['cpu']:.2f}x |")
    tmp = DATA / "out"
    tmp.mkdir(exist_ok=True)
    duck, mine = [], []
    for _ in range(runs):
        duck.append(whole_command(folder, tmp / "duckdb.csv"))
        mine.append(measured([sys.executable, str(HERE / "handwritten.py"), str(folder), AT, str(tmp / "handwritten.csv")]))
    same = (tmp / "duckdb.csv").read_bytes() == (tmp / "handwritten.csv").read_bytes()
    d, h = middle(duck), middle(mine)
    lines += ["", f"Whole commands, CSV to a file: `clause obligations --engine duckdb` {d['cpu']:.2f} CPU s, "
              f"`bench/handwritten.py` {h['cpu']:.2f} CPU s: DuckDB {h['cpu'] / d['cpu']:.2f}x faster than the "
              f"hand-written reference; the two files {'byte-identical' if same else 'DIFFER'} "
              f"({d['rows']:,} rows). Medians of {runs} runs each."]
    return lines


RUNS = 3
NATIONAL = {"7,500 children": 7500, "75,000 children": 75000, "300,000 children": 300000, "1,000,000 children": None}


def national() -> str:
    """BENCH_NATIONAL=1: the whole command on 7.5k, 75k, 300k children (the first of the 1M-child year) and
    1M, at default settings, against the floor; written to bench/national.md. The sizes are run in turn,
    RUNS rounds (median CPU of each size): the machine's speed drifts over the bench's half hour by as much
    as 15%, and run size after size that drift would show as growth with size."""
    folder = generate("national year", 1_000_000, None)
    loads = {name: subset(folder, n) if n else folder for name, n in NATIONAL.items()}
    lines = ["| load | children | episodes | obligations | runs | CPU s | wall s | peak MB | CPU s per 1,000 children "
             "| against 75,000 | floor CPU s | floor peak MB | floor CPU s per 1,000 children | floor against 75,000 "
             "| CPU over floor | read + rules CPU s per 1,000 children | output CPU s per million obligations |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    tmp = DATA / "out"
    tmp.mkdir(exist_ok=True)
    got: dict[str, tuple[list[dict], list[dict], list[dict]]] = {name: ([], [], []) for name in loads}
    for round_ in range(RUNS):
        for name, f in loads.items():
            ours, bare, split = got[name]
            ours.append(whole_command(f, tmp / "national.csv"))
            bare.append(floor(f, ours[-1]["rows"], tmp / "national.csv"))
            split.append(measure("duckdb", f))
            print(f"round {round_ + 1}: {name}: {ours[-1]['cpu']:.1f} CPU s, floor {bare[-1]['cpu']:.1f}", file=sys.stderr)
    base: dict[str, float] = {}
    for name, f in loads.items():
        children, episodes = counts(f)
        r, b, m = (middle(rs) for rs in got[name])
        per, floor_per = 1000 * r["cpu"] / children, 1000 * b["cpu"] / children
        if NATIONAL[name] == 75000:
            base = {"ours": per, "floor": floor_per}
        against = (lambda v, k: f"{v / base[k]:.2f}x" if base else "")  # noqa: E731
        lines.append(f"| {name} | {children:,} | {episodes:,} | {r['rows']:,} | {RUNS} | {r['cpu']:.1f} | {r['wall']:.1f} | "
                     f"{r['peak_mb']:,.0f} | {per:.3f} | {against(per, 'ours')} | {b['cpu']:.1f} | {b['peak_mb']:,.0f} | "
                     f"{floor_per:.3f} | {against(floor_per, 'floor')} | {r['cpu'] / b['cpu']:.2f}x | "
                     f"{1000 * (m['cpu_read'] + m['cpu_evaluate']) / children:.3f} | "
                     f"{1e6 * m['cpu_write'] / m['obligations']:.2f} |")
    (tmp / "national.csv").unlink(missing_ok=True)
    return ("# National scale\n\n" + f"`clause obligations FOLDER --engine duckdb --format csv -o FILE --at {AT}`, a fresh "
            f"process each, at default settings (DuckDB memory limit and chunk size of engine/backends/duck.py), on the "
            f"first N children of a synthetic 1,000,000-child 2024 year (facts/synth.py, seed 1); {os.cpu_count()} cores, "
            "shared. CPU s: user + system of the process (all threads), the median of the runs; the sizes run in turn, "
            f"{RUNS} rounds, each size's command then its floor then its split, so the machine's drift falls on every "
            "size alike; peak MB: its maximum resident memory. The floor: "
            "bench/floor.py on the same folder, as many rows (bare DuckDB reads the CSV files, sorts and writes; "
            "DuckDB's default memory limit, most of the machine's memory). \"Against 75,000\": the CPU per child over "
            "the same at 75,000 children (1.00x is linear). The last two columns split the same work "
            "in another fresh process (bench/measure.py, the run of median CPU): reading the facts and running the rules, which go a chunk of "
            "children at a time, against the output, one sort of every obligation then the CSV (streamed to /dev/null).\n\n"
            + "\n".join(lines) + "\n")


def counts(folder: Path) -> tuple[int, int]:
    lines = lambda f: sum(1 for _ in (folder / f).open(encoding="utf-8")) - 1  # noqa: E731
    return lines("children.csv"), lines("episodes.csv")


def cold(args: list[str], runs: int = 3) -> float:
    """The fastest of `runs` fresh `clause` processes (the compiled policy cached on disk, as after any first run)."""
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "cli.main", *args], cwd=ROOT, check=True, capture_output=True)
        times.append(time.perf_counter() - t)
    return min(times)


def askable(folder: Path) -> list[tuple[str, str, int]]:
    """(child, action, episodes) for each child with a recorded action, asked about its most recorded one."""
    with (folder / "actions.csv").open(encoding="utf-8") as fh:
        recorded = Counter((r["child"], r["action"]) for r in csv.DictReader(fh))
    with (folder / "episodes.csv").open(encoding="utf-8") as fh:
        episodes = Counter(r["child"] for r in csv.DictReader(fh))
    action: dict[str, str] = {}
    for (child, name), k in sorted(recorded.items()):
        if k > recorded.get((child, action.get(child, "")), 0):
            action[child] = name
    return [(c, action[c], episodes[c]) for c in sorted(action)]


def warm_why(folder: Path, n: int = 40) -> dict:
    """`clause why` in one process, as a worklist tool calls it: a first call on a child outside the
    sample (imports, policy, grammar warm), then every k-th askable child and the busiest one, once each."""
    from click.testing import CliRunner

    from cli.main import main

    def ask(child: str, action: str) -> float:
        t = time.perf_counter()
        result = CliRunner().invoke(main, ["why", str(folder), "--child", child, "--action", action, "--at", AT])
        assert result.exit_code == 0, result.output
        return time.perf_counter() - t

    every = askable(folder)
    busiest = max(every, key=lambda x: (x[2], x[0]))
    sample = sorted(set(every[:: max(1, len(every) // n)]) | {busiest})
    ask(*next(x for x in every if x not in sample)[:2])
    took = {x: ask(*x[:2]) for x in sample}
    times = sorted(took.values())
    return {"n": len(times), "median": statistics.median(times), "p90": times[int(0.9 * (len(times) - 1))],
            "busiest": took[busiest], "busiest_child": busiest[0], "busiest_episodes": busiest[2],
            "median_episodes": statistics.median(x[2] for x in sample)}


def row(load: str, r: dict, children: int, episodes: int, reference_rate: float | None) -> str:
    total = r["read"] + r["evaluate"] + r["write"]
    rate = r["episodes"] / r["evaluate"] if r.get("episodes") else episodes / r["evaluate"]
    ratio = f"{rate / reference_rate:.1f}x" if reference_rate else "-"
    return (f"| {load} | {r['engine']} | {r.get('children', children):,} | {r.get('episodes', episodes):,} | "
            f"{r['obligations']:,} | {r['read']:.2f} | {r['evaluate']:.2f} | {r['write']:.2f} | {total:.2f} | "
            f"{r['peak_mb']:,.0f} | {r['obligations'] / total:,.0f} | {ratio} |")


def main() -> None:
    sys.path.insert(0, str(ROOT))
    if os.environ.get("BENCH_NATIONAL") == "1":
        text = national()
        write_atomic(HERE / "national.md", text)
        print(text)
        return
    if os.environ.get("BENCH_FLOOR") == "1":
        runs = int(os.environ.get("BENCH_RUNS", "3"))
        text = ("# UK year: the whole command against the floor\n\n" + f"Synthetic 2024 UK-sized year (facts/synth.py, "
                f"75,000 children, seed 1), as at {AT}; {os.cpu_count()} cores, shared. CPU s: user + system of the "
                "process (all threads); peak MB: its maximum resident memory.\n\n"
                + "\n".join(against_floor(generate("UK year", *LOADS["UK year"]), runs)) + "\n")
        write_atomic(HERE / "floor.md", text)
        print(text)
        return
    quick = os.environ.get("BENCH_QUICK") == "1"
    lines = ["| load | back-end | children | episodes | obligations | read s | evaluate s | write s | total s | "
             "peak MB | obligations/s | evaluation speed vs hand-written |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    notes = []
    folders = {name: generate(name, *spec) for name, spec in LOADS.items()}
    for name, folder in folders.items():
        children, episodes = counts(folder)
        plan = [("duckdb", folder, None)]
        if name == "Liverpool year":
            plan += [("handwritten", folder, None), ("reference", folder, None),
                     ("pydatalog", subset(folder, 300) if quick else folder, None)]
        else:
            plan += [("handwritten", subset(folder, 7500), None), ("reference", subset(folder, 7500), None),
                     ("pydatalog", subset(folder, 300), None)]
        results = [measure(engine, f, s, runs=5 if engine == "duckdb" else 1) for engine, f, s in plan]
        ref = next(r for r in results if r["engine"] == "handwritten")
        ref_rate = ref["episodes"] / ref["evaluate"]
        for r in results:
            sub = f" (first {r['children']:,} children)" if r.get("children", children) != children else ""
            lines.append(row(name + sub, r, children, episodes, ref_rate))
            print(lines[-1], file=sys.stderr)
    # extracts: the UK year as SSD tables against the same facts as native CSV, both with DuckDB, in this run
    for kind in ("ssd",):
        extract, native = generate_extract("UK year", *LOADS["UK year"], kind)
        pair = [measure("duckdb", native, runs=3), measure("duckdb", extract, runs=3)]
        ref_rate = None
        for label, r in zip(("UK year, native CSV of the SSD facts", "UK year, SSD extract"), pair):
            lines.append(row(label, r, *counts(native), ref_rate))
            print(lines[-1], file=sys.stderr)
        t = [r["read"] + r["evaluate"] + r["write"] for r in pair]
        notes.append(f"- the UK year's SSD extract took {t[1] / t[0]:.2f}x the time of the same facts as native CSV")
    floor_lines = against_floor(folders["UK year"])
    hand_lines = against_handwritten(folders["Liverpool year"])
    why = warm_why(folders["Liverpool year"])
    single = cold(["obligations", "examples/cp-plan-missing-with-parents.yaml"])
    out = DATA / "out"  # a regular file: the one atomic writer refuses to replace a device such as /dev/null
    out.mkdir(exist_ok=True)
    whole = cold(["obligations", str(folders["Liverpool year"]), "--format", "csv", "-o", str(out / "whole.csv"), "--at", AT])
    report = cold(["report", str(folders["UK year"]), "--from", "2024-01-01", "--to", "2024-12-31",
                   "-o", str(out / "report.html")], runs=1)
    notes.append(f"- `clause obligations examples/cp-plan-missing-with-parents.yaml`, a fresh process: {single:.2f} s")
    notes.append(f"- `clause report` on the UK year folder for all of 2024, HTML with charts, a fresh process: {report:.2f} s")
    notes.append(f"- `clause obligations` on the Liverpool year folder, CSV, a fresh process (interpreter start, imports, "
                 f"policy from the cache, evaluation, writing): {whole:.2f} s")
    notes.append(f"- `clause why` on the Liverpool year folder, one child at a time in a warm process ({why['n']} children: "
                 f"every k-th child with a recorded action, asked about its most recorded action, and the busiest): "
                 f"median {why['median'] * 1000:.0f} ms (median child {why['median_episodes']:.0f} episode(s)), "
                 f"90th percentile {why['p90'] * 1000:.0f} ms, the busiest child ({why['busiest_child']}, "
                 f"{why['busiest_episodes']} episodes) {why['busiest'] * 1000:.0f} ms. Each reads only that child's rows, "
                 "re-derives the asked action's obligations with pyDatalog and explains every one of them")
    text = ("# Benchmark\n\n" + f"Synthetic 2024 loads (facts/synth.py, seed 1), as at {AT}; {os.cpu_count()} cores. "
            "read: facts from the CSV folder (DuckDB reads it directly; the others use facts.bulk.load_bulk); "
            "evaluate: base facts, rules, obligations with status; write: every obligation as CSV. "
            "Evaluation speed vs hand-written: episodes evaluated a second, over those of bench/handwritten.py (the "
            "bundled policy's rules written by hand in plain Python over the shared lifecycle, the honest plain-Python "
            "reference; tests/test_handwritten.py holds it to pyDatalog's output) on its load; `reference` is "
            "bench/reference.py, engine/backends/reference.py's generic interpreter of the Datalog program, kept as "
            "the test oracle. Timings in this table are wall seconds.\n\n" + "\n".join(lines)
            + "\n\n## Liverpool year: DuckDB against the hand-written reference (CPU)\n\n" + "\n".join(hand_lines)
            + "\n\n## UK year: the whole command against the floor\n\n" + "\n".join(floor_lines)
            + "\n\n" + "\n".join(notes) + "\n")
    from interactive import section  # bench/interactive.py: engine crossover, interactive commands (issue 19)
    text += "\n" + section()
    write_atomic(HERE / "results.md", text)
    print(text)


if __name__ == "__main__":
    main()
