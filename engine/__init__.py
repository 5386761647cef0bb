"""The Clause runtime: compiled policy + facts, as at a moment -> obligations and why.

Layout, by role:
* `meaning/`: what every back-end must mean alike (base facts as at T, obligation timing
  and states), each concept one file with its Python and its SQL side by side;
* `evaluation.py`: the evaluation interface and its value (every derived relation, never
  changed after); `backends/`: pyDatalog (the reference, whose relations explanations read),
  DuckDB (the same program as SQL, at scale), the plain-Python reference interpreter and body
  matcher, choosing a back-end, chunked evaluation;
* `explain/`: why and why not, as data, and their renderers;
* `regression/`: regression cases, coverage, policy diff;
* `lint.py`: cross-clause analysis (conflicts, dead exceptions);
* `output/`: obligations as table, JSON, CSV; redaction.

Python API:
    policy = compile_policy("policy")             # once
    result = evaluate(policy, facts, at)          # many times, any fact set
    result.obligations, result.episodes
"""
from engine.evaluation import Evaluation, evaluate

__all__ = ["Evaluation", "evaluate"]
