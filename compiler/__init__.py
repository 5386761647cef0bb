"""The Clause compiler: policy text in, a checked IR and a Datalog program (and its SQL) out.

Stages, one module each, in order (`policy.py` runs them over a policy folder):
    parse     `parse.py` (grammar.lark, Lark)      .clause text -> frozen AST (`ast.py`)
    check     `check.py` (condition algebra in `logic.py`, quotes in `sources.py`)
                                                    AST -> every diagnostic at once, quote locations
    normalise `normal.py`                           checked AST -> one `NormalClause` per clause:
                                                    its cases (DNF), scope, overriders, obligations
    generate  `codegen.py`                          normal forms -> Datalog `Program` (data)
    translate `sql.py` (`sql_features.py`)          `Program` -> `SqlProgram` (DuckDB), on demand
One stratification (`strata.py`: dependency graph, strongly connected components, levels)
serves the checks (E031, E032), the SQL strata and the reference interpreter. Beside the
stages: `traceability.py` (sentence by sentence report), `cache.py` (the compiled policy on
disk). `core/` is the bottom layer (Span and Diagnostic, the vocabulary, London time and
calendars, the atomic writer) and imports nothing of ours; nothing here imports `facts` or
`engine`.
"""
