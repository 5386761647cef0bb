"""The Clause runtime: compiled policy + facts, as at a moment -> obligations and why.

Pipeline: `temporal.py` (facts -> base Datalog facts as at T) -> `runtime.py`
(fresh pyDatalog logic, rules, queries) -> `obligations.py` (timing, recurrence,
status) -> `explain.py` (derivation trees) -> `render.py` (text, JSON, HTML).

Python API:
    policy = compile_policy("policy")             # once
    result = evaluate(policy, facts, at)          # many times, any fact set
    result.obligations, result.episodes
"""
from engine.evaluate import Evaluation, evaluate

__all__ = ["Evaluation", "evaluate"]
