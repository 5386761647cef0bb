"""The Clause runtime: compiled policy + facts, as at a moment -> obligations and why.

Pipeline: `temporal.py` (facts -> base Datalog facts as at T) -> `runtime.py`
(pyDatalog logic per program, facts in, queries) -> `obligations.py` (timing,
recurrence, status) -> `explain.py` (derivation trees, `explain_render.py`: text,
JSON, HTML). `render.py` prints obligations (table, JSON, CSV); `inquiry.py`
answers why / why not about one child; `regress.py`, `coverage.py`, `diff.py`
test policies; `analysis.py` finds cross-clause conflicts.

Python API:
    policy = compile_policy("policy")             # once
    result = evaluate(policy, facts, at)          # many times, any fact set
    result.obligations, result.episodes
"""
from engine.evaluate import Evaluation, evaluate

__all__ = ["Evaluation", "evaluate"]
