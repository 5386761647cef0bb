"""Run inputs START..END of one kind in this process, one JSON line per input on stdout.

`python -m bench.fuzz.worker KIND START END WORKDIR`. Each input gets an interval timer of
HANG_SECONDS (SIGALRM raises Hang in Python code; code stuck in C is caught by the campaign's
watchdog, which kills this process). Line fields: i, outcome, ms, label, rss (peak resident KiB so
far), and for a crash or hang `error` (the exception's type, message and innermost frame: never
the input itself). `run_range` is the same loop for the slice test, in the caller's process.
"""
from __future__ import annotations

import json
import os
import random
import resource
import signal
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Iterator

from bench.fuzz.common import CRASH, HANG, HANG_SECONDS, Kind


class Hang(BaseException):
    """Raised by the alarm: BaseException, so no `except Exception` in the code under test swallows it."""


KINDS = {"policy": "policy_kind.PolicyKind", "case": "case_kind.CaseKind", "bulk": "bulk_kind.BulkKind",
         "http": "http_kind.HttpKind", "extract": "extract_kind.ExtractKind"}


def make_kind(name: str) -> Kind:
    """A fresh Kind of that short name (policy, case, bulk, http, extract), or of `module:Class`."""
    import importlib
    module, cls = name.split(":") if ":" in name else (f"bench.fuzz.{KINDS[name].split('.')[0]}", KINDS[name].split(".")[1])
    return getattr(importlib.import_module(module), cls)()


def rng_for(kind: Kind, i: int) -> random.Random:
    return random.Random(f"{kind.name}:{kind.seed}:{i}")


def _alarm(_signum: int, _frame: object) -> None:
    raise Hang()


def _where(e: BaseException) -> str:
    frames = traceback.extract_tb(e.__traceback__)
    inner = frames[-1] if frames else None
    place = f" at {Path(inner.filename).name}:{inner.lineno} in {inner.name}" if inner else ""
    message = str(e).splitlines()[0][:160] if str(e) else ""
    return f"{type(e).__name__}: {message}{place}"


def one(kind: Kind, i: int) -> dict:
    """Input i of `kind`, made and run under the alarm -> its JSON record."""
    label = "?"
    start = time.perf_counter()
    timed = threading.current_thread() is threading.main_thread()  # signals reach the main thread only
    if timed:
        old = signal.signal(signal.SIGALRM, _alarm)
        signal.setitimer(signal.ITIMER_REAL, HANG_SECONDS)
    kind.detail = ""
    try:
        label, item = kind.make(rng_for(kind, i))
        outcome, error = kind.run(item), ""
    except Hang:
        outcome, error = HANG, f"over {HANG_SECONDS:.0f} s"
    except BaseException as e:  # noqa: BLE001 - anything else is what the campaign looks for
        if isinstance(e, KeyboardInterrupt):
            raise
        outcome, error = CRASH, _where(e)
    finally:
        if timed:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, old)
    ms = (time.perf_counter() - start) * 1000
    if outcome != HANG and ms > HANG_SECONDS * 1000:  # untimed, or the alarm came too late to interrupt
        outcome, error = HANG, f"{ms / 1000:.1f} s"
    out = {"i": i, "outcome": outcome, "ms": round(ms, 2), "label": label,
           "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}
    if error:
        out["error"] = error
    if getattr(kind, "detail", ""):
        out["detail"] = kind.detail
    return out


def run_range(kind: Kind, start: int, end: int, work: Path) -> Iterator[dict]:
    kind.setup(work)
    for i in range(start, end):
        yield one(kind, i)


def main(argv: list[str]) -> None:
    name, start, end, work = argv[0], int(argv[1]), int(argv[2]), Path(argv[3])
    work.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("CLAUSE_CACHE_DIR", str(work / "cache"))
    kind = make_kind(name)
    for record in run_range(kind, start, end, work):
        sys.stdout.write(json.dumps(record) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main(sys.argv[1:])
