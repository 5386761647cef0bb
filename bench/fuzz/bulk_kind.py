"""Bulk CSV folders: mutated and generated children/episodes/actions files, loaded as `clause obligations` does.

Seeds: tests/data/facts/bulk and two small synthetic years (facts/synth.py, 4 and 12 children).
Input: {file name: bytes} for the folder (one file mutated, a file dropped or emptied, or every
file generated from the columns of facts/bulk.py with cells from a pool of hard values). Run:
load_bulk (the Python reader); a loaded folder is evaluated with pyDatalog child by child
(evaluate_partitioned) at a fixed time and rendered as CSV. One input in DUCK is also given to DuckDB
(duck_load.py's fast reader, or load_bulk where it declines): its CSV must be byte-identical, or its
diagnostics the same codes at the same places.
"""
from __future__ import annotations

import random
from datetime import datetime
from pathlib import Path

from compiler.core.diagnostics import ClauseError, display_path
from bench.fuzz.common import RESULT, Kind, check_diagnostics, duck_agrees, duck_refuses, line_count, places, pydatalog_csv
from bench.fuzz.mutate import HARD_TIMES, HUGE_NUMBERS, STRANGE, mutate

ROOT = Path(__file__).resolve().parents[2]
FILES = ("children.csv", "episodes.csv", "actions.csv")
AT = "2024-06-09T10:00"
DUCK = 40  # one input in DUCK is also given to DuckDB (its fast CSV reader, or load_bulk where it declines)
CELLS = ["", "C1", "C2", "E1", "E2", "true", "false", "yes", "0", "1", "high", "low", "liverpool", "sefton",
         "merseyside", "looked_after;cse", ";", ";;", "child_protection_plan", "strategy_discussion", "team_manager",
         '"quoted, with comma"', '"unterminated', '""', " C1 ", "2024-03-04T08:00", "2012-05-01", "nope"] \
    + [t.decode() for t in HARD_TIMES] + [n.decode("utf-8", "replace") for n in HUGE_NUMBERS] \
    + [s.decode("utf-8", "replace") for s in STRANGE]


def _synth(children: int, seed: int) -> dict[str, bytes]:
    import tempfile

    from facts.bulk import write_bulk
    from facts.synth import synthesize
    with tempfile.TemporaryDirectory() as tmp:
        write_bulk(synthesize(children, seed), tmp)
        return {f: (Path(tmp) / f).read_bytes() for f in FILES if (Path(tmp) / f).exists()}


def _generated(rng: random.Random) -> dict[str, bytes]:
    from facts.bulk import COLUMNS
    out = {}
    for name, kind in zip(FILES, ("child", "episode", "action")):
        if name == "actions.csv" and rng.random() < 0.3:
            continue
        cols = list(COLUMNS[kind])
        rng.shuffle(cols)
        if rng.random() < 0.2:
            cols = cols[:rng.randint(0, len(cols))] + rng.choice([[], ["extra"], [cols[0] if cols else "id"]])
        rows = [",".join(cols)]
        for _ in range(rng.randint(0, 8)):
            width = len(cols) + rng.choice([0, 0, 0, 0, -1, 1])
            rows.append(",".join(rng.choice(CELLS) for _ in range(max(width, 0))))
        out[name] = ("\n".join(rows) + rng.choice(["\n", "", "\r\n"])).encode("utf-8")
    return out


class BulkKind(Kind):
    name, seed = "bulk CSV", 20203

    def setup(self, work: Path) -> None:
        from compiler.core.london import parse_instant
        from compiler.policy import compile_policy
        self.work, self.folder = work, work / "bulk"
        self.folder.mkdir(parents=True, exist_ok=True)
        self.at: datetime = parse_instant(AT)
        fixture = ROOT / "tests" / "data" / "facts" / "bulk"
        self.seeds = [{f: (fixture / f).read_bytes() for f in FILES}, _synth(4, 1), _synth(12, 2)]
        self.policy = compile_policy(ROOT / "policy")

    def make(self, rng: random.Random) -> tuple[str, tuple[dict[str, bytes], bool]]:
        label, files = self._make(rng)
        duck = rng.random() < 1 / DUCK  # drawn last: the files are those of the earlier campaigns
        return label + (" [both engines]" if duck else ""), (files, duck)

    def _make(self, rng: random.Random) -> tuple[str, dict[str, bytes]]:
        if rng.random() < 0.2:
            return "generated", _generated(rng)
        files = dict(rng.choice(self.seeds))
        r = rng.random()
        if r < 0.05:
            name = rng.choice(FILES)
            files.pop(name, None)
            return f"without {name}", files
        if r < 0.08:
            name = rng.choice(FILES)
            files[name] = b""
            return f"empty {name}", files
        name = rng.choice(sorted(files))
        other = rng.choice(self.seeds).get(name, b"")
        files[name], ops = mutate(rng, files[name], other)
        return f"{ops} ({name})", files

    def run(self, item: tuple[dict[str, bytes], bool]) -> str:
        from facts.bulk import load_bulk
        item, duck = item
        lines = {}
        for name in FILES:
            path = self.folder / name
            if name in item:
                path.write_bytes(item[name])
                lines[str(path)] = lines[display_path(path)] = line_count(item[name])
            elif path.exists():
                path.unlink()
        try:
            facts = load_bulk(self.folder)
            text = pydatalog_csv(self.policy, facts, self.at)
        except ClauseError as e:
            outcome = check_diagnostics(e, lines)
            if duck:
                duck_refuses(self.policy, self.folder, self.at, places(e))
            return outcome
        if duck:
            duck_agrees(self.policy, self.folder, self.at, self.work, text)
        return RESULT

    def cli(self, item: tuple[dict[str, bytes], bool]) -> list[str]:
        return ["obligations", "--policy", str(ROOT / "policy"), "--engine", "pydatalog", "--at", AT,
                "--format", "csv", str(self.folder)]
