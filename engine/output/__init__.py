"""Obligations out: tables, JSON and CSV for people and programs, and redaction.

* `columns`: the one definition of the output: table columns and JSON/CSV fields, each cell's
  Python and SQL formatting side by side;
* `render`: obligations held as Python values, as a table, JSON or CSV;
* `stream`: obligations held in DuckDB, written as they are read, the same bytes (files through
  compiler/core/files.py, as every file Clause writes);
* `redact`: stable pseudonyms for children, applied to the data before anything is rendered.
"""
