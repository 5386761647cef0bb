"""`make bench`: both back-ends and a plain-Python reference on a Liverpool-sized and a UK-sized year.

Writes a markdown table to stdout and to bench/results.md. Loads are synthetic
(facts/synth.py, seed 1, year 2024, judged as at 2025-01-01T00:00), generated once into
bench/.data/. Each measurement runs in a fresh process (bench/measure.py), so its peak
memory (getrusage ru_maxrss) is its own. pyDatalog cannot do the UK year in reasonable
time (about 30 ms an episode: hours), so it runs on the Liverpool year and on a sample;
the reference interpreter runs on the Liverpool year and a UK sample; ratios compare
evaluation throughput (episodes a second) on the same load. BENCH_QUICK=1 replaces the
full Liverpool year for pyDatalog by a 300-child sample (minutes instead of ~6).
Timings are wall-clock on whatever machine runs this; nothing here is asserted.
"""
from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = HERE / ".data"
AT = "2025-01-01T00:00"
LOADS = {"Liverpool year": (1500, 5000), "UK year": (75000, None)}


def generate(name: str, children: int, episodes: int | None) -> Path:
    out = DATA / name.replace(" ", "-").lower()
    if not (out / "episodes.csv").is_file():
        from facts.bulk import write_bulk
        from facts.synth import synthesize
        write_bulk(synthesize(children, 1, episodes), out)
    return out


def subset(folder: Path, n: int) -> Path:
    """The first n children of a bulk folder, with their episodes and actions (streamed, no parsing of values)."""
    out = folder.with_name(f"{folder.name}-first-{n}")
    if (out / "episodes.csv").is_file():
        return out
    out.mkdir(parents=True, exist_ok=True)
    keep: set[str] = set()
    for name, key in (("children.csv", "id"), ("episodes.csv", "child"), ("actions.csv", "child")):
        with (folder / name).open(newline="", encoding="utf-8") as src, (out / name).open("w", newline="", encoding="utf-8") as dst:
            reader, writer = csv.DictReader(src), None
            for row in reader:
                if writer is None:
                    writer = csv.DictWriter(dst, reader.fieldnames, lineterminator="\n")
                    writer.writeheader()
                if name == "children.csv" and len(keep) < n:
                    keep.add(row["id"])
                if row[key] in keep:
                    writer.writerow(row)
    return out


def measure(engine: str, folder: Path, sample: int | None = None) -> dict:
    cmd = [sys.executable, str(HERE / "measure.py"), engine, str(folder), AT] + ([str(sample)] if sample else [])
    t = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, check=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["process"] = time.perf_counter() - t
    return result


def counts(folder: Path) -> tuple[int, int]:
    lines = lambda f: sum(1 for _ in (folder / f).open(encoding="utf-8")) - 1  # noqa: E731
    return lines("children.csv"), lines("episodes.csv")


def cold_obligations() -> float:
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "cli.main", "obligations", "examples/cp-plan-missing-with-parents.yaml"],
                   cwd=ROOT, check=True, capture_output=True)
    return time.perf_counter() - t


def warm_why(folder: Path) -> tuple[float, str]:
    """The second `clause why` for one child in the process (imports and caches warm)."""
    from click.testing import CliRunner

    from cli.main import main
    with (folder / "actions.csv").open(encoding="utf-8") as fh:
        child = next(r["child"] for r in csv.DictReader(fh) if r["action"] == "strategy_discussion")
    args = ["why", str(folder), "--child", child, "--action", "strategy_discussion", "--at", AT]
    times = []
    for _ in range(2):
        t = time.perf_counter()
        result = CliRunner().invoke(main, args)
        times.append(time.perf_counter() - t)
        assert result.exit_code == 0, result.output
    return times[-1], child


def row(load: str, r: dict, children: int, episodes: int, reference_rate: float | None) -> str:
    total = r["read"] + r["evaluate"] + r["write"]
    rate = r["episodes"] / r["evaluate"] if r.get("episodes") else episodes / r["evaluate"]
    ratio = f"{rate / reference_rate:.1f}x" if reference_rate else "-"
    return (f"| {load} | {r['engine']} | {r.get('children', children):,} | {r.get('episodes', episodes):,} | "
            f"{r['obligations']:,} | {r['read']:.2f} | {r['evaluate']:.2f} | {r['write']:.2f} | {total:.2f} | "
            f"{r['peak_mb']:,.0f} | {r['obligations'] / total:,.0f} | {ratio} |")


def main() -> None:
    sys.path.insert(0, str(ROOT))
    quick = os.environ.get("BENCH_QUICK") == "1"
    lines = ["| load | back-end | children | episodes | obligations | read s | evaluate s | write s | total s | "
             "peak MB | obligations/s | evaluation speed vs reference |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    notes = []
    folders = {name: generate(name, *spec) for name, spec in LOADS.items()}
    for name, folder in folders.items():
        children, episodes = counts(folder)
        plan = [("duckdb", folder, None)]
        if name == "Liverpool year":
            plan += [("reference", folder, None), ("pydatalog", subset(folder, 300) if quick else folder, None)]
        else:
            plan += [("reference", subset(folder, 7500), None), ("pydatalog", subset(folder, 300), None)]
        results = [measure(engine, f, s) for engine, f, s in plan]
        ref = next(r for r in results if r["engine"] == "reference")
        ref_rate = ref["episodes"] / ref["evaluate"]
        for r in results:
            sub = f" (first {r['children']:,} children)" if r.get("children", children) != children else ""
            lines.append(row(name + sub, r, children, episodes, ref_rate))
            print(lines[-1], file=sys.stderr)
    why, child = warm_why(folders["Liverpool year"])
    cold = cold_obligations()
    notes.append(f"- `clause why` (Liverpool year folder, child {child}, strategy_discussion), warm process: {why:.2f} s "
                 "(reads the folder with the reference loader, then re-derives the one child with pyDatalog)")
    notes.append(f"- `clause obligations examples/cp-plan-missing-with-parents.yaml`, cold process: {cold:.2f} s")
    text = ("# Benchmark\n\n" + f"Synthetic 2024 loads (facts/synth.py, seed 1), as at {AT}; {os.cpu_count()} cores. "
            "read: facts from the CSV folder (DuckDB reads it directly; the others use facts.bulk.load_bulk); "
            "evaluate: base facts, rules, obligations with status; write: every obligation as CSV. "
            "Evaluation speed vs reference: episodes evaluated a second, over the plain-Python interpreter's "
            "(bench/reference.py) on its load.\n\n" + "\n".join(lines) + "\n\n" + "\n".join(notes) + "\n")
    (HERE / "results.md").write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
