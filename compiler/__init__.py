"""The Clause compiler: policy text in, a checked Datalog program out.

Pipeline, one module per stage:
    parse (Lark -> AST, `parse.py`) -> check (`check.py`) -> generate Datalog (`codegen.py`)
`policy.py` runs the stages over a policy folder; `diagnostics.py` holds the one
`Span` and the one `Diagnostic` type every stage uses.
"""
