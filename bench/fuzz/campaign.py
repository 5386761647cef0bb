"""`make fuzz`'s campaign: every kind's inputs 0..FUZZ_BUDGET-1 in worker subprocesses, then bench/robustness.md.

Environment: FUZZ_BUDGET (inputs per kind, default 100000: issue 20's target; about an hour on two
cores), FUZZ_JOBS (worker processes at once, default one per core), FUZZ_KINDS (comma-separated
short names, default all: policy, case, bulk, http, extract),
FUZZ_BATCH (inputs per worker process, default 2500), FUZZ_CLI_SAMPLE (inputs per kind also run
through the real `clause` command, default 20), FUZZ_OUT (default bench/robustness.md;
the figures also go to the same name with .json), FUZZ_MERGE (an earlier run's .json: its kinds not
run now are kept in the report with their own commit; what it found in a kind run again is listed).

Each batch runs in `python -m bench.fuzz.worker`; a watchdog kills a worker that reports nothing
for HANG_SECONDS + GRACE (code stuck outside Python, where the worker's own alarm cannot fire):
that input is a hang, and a worker that dies makes its input a crash; either way the batch goes
on from the next input in a new worker. Peak memory is the largest ru_maxrss any worker reported.
"""
from __future__ import annotations

import json
import os
import platform
import queue
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from bench.fuzz.common import CRASH, HANG, HANG_SECONDS, Kind
from bench.fuzz.report import write_report
from compiler.core.files import write_atomic

ROOT = Path(__file__).resolve().parents[2]
GRACE = 20.0
NAMES = ("policy", "case", "bulk", "http", "extract")


@dataclass
class Tally:
    """What one kind's inputs came to."""
    kind: str
    title: str = ""
    seed: int = 0
    counts: Counter = field(default_factory=Counter)
    details: Counter = field(default_factory=Counter)
    seconds: float = 0.0  # worker wall time, start-up included
    rss_kib: int = 0
    slowest: tuple[float, int, str] = (0.0, -1, "")
    failures: list[dict] = field(default_factory=list)
    restarts: int = 0
    cli: list[dict] = field(default_factory=list)
    commit: str = ""  # the commit and date this kind's inputs ran at
    date: str = ""

    def add(self, r: dict) -> None:
        self.counts[r["outcome"]] += 1
        if r.get("detail"):
            self.details[r["detail"]] += 1
        self.rss_kib = max(self.rss_kib, r.get("rss", 0))
        if r["ms"] > self.slowest[0]:
            self.slowest = (r["ms"], r["i"], r.get("label", ""))
        if r["outcome"] in (CRASH, HANG):
            self.failures.append(r)


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value.isdigit() else default


def run_batch(kind: str, start: int, end: int, work: Path, tally: Tally, lock: threading.Lock) -> None:
    """Inputs start..end-1 of `kind` in worker processes, restarted past any input that kills or stalls one."""
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    nxt = start
    while nxt < end:
        began = time.monotonic()
        proc = subprocess.Popen([sys.executable, "-m", "bench.fuzz.worker", kind, str(nxt), str(end), str(work)],
                                cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        lines: queue.Queue = queue.Queue()
        threading.Thread(target=lambda: ([lines.put(x) for x in proc.stdout], lines.put(None)), daemon=True).start()
        err: list[str] = []
        threading.Thread(target=lambda: err.extend(proc.stderr), daemon=True).start()
        lost, first = None, True
        while True:
            try:
                line = lines.get(timeout=HANG_SECONDS + GRACE + (30 if first else 0))  # a new process: its imports
            except queue.Empty:
                proc.kill()
                lost = {"i": nxt, "outcome": HANG, "ms": (HANG_SECONDS + GRACE) * 1000, "label": "(watchdog)",
                        "error": f"no answer in {HANG_SECONDS + GRACE:.0f} s: the worker was killed"}
                break
            if line is None:
                break
            r, first = json.loads(line), False
            with lock:
                tally.add(r)
            nxt = r["i"] + 1
        rc = proc.wait()
        with lock:
            tally.seconds += time.monotonic() - began
            if lost is None and nxt < end:
                tail = "".join(err[-5:]).strip().splitlines()[-1:] or [""]
                lost = {"i": nxt, "outcome": CRASH, "ms": 0.0, "label": "(worker died)",
                        "error": f"the worker exited with {rc} during this input: {tail[0][:200]}"}
            if lost is not None:
                tally.add(lost)
                tally.restarts += 1
                nxt += 1


def cli_sample(kind: str, budget: int, sample: int, work: Path) -> list[dict]:
    """Inputs spread over the budget, run in-process and through the real `clause` command: do they agree?"""
    from bench.fuzz.worker import make_kind, one, rng_for
    k = make_kind(kind)
    if type(k).cli is Kind.cli:
        return []
    work.mkdir(parents=True, exist_ok=True)
    k.setup(work)
    clause = Path(sys.executable).with_name("clause")
    env = dict(os.environ, CLAUSE_CACHE_DIR=str(work / "cli-cache"))
    out = []
    for n in range(sample):
        i = n * budget // sample
        r = one(k, i)  # leaves this input's files on disk
        _, item = k.make(rng_for(k, i))  # the same input again (made from its index alone)
        try:
            p = subprocess.run([str(clause), *k.cli(item)], cwd=work, env=env, capture_output=True, timeout=120)
            cli = CRASH if b"Traceback" in p.stderr else k.cli_outcome(p.returncode)
            code = p.returncode
        except subprocess.TimeoutExpired:
            cli, code = HANG, None
        out.append({"i": i, "in_process": r["outcome"], "cli": cli, "exit": code, "label": r["label"]})
    return out


def main() -> None:
    from bench.fuzz.worker import make_kind
    budget = _env_int("FUZZ_BUDGET", 100_000)
    jobs = max(1, _env_int("FUZZ_JOBS", os.cpu_count() or 1))
    batch = max(1, _env_int("FUZZ_BATCH", 2500))
    sample = _env_int("FUZZ_CLI_SAMPLE", 20)
    names = [n.strip() for n in os.environ.get("FUZZ_KINDS", ",".join(NAMES)).split(",") if n.strip()]
    out = Path(os.environ.get("FUZZ_OUT", ROOT / "bench" / "robustness.md"))
    started = datetime.now(timezone.utc)
    tallies = {}
    for n in names:
        k = make_kind(n)
        tallies[n] = Tally(n, k.name, k.seed)
    lock = threading.Lock()
    with tempfile.TemporaryDirectory(prefix="clause-fuzz-") as tmp:
        work = Path(tmp)
        os.environ.setdefault("CLAUSE_CACHE_DIR", str(work / "cache"))  # the user's own caches are left alone
        tasks = [(n, s, min(s + batch, budget), work / f"{n}-{s}") for n in names for s in range(0, budget, batch)]
        began = time.monotonic()
        with ThreadPoolExecutor(jobs) as pool:
            for f in [pool.submit(run_batch, n, s, e, w, tallies[n], lock) for n, s, e, w in tasks]:
                f.result()
        wall = time.monotonic() - began
        for n in names:
            print(f"{n}: {dict(tallies[n].counts)} in {tallies[n].seconds:.0f} s", file=sys.stderr)
        if sample:
            for n in names:
                tallies[n].cli = cli_sample(n, budget, sample, work / f"{n}-cli")
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    meta = {"date": started.strftime("%Y-%m-%d %H:%M UTC"), "commit": commit or "unknown", "budget": budget, "jobs": jobs, "batch": batch,
            "wall": wall, "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.system()} "
            f"{platform.release()}, Python {platform.python_version()}", "load": os.getloadavg(), "earlier": []}
    for t in tallies.values():
        t.commit, t.date = meta["commit"], meta["date"]
    if os.environ.get("FUZZ_MERGE"):
        tallies = _merged(Path(os.environ["FUZZ_MERGE"]), tallies, meta)
    write_report(out, list(tallies.values()), meta)
    raw = {"meta": meta, "kinds": [{**asdict(t), "counts": dict(t.counts), "details": dict(t.details)}
                                   for t in tallies.values()]}
    write_atomic(out.with_suffix(".json"), json.dumps(raw, indent=1, default=str) + "\n")  # the figures, for re-reading
    bad = sum(t.counts[CRASH] + t.counts[HANG] for t in tallies.values())
    bad += sum(1 for t in tallies.values() for c in t.cli if c["cli"] != c["in_process"])
    print(f"wrote {out}; {bad} crashes, hangs or disagreements", file=sys.stderr)
    sys.exit(1 if bad else 0)


def _merged(previous: Path, tallies: dict[str, Tally], meta: dict) -> dict[str, Tally]:
    """FUZZ_MERGE=robustness.json of an earlier run: its kinds not run now are kept, each with its own
    commit and date; for a kind run again, what the earlier run found goes to meta["earlier"]."""
    raw = json.loads(previous.read_text(encoding="utf-8"))
    before = raw["meta"]
    meta["earlier"] += before.get("earlier", [])  # what runs before that one found, kept
    out = dict(tallies)
    for k in raw["kinds"]:
        old = Tally(**{**k, "counts": Counter(k["counts"]), "details": Counter(k["details"]), "slowest": tuple(k["slowest"]),
                       "commit": k.get("commit") or before.get("commit", "unknown"), "date": k.get("date") or before["date"]})
        if old.kind not in tallies:
            out[old.kind] = old
        elif old.counts[CRASH] or old.counts[HANG]:
            meta["earlier"].append({"title": old.title, "commit": old.commit, "date": old.date, "inputs": sum(old.counts.values()),
                                    "crash": old.counts[CRASH], "hang": old.counts[HANG], "failures": old.failures[:60]})
    return {n: out[n] for n in [*NAMES, *sorted(set(out) - set(NAMES))] if n in out}


if __name__ == "__main__":
    main()
