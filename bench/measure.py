"""One benchmark measurement, run in a fresh process so its peak memory is its own.

Usage: python bench/measure.py ENGINE FOLDER AT [CHILDREN]
ENGINE: duckdb | pydatalog | reference | handwritten (bench/handwritten.py). FOLDER: a bulk CSV folder. CHILDREN: evaluate only
the first N children (a sample). Prints one JSON object: seconds to read the facts, to
evaluate, to write every obligation as CSV (DuckDB: streamed to /dev/null, as `clause
obligations` streams it; the others: rendered to one string, as `clause obligations` does
for them), the obligation count and the process's peak resident memory (MB, ru_maxrss); for
DuckDB on a whole folder also the CPU seconds (all threads) of each of the three.
"""
from __future__ import annotations

import json
import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    engine, folder, at_text = sys.argv[1:4]
    sample = int(sys.argv[4]) if len(sys.argv) > 4 else None
    from compiler.policy import compile_policy
    from compiler.core.london import parse_instant
    at = parse_instant(at_text)
    policy = compile_policy()
    out: dict = {"engine": engine}
    if engine == "duckdb" and sample is None:
        from engine.backends.duck import evaluate_duck, sql_program
        from engine.output.stream import write_csv
        sql_program(policy)
        marks: dict[str, tuple[float, float]] = {}
        t0, c0 = time.perf_counter(), time.process_time()
        from facts.extracts import extract_of
        extract = extract_of(folder, "auto")  # an extract folder (SSD, SSDA903): DuckDB reads its CSV by its profile
        source = extract if extract is not None else folder
        ev = evaluate_duck(policy, source, at,
                           progress=lambda step: marks.setdefault(step, (time.perf_counter(), time.process_time())))
        t1, c1 = time.perf_counter(), time.process_time()
        with open(os.devnull, "w", encoding="utf-8") as sink:
            write_csv(ev, "bulk", sink.write)
        t2, c2 = time.perf_counter(), time.process_time()
        (tr, cr) = marks["facts read"]
        out.update(read=tr - t0, evaluate=t1 - tr, write=t2 - t1, obligations=ev.count,
                   cpu_read=cr - c0, cpu_evaluate=c1 - cr, cpu_write=c2 - c1)
    else:
        from facts.bulk import load_bulk
        t0 = time.perf_counter()
        facts = load_bulk(folder)
        if sample is not None:
            keep = {c.id for c in facts.children[:sample]}
            facts = type(facts)(facts.children[:sample], tuple(e for e in facts.episodes if e.child in keep),
                                tuple(a for a in facts.actions if a.child in keep))
        t1 = time.perf_counter()
        if engine == "pydatalog":
            from engine.evaluation import evaluate
            obligations = evaluate(policy, facts, at).obligations
        elif engine == "duckdb":
            from engine.backends.duck import evaluate_duck
            obligations = evaluate_duck(policy, facts, at).obligations
        elif engine == "handwritten":
            from handwritten import evaluate_handwritten
            obligations = evaluate_handwritten(facts, at)
        else:
            from reference import evaluate_reference
            obligations, _ = evaluate_reference(policy, facts, at)
        t2 = time.perf_counter()
        from engine.output import render
        from engine.backends.partition import MergedEvaluation
        from engine.backends.batch import Run
        render.as_csv([(Run("bulk", None, MergedEvaluation(at, tuple(obligations), ())), list(obligations))])
        t3 = time.perf_counter()
        out.update(read=t1 - t0, evaluate=t2 - t1, write=t3 - t2, obligations=len(obligations),
                   episodes=len(facts.episodes), children=len(facts.children))
    usage = resource.getrusage(resource.RUSAGE_SELF)
    out["peak_mb"] = usage.ru_maxrss / 1024
    out["cpu"] = usage.ru_utime + usage.ru_stime  # the whole process: start, imports, policy, read, evaluate, write
    print(json.dumps(out))


if __name__ == "__main__":
    main()
