"""Case YAML: mutated regression cases and generated YAML trees, loaded as `clause obligations` does.

Seeds: every tests/cases/**/*.yaml, examples/*.yaml and tests/data/facts/cases/*.yaml. Generated:
YAML trees of the case format's own keys with scalars from a pool of hard values (the shapes of
tests/test_facts_fuzz.py, drawn from a seeded rng), and well-formed cases with hard times.
Run: load_case; a loaded case is evaluated with pyDatalog on the bundled policy at its as_of, its
obligations rendered as a table and JSON, and the first obligation explained (why, as text).
"""
from __future__ import annotations

import random
from pathlib import Path

import yaml

from compiler.core.diagnostics import ClauseError, display_path
from bench.fuzz.common import RESULT, Kind, check_diagnostics, line_count
from bench.fuzz.mutate import HARD_TIMES, mutate

ROOT = Path(__file__).resolve().parents[2]
KEYS = ["case", "description", "as_of", "children", "episodes", "actions", "expect", "obligations",
        "not_obligations", "id", "born", "statuses", "flags", "child", "episode", "reported", "returned",
        "with_parents", "police_risk", "inspector_risk", "whereabouts_known", "responsible_authority", "placed_in",
        "action", "by", "at", "modality", "status", "due", "category", "risk", "clause", "x"]
SCALARS = [None, True, False, 0, -1, 5000, 10**30, 1.5, float("inf"), "", "C1", "E1", "2024-03-04T08:00", "2012-05-01",
           "high", "must", "child_protection_plan", "cse", "missing", "pending", "strategy_discussion", "team_manager",
           "<script>alert(1)</script>", "\u202e", "x" * 300] + [t.decode() for t in HARD_TIMES]


def seeds() -> list[bytes]:
    paths = sorted((ROOT / "tests" / "cases").rglob("*.yaml")) + sorted((ROOT / "examples").glob("*.yaml")) \
        + sorted((ROOT / "tests" / "data" / "facts" / "cases").rglob("*.yaml"))
    return [p.read_bytes() for p in paths]


def _tree(rng: random.Random, depth: int = 0) -> object:
    r = rng.random()
    if depth >= 4 or r < 0.5:
        return rng.choice(SCALARS)
    if r < 0.7:
        return [_tree(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    return {rng.choice(KEYS): _tree(rng, depth + 1) for _ in range(rng.randint(0, 6))}


def _well_formed(rng: random.Random) -> dict:
    """A case the loader should accept, with hard but valid times and random vocabulary."""
    from compiler.core import vocabulary as v
    times = ["2024-03-31T01:30", "2024-10-27T01:30", "2024-03-30T23:59", "2024-10-27T00:59", "2024-02-29T12:00",
             "2024-12-31T23:59", "2025-01-01T00:00", "2024-06-09T10:00"]
    kids = [{"id": f"C{k}", "born": rng.choice(["2012-05-01", "2024-02-29", "2006-03-31", "2024-03-31"]),
             "statuses": rng.sample(v.STATUSES, rng.randint(0, 2)), "flags": rng.sample(v.FLAGS, rng.randint(0, 2))}
            for k in range(1, rng.randint(1, 3) + 1)]
    eps = []
    for n in range(1, rng.randint(1, 6) + 1):
        ep = {"id": f"E{n}", "child": rng.choice(kids)["id"], "reported": rng.choice(times)}
        if rng.random() < 0.5:
            ep["returned"] = rng.choice(times)
        for b in rng.sample(v.EPISODE_BOOLEANS, rng.randint(0, 2)):
            ep[b] = rng.random() < 0.5
        if rng.random() < 0.5:
            ep["police_risk"] = rng.choice(v.RISK_LEVELS)
        eps.append(ep)
    acts = [{"action": rng.choice(v.ACTIONS), "child": e["child"], "episode": e["id"], "by": rng.choice(v.ACTORS),
             "at": rng.choice(times)} for e in eps if rng.random() < 0.4]
    case = {"case": "generated", "as_of": rng.choice(times), "children": kids, "episodes": eps}
    if acts:
        case["actions"] = acts
    return case


class CaseKind(Kind):
    name, seed = "case YAML", 20202

    def setup(self, work: Path) -> None:
        from compiler.policy import compile_policy
        self.work, self.path = work, work / "case.yaml"
        self.seeds = seeds()
        self.policy = compile_policy(ROOT / "policy")

    def make(self, rng: random.Random) -> tuple[str, bytes]:
        r = rng.random()
        if r < 0.15:
            tree = {rng.choice(KEYS): _tree(rng) for _ in range(rng.randint(0, 8))}
            return "generated tree", yaml.safe_dump(tree, allow_unicode=True).encode("utf-8")
        if r < 0.3:
            return "generated case", yaml.safe_dump(_well_formed(rng), allow_unicode=True, sort_keys=False).encode()
        data, ops = mutate(rng, rng.choice(self.seeds), rng.choice(self.seeds))
        return ops, data

    def run(self, item: bytes) -> str:
        from engine.backends.batch import Run
        from engine.evaluation import evaluate
        from engine.explain.render import as_text
        from engine.explain.why import Explainer
        from engine.output import render
        from facts.yamlcase import load_case
        self.path.write_bytes(item)
        n = line_count(item)
        try:
            case = load_case(self.path)
            ev = evaluate(self.policy, case.facts, case.as_of)
            runs = [(Run(case.name, case, ev), list(ev.obligations))]
            render.table(runs)
            render.as_json(runs)
            if ev.obligations:
                as_text([Explainer(ev).why(ev.obligations[0])])
        except ClauseError as e:
            return check_diagnostics(e, {str(self.path): n, display_path(self.path): n})
        return RESULT

    def cli(self, item: bytes) -> list[str]:
        return ["obligations", "--policy", str(ROOT / "policy"), "--engine", "pydatalog", str(self.path)]
