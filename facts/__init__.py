"""Facts about children, missing episodes, statuses, flags and recorded actions: read, checked, written.

Readers, each giving a `FactSet` (model.py: frozen types, `Held` records for statuses and flags over
time) or raising one `ClauseError` with every problem at its file, line and column: `yamlcase.py`
(regression-case YAML), `bulk.py` (a folder of CSV files; it writes one too), `extracts/` (SSD and
SSDA903 tables read by a profile); `loader.py` picks the reader for a path. Every field is checked by
`validate.py` (the RULES table, which the DuckDB reader's SQL is made from too) and every rule across
records by `collect.py`; `limits.py` bounds every input. Meanings shared with SQL, side by side:
`held.py` (when a record is in force), `moments.py` (a date-only time). `child_rows.py` finds one
child's lines without parsing the rest; `synth.py` makes synthetic loads. Nothing downstream ever sees
invalid facts.
"""
