"""Facts about children, missing episodes and recorded actions.

`model.py` holds the frozen fact types; `timeparse.py` reads Europe/London times;
`yamlcase.py` loads regression-case YAML; `bulk.py` loads a folder of CSV files.
Loaders validate everything and raise one `ClauseError` with every problem, each
naming file, line and field. Nothing downstream ever sees invalid facts.
"""
