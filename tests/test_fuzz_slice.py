"""A small, fixed slice of `make fuzz`'s campaign (bench/fuzz): no input of any kind crashes or hangs.

Inputs 0..SLICE-1 of each kind (policy text, case YAML, bulk CSV, HTTP requests to `clause serve`),
the same inputs the campaign starts with, run in this process with the campaign's checks. The
harness itself is tested too: a kind that raises, breaks an invariant or stalls is reported as a
crash or a hang, never as a pass.
"""
from __future__ import annotations

import random
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.fuzz import worker  # noqa: E402
from bench.fuzz.common import CRASH, DIAGNOSTICS, HANG, RESULT, Bad, Kind  # noqa: E402

SLICE = 50


@pytest.mark.parametrize("kind", ["policy", "case", "bulk", "http"])
def test_slice_has_no_crash_or_hang(kind: str, tmp_path: Path) -> None:
    records = list(worker.run_range(worker.make_kind(kind), 0, SLICE, tmp_path))
    failed = [r for r in records if r["outcome"] in (CRASH, HANG)]
    assert not failed, failed
    assert {r["outcome"] for r in records} <= {RESULT, DIAGNOSTICS}
    assert len(records) == SLICE


def test_inputs_are_made_from_their_index_alone(tmp_path: Path) -> None:
    k = worker.make_kind("case")
    k.setup(tmp_path)
    assert k.make(worker.rng_for(k, 7)) == k.make(worker.rng_for(k, 7))
    assert k.make(worker.rng_for(k, 7)) != k.make(worker.rng_for(k, 8))


class _Broken(Kind):
    name, seed = "broken", 1

    def __init__(self, what: str) -> None:
        self.what = what

    def make(self, rng: random.Random) -> tuple[str, str]:
        return self.what, self.what

    def run(self, item: str) -> str:
        if item == "raise":
            raise KeyError("x")
        if item == "bad":
            raise Bad("a diagnostic without a span")
        if item == "stall":
            time.sleep(5)
        return RESULT


@pytest.mark.parametrize("what, outcome", [("raise", CRASH), ("bad", CRASH), ("stall", HANG), ("fine", RESULT)])
def test_the_harness_reports_what_goes_wrong(what: str, outcome: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(worker, "HANG_SECONDS", 0.2)
    r = worker.one(_Broken(what), 0)
    assert r["outcome"] == outcome, r
    if outcome == CRASH:
        assert "KeyError" in r["error"] or "Bad" in r["error"]
