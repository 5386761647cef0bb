"""Policy text: mutated policy files and generated clauses, compiled from disk as `clause check` does.

Seeds: the small fixture policy (tests/data/policy_small) and each file of the bundled policy with
its documents file. Input: a folder's .clause files as bytes (one of them mutated, or a generated
file beside the documents). Run: compile_policy(folder); a compiled policy is also rendered
(Datalog text and SQL) and evaluated on a fixed example case with pyDatalog, whose obligations are
rendered as a table. Outcome: result, or diagnostics checked by common.check_diagnostics.
"""
from __future__ import annotations

import random
import re
import shutil
from pathlib import Path

from compiler.core import vocabulary as v
from compiler.core.diagnostics import ClauseError, display_path
from bench.fuzz.common import DIAGNOSTICS, RESULT, Kind, check_diagnostics, line_count
from bench.fuzz.mutate import mutate

ROOT = Path(__file__).resolve().parents[2]
SMALL, BUNDLED = ROOT / "tests" / "data" / "policy_small", ROOT / "policy"
CASE = ROOT / "examples" / "missing-from-home-weekend.yaml"
GRAMMAR_WORDS = sorted(set(re.findall(r'"([a-z_ ]+)"', (ROOT / "compiler" / "grammar.lark").read_text(encoding="utf-8"))))


def _groups() -> list[tuple[Path, dict[str, bytes]]]:
    """(policy root, {file name: bytes}) for each seed: the small policy whole; each bundled file with the documents."""
    small = {p.name: p.read_bytes() for p in sorted(SMALL.glob("*.clause"))}
    docs = (BUNDLED / "documents.clause").read_bytes()
    out = [(SMALL, small)]
    for p in sorted(BUNDLED.rglob("*.clause")):
        if p.name != "documents.clause":
            out.append((BUNDLED, {"documents.clause": docs, "fuzz.clause": p.read_bytes()}))
    return out


def _generated(rng: random.Random, source_words: list[str]) -> bytes:
    """A clause built from the language's words and the vocabulary, sometimes well formed, sometimes not."""
    def quote() -> str:
        i = rng.randrange(max(len(source_words) - 12, 1))
        return " ".join(source_words[i:i + rng.randint(1, 12)]).replace('"', "")

    def cond(depth: int = 0) -> str:
        atoms = [f"the child has status {rng.choice(v.STATUSES)}", f"the child has flag {rng.choice(v.FLAGS)}",
                 f"the child is aged {rng.choice([0, 11, 17, 10**30])} or {rng.choice(['under', 'over'])}",
                 f"the episode has lasted {rng.choice(['', 'more than '])}{rng.choice([0, 24, 72, 99999999999])} "
                 f"{rng.choice(['hours', 'days', 'minutes'])}",
                 f"the child has been reported missing {rng.randint(0, 9)} times within {rng.randint(0, 400)} days",
                 f"the episode has {rng.choice(v.EPISODE_BOOLEANS)}", "the child has returned", "the episode is missing",
                 f"the risk is {rng.choice(v.RISK_LEVELS)}", "reported falls on a weekend or public holiday",
                 f"{rng.randint(0, 200)} hours after reported falls on a weekend", "the child has no status",
                 f"the child has had {rng.choice(v.EPISODE_BOOLEANS)} within {rng.randint(1, 90)} days"]
        if depth < 3 and rng.random() < 0.3:
            return f"({cond(depth + 1)} {rng.choice(['and', 'or'])} {rng.choice(['', 'not '])}{cond(depth + 1)})"
        return rng.choice(atoms)

    n = rng.randint(1, 4)
    parts = []
    for k in range(n):
        then = (f"{rng.choice(v.ACTORS)} {rng.choice(v.MODALITIES)} {rng.choice(v.ACTIONS)}"
                f"{rng.choice(['', ' immediately', ' within 24 hours', ' from 72 hours after reported', ' until returned', ' every 7 days until returned', ' within 0 days of returned'])}")
        parts.append(f'clause FZ-{k} "generated {k}"\n  says "{quote()}"\n  when {cond()}\n  then {then}\n')
    if rng.random() < 0.3:
        parts.append(f'exception FZ-X "x" overrides {rng.choice(["actor of ", ""])}FZ-{rng.randrange(n + 1)}\n'
                     f'  says "{quote()}"\n  when {cond()}\n  then {rng.choice(v.ACTORS)} instead\n')
    text = "".join(parts)
    if rng.random() < 0.4:  # a token soup in the middle
        words = GRAMMAR_WORDS + list(v.ACTIONS) + ["(", ")", ",", '"', "#", "\n", "9" * 30, "-", "FZ-0"]
        cut = rng.randint(0, len(text))
        text = text[:cut] + " ".join(rng.choice(words) for _ in range(rng.randint(1, 40))) + text[cut:]
    return text.encode("utf-8")


class PolicyKind(Kind):
    name, seed = "policy text", 20201

    def setup(self, work: Path) -> None:
        from facts.yamlcase import load_case
        self.work = work
        self.groups = _groups()
        self.case = load_case(CASE)
        self.words = {r: re.findall(r"\S+", "\n".join((r / "sources" / f).read_text(encoding="utf-8")
                                                     for f in sorted(p.name for p in (r / "sources").iterdir())))
                      for r in (SMALL, BUNDLED)}
        self.folders = {}
        for r in (SMALL, BUNDLED):
            folder = work / f"policy-{r.name}"
            folder.mkdir(parents=True, exist_ok=True)
            if not (folder / "sources").exists():  # a copy: a link out of the folder is refused (E025)
                shutil.copytree(r / "sources", folder / "sources")
            self.folders[r] = folder

    def make(self, rng: random.Random) -> tuple[str, tuple[Path, dict[str, bytes]]]:
        root, files = rng.choice(self.groups)
        files = dict(files)
        if rng.random() < 0.25:
            files["generated.clause"] = _generated(rng, self.words[root])
            return f"generated ({root.name})", (root, files)
        name = rng.choice(sorted(files))
        other = rng.choice(self.groups)[1]
        data, ops = mutate(rng, files[name], other[rng.choice(sorted(other))])
        files[name] = data
        return f"{ops} ({root.name}/{name})", (root, files)

    def run(self, item: tuple[Path, dict[str, bytes]]) -> str:
        from compiler.policy import compile_policy
        from compiler.sql import translate
        from engine.evaluation import evaluate
        from engine.backends.batch import Run
        from engine.output import render
        root, files = item
        folder = self.folders[root]
        for old in folder.glob("*.clause"):
            old.unlink()
        lines = {}
        for name, data in files.items():
            (folder / name).write_bytes(data)
            lines[display_path(folder / name)] = line_count(data)
        try:
            policy = compile_policy(folder)
            policy.program.to_text()
            translate(policy.program).to_text()
            ev = evaluate(policy, self.case.facts, self.case.as_of)
            render.table([(Run(self.case.name, self.case, ev), list(ev.obligations))])
        except ClauseError as e:
            return check_diagnostics(e, lines)
        return RESULT

    def cli(self, item: tuple[Path, dict[str, bytes]]) -> list[str]:
        return ["check", "--no-analysis", str(self.folders[item[0]])]

    def cli_outcome(self, code: int) -> str:
        return {0: RESULT, 1: DIAGNOSTICS}.get(code, "crash")
