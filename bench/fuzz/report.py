"""bench/robustness.md from the campaign's tallies: one row per kind, then statuses, CLI agreement, failures.

Input: the tallies (campaign.Tally) and the run's facts (date, machine, budget, jobs, wall time).
Output: a markdown file written atomically. Every figure in it is a count or a measurement of
this run; the rate is inputs per second of worker wall time (imports and set-up included).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from compiler.core.files import write_atomic

TARGET = 100_000


def _mib(kib: int) -> str:
    return f"{kib / 1024:.0f}"


def _duration(seconds: float) -> str:
    m, s = divmod(round(seconds), 60)
    h, m = divmod(m, 60)
    return f"{h} h {m} min" if h else f"{m} min {s} s" if m else f"{s} s"


def write_report(out: Path, tallies: list[Any], meta: dict) -> None:
    total = lambda t: sum(t.counts.values())  # noqa: E731
    crashes = sum(t.counts["crash"] for t in tallies)
    hangs = sum(t.counts["hang"] for t in tallies)
    lines = [
        "# Robustness: the fuzz campaign",
        "",
        f"Written by `make fuzz` (bench/fuzz/campaign.py) on {meta['date']}, at commit {meta.get('commit', 'unknown')}"
        + (" (kinds run at other commits say so in the table)" if any(getattr(t, "commit", "") not in ("", meta.get("commit"))
                                                                    for t in tallies) else "") + f"; {meta['machine']}; "
        f"{meta['jobs']} worker process{'es' if meta['jobs'] != 1 else ''} at a time, {meta['batch']:,} inputs per "
        f"process; {_duration(meta['wall'])} for the inputs below; load average at the end "
        f"{meta['load'][0]:.1f} (rates are what this run got on this machine, with whatever else ran on it).",
        "",
        f"Budget: **{meta['budget']:,} inputs per kind** (`FUZZ_BUDGET`). Input *i* of a kind is made from "
        "`random.Random(f\"{kind}:{seed}:{i}\")` alone: `python -m bench.fuzz.worker KIND I I+1 /tmp/fz` remakes "
        "and runs it. Outcomes: *result* (accepted and processed to the end: compiled, loaded, evaluated, "
        "rendered; for HTTP a 2xx or 3xx answer), *diagnostics* (refused with diagnostics that each have a code, "
        "a message and a span in the file; for HTTP a 4xx), *crash* (any other exception, a diagnostic without "
        "a span, a worker that died, an HTTP 5xx or unescaped markup), *hang* (over 10 s for one input).",
        "",
        f"**{crashes} crashes, {hangs} hangs** in {sum(total(t) for t in tallies):,} inputs.",
        "",
        "| kind | seed | inputs | result | diagnostics | crash | hang (> 10 s) | inputs/s | peak memory (MiB) | slowest input | commit, date |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for t in tallies:
        n = total(t)
        rate = n / t.seconds if t.seconds else 0.0
        ms, i, label = t.slowest
        lines.append(f"| {t.title} | {t.seed} | {n:,} | {t.counts['result']:,} | {t.counts['diagnostics']:,} | "
                     f"{t.counts['crash']} | {t.counts['hang']} | {rate:.1f} | {_mib(t.rss_kib)} | "
                     f"{ms / 1000:.2f} s (#{i}: {label}) | {getattr(t, 'commit', '') or meta.get('commit', '')}, "
                     f"{getattr(t, 'date', '') or meta['date']} |")
    lines += ["", f"**The target of issue 20, {TARGET:,} inputs per kind with 0 crashes and 0 hangs**, "]
    short = [t for t in tallies if total(t) < TARGET]
    if not short and not crashes + hangs:
        lines[-1] += "is met for every kind."
    elif not short:
        lines[-1] += f"is not met: {crashes} crashes and {hangs} hangs (below)."
    else:
        lines[-1] += ("is not met by this run: at the rates measured, one worker process would need "
                      + "; ".join(f"{_duration(TARGET / (total(t) / t.seconds))} for {t.title}" for t in short
                                  if t.seconds and total(t))
                      + f". `FUZZ_BUDGET={TARGET} FUZZ_JOBS=2 make fuzz` runs it (a longer run than `make fuzz`'s default).")
    from bench.fuzz.mutate import OPERATORS
    lines += ["", "Peak memory is the largest resident set (ru_maxrss) of any worker process of that kind, "
              "Python, the compiled policy and pyDatalog included.", "",
              "**What the inputs are** (bench/fuzz/*_kind.py). Policy text: the small fixture policy and each "
              "bundled file with its documents file, one file mutated (three in four) or a generated clause file "
              "beside them (one in four); compiled from disk, and a policy that compiles is printed as Datalog and "
              "SQL and evaluated on an example case. Case YAML: the regression cases, the examples and the fixture "
              "cases mutated (seven in ten), generated trees of the format's keys, and generated well-formed cases "
              "with clock-change times; a loaded case is evaluated at its as_of, rendered as a table and JSON, and "
              "its first obligation explained. Bulk CSV: the fixture folder and two synthetic years (4 and 12 "
              "children), one file mutated, dropped or emptied, or every file generated; a loaded folder is "
              "evaluated with pyDatalog child by child and rendered as CSV, and one input in forty is also run on "
              "DuckDB (its fast CSV reader), whose CSV must be byte-identical or whose diagnostics the same. "
              "HTTP: GET mostly, other methods, every route and odd paths, random query strings (ids, markup, "
              "clock-change and impossible dates, 100 kB values, percent-encoded invalid UTF-8), Host, token, cookie "
              "and other headers, to the app with and without a token. Extracts: SSD and SSDA903 tables of two "
              "synthetic years (4 and 12 children) as the shipped profiles write them, one table mutated, dropped or "
              "emptied, or the profile's YAML mutated (one in six); every input is read by the profile (the Python "
              "reader), one in eight is also evaluated with pyDatalog and rendered as CSV, and one in forty is also "
              "run on DuckDB (its SQL reader, or the Python reader where it declines), whose CSV must be "
              "byte-identical to pyDatalog's or whose diagnostics must be the same codes at the same places. "
              "Mutations (one to three stacked): "
              + ", ".join(f"`{n}`" for n in OPERATORS) + ". `tests/test_fuzz_slice.py` (in `make test`) runs inputs "
              "0 to 24 of each kind with the same checks, and sends the first 30 HTTP inputs to a real `clause serve` "
              "too, which gives the same status codes; it also runs the campaign's watchdog on real worker processes "
              "(one stuck where its alarm cannot reach it is killed and counted a hang, one that dies a crash)."]
    http = [t for t in tallies if t.details]
    for t in http:
        lines += ["", f"**{t.title}: status codes.** " + ", ".join(f"{code}: {n:,}" for code, n in sorted(t.details.items()))]
    sampled = [t for t in tallies if t.cli]
    if sampled:
        lines += ["", "**The same inputs through the real `clause` command** (a sample spread over the budget; "
                  "policy text: `clause check --no-analysis`, exit 0 result, 1 diagnostics; cases, bulk "
                  "folders and extracts: `clause obligations --engine pydatalog`, exit 0 result, 2 diagnostics; any other exit "
                  "or a traceback is a crash):", "",
                  "| kind | sampled | same outcome | different |", "|---|---:|---:|---|"]
        for t in sampled:
            diff = [c for c in t.cli if c["cli"] != c["in_process"]]
            shown = "; ".join(f"#{c['i']} in-process {c['in_process']}, CLI {c['cli']} (exit {c['exit']})" for c in diff[:5])
            lines.append(f"| {t.title} | {len(t.cli)} | {len(t.cli) - len(diff)} | {shown or 'none'} |")
    failures = [(t, f) for t in tallies for f in t.failures]
    lines += ["", "## Crashes and hangs", ""]
    if not failures:
        lines.append("None.")
    for t, f in failures[:60]:
        lines.append(f"- {t.title} #{f['i']} ({f.get('label', '')}), {f['outcome']}: {f.get('error', '')}")
    if len(failures) > 60:
        lines.append(f"- ... and {len(failures) - 60} more")
    for e in meta.get("earlier", []):
        lines += ["", f"## Found by an earlier run of {e['title']} (commit {e['commit']}, {e['date']}), since fixed", "",
                  f"{e['inputs']:,} inputs: {e['crash']} crashes, {e['hang']} hangs. Each input below, made again from its "
                  "index, now gives a result or diagnostics (the run above, and tests/test_fuzz_slice.py's "
                  "`test_what_the_campaign_found_stays_fixed` for a few of them).", ""]
        lines += [f"- #{f['i']} ({f.get('label', '')}), {f['outcome']}: {f.get('error', '')}" for f in e["failures"]]
    restarts = sum(t.restarts for t in tallies)
    if restarts:
        lines += ["", f"Worker processes restarted after a lost input: {restarts}."]
    write_atomic(out, "\n".join(lines) + "\n")


def rewrite(md: Path) -> None:
    """bench/robustness.md written again from the figures the campaign kept beside it (robustness.json)."""
    import json
    from collections import Counter
    from types import SimpleNamespace
    raw = json.loads(md.with_suffix(".json").read_text(encoding="utf-8"))
    tallies = [SimpleNamespace(**(k | {"counts": Counter(k["counts"]), "details": Counter(k["details"]),
                                       "slowest": tuple(k["slowest"])})) for k in raw["kinds"]]
    write_report(md, tallies, raw["meta"])


if __name__ == "__main__":
    import sys
    rewrite(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[1] / "robustness.md")
