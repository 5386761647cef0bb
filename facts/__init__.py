"""Facts about children, missing episodes and recorded actions.

`model.py` holds the frozen fact types; `timeparse.py` reads Europe/London times;
`yamlcase.py` loads regression-case YAML; `bulk.py` loads (and writes) a folder of
CSV files; both check through `validate.py`; `loader.py` picks the reader for a path.
Loaders validate everything and raise one `ClauseError` with every problem, each
naming file, line and field. Nothing downstream ever sees invalid facts.
"""
