"""Extracts: mutated SSD and SSDA903 tables and mutated profiles, read as `clause obligations --profile` does.

Seeds: two small synthetic years (facts/synth.py, 4 and 12 children) written as each shipped
profile's tables (facts/extracts/write.py), and the shipped profiles' YAML. Input: the extract's
{file name: bytes} and a profile (a shipped name, or the bytes of a mutated copy of its YAML, one in
six). One table is mutated, dropped or emptied, or the profile is. Run: the profile and every
table through the Python reader (read_extract: every input); one input in EVALUATE also evaluated with
pyDatalog child by child and rendered as CSV; one in DUCK also given to DuckDB on the same folder
(engine/backends/duck_extract.py reads the CSV in SQL, or declines to the Python reader), whose CSV
must be byte-identical, or its diagnostics the same codes at the same places. Evaluation is sampled
because it costs 30 to 100 times the reading (170 ms and 700 ms against 2 to 6 ms for 12 children),
and the other kinds drive it; what is new here is the reader. Anything else is a crash.
"""
from __future__ import annotations

import random
from datetime import datetime
from pathlib import Path

from compiler.core.diagnostics import ClauseError, display_path
from bench.fuzz.common import RESULT, Kind, check_diagnostics, duck_agrees, duck_refuses, line_count, places, pydatalog_csv
from bench.fuzz.mutate import mutate

AT = "2025-01-01T00:00"
PROFILES = ("ssd", "ssda903")
EVALUATE, DUCK = 8, 40  # one input in EVALUATE is evaluated, one in DUCK also on DuckDB


def _seed(children: int, seed: int, kind: str) -> dict[str, bytes]:
    import tempfile

    from facts.extracts import load_profile
    from facts.extracts.write import as_extract, write_extract
    from facts.synth import synthesize
    with tempfile.TemporaryDirectory() as tmp:
        write_extract(as_extract(synthesize(children, seed), kind, seed), tmp, load_profile(kind), kind)
        return {p.name: p.read_bytes() for p in sorted(Path(tmp).iterdir())}


class ExtractKind(Kind):
    name, seed = "extracts", 20205

    def setup(self, work: Path) -> None:
        from compiler.core.london import parse_instant
        from compiler.policy import compile_policy
        from facts.extracts.profile import SHIPPED
        self.work, self.folder, self.profile_file = work, work / "extract", work / "profile.yaml"
        self.folder.mkdir(parents=True, exist_ok=True)
        self.at: datetime = parse_instant(AT)
        self.seeds = [(kind, _seed(n, s, kind)) for kind in PROFILES for n, s in ((4, 1), (12, 2))]
        self.yaml = {kind: (SHIPPED / f"{kind}.yaml").read_bytes() for kind in PROFILES}
        self.policy = compile_policy(Path(__file__).resolve().parents[2] / "policy")

    def make(self, rng: random.Random) -> tuple[str, tuple[str, bytes | None, dict[str, bytes], int]]:
        label, item = self._make(rng)
        return label + ("", " [evaluated]", " [both engines]")[item[3]], item

    def _make(self, rng: random.Random) -> tuple[str, tuple[str, bytes | None, dict[str, bytes], int]]:
        kind, files = rng.choice(self.seeds)
        files = dict(files)
        depth = 2 if rng.random() < 1 / DUCK else 1 if rng.random() < 1 / EVALUATE else 0  # read; evaluate; DuckDB too
        if rng.random() < 1 / 6:
            data, ops = mutate(rng, self.yaml[kind], self.yaml[rng.choice(PROFILES)])
            return f"{ops} ({kind} profile)", (kind, data, files, depth)
        name = rng.choice(sorted(files))
        r = rng.random()
        if r < 0.05:
            files.pop(name)
            return f"without {name}", (kind, None, files, depth)
        if r < 0.08:
            files[name] = b""
            return f"empty {name}", (kind, None, files, depth)
        other = rng.choice(self.seeds)[1]
        files[name], ops = mutate(rng, files[name], other.get(name) or files[name])
        return f"{ops} ({kind}/{name})", (kind, None, files, depth)

    def _write(self, kind: str, profile: bytes | None, files: dict[str, bytes]) -> tuple[str, dict[str, int]]:
        lines = {}
        for old in self.folder.iterdir():
            old.unlink()
        for name, data in files.items():
            path = self.folder / name
            path.write_bytes(data)
            lines[str(path)] = lines[display_path(path)] = line_count(data)
        if profile is None:
            return kind, lines
        self.profile_file.write_bytes(profile)
        lines[str(self.profile_file)] = lines[display_path(self.profile_file)] = line_count(profile)
        return str(self.profile_file), lines

    def run(self, item: tuple[str, bytes | None, dict[str, bytes], int]) -> str:
        from facts.extracts import Extract, load_profile, read_extract
        kind, profile, files, depth = item
        name, lines = self._write(kind, profile, files)
        try:
            extract = Extract(self.folder, load_profile(name))
        except ClauseError as e:
            return check_diagnostics(e, lines)
        try:
            facts, _notes = read_extract(extract)
            if not depth:
                return RESULT
            text = pydatalog_csv(self.policy, facts, self.at)
        except ClauseError as e:
            outcome = check_diagnostics(e, lines)
            if depth == 2:
                duck_refuses(self.policy, extract, self.at, places(e))
            return outcome
        if depth == 2:
            duck_agrees(self.policy, extract, self.at, self.work, text)
        return RESULT

    def cli(self, item: tuple[str, bytes | None, dict[str, bytes], int]) -> list[str]:
        kind, profile, _files, _depth = item
        name = str(self.profile_file) if profile is not None else kind
        return ["obligations", "--policy", str(Path(__file__).resolve().parents[2] / "policy"), "--engine", "pydatalog",
                "--at", AT, "--format", "csv", "--profile", name, str(self.folder)]
