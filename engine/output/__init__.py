"""Obligations out: tables, JSON and CSV for people and programs, and redaction.

* `render`: obligations held as Python values, as a table, JSON or CSV;
* `stream`: obligations held in DuckDB, written as they are read, the same bytes;
* `redact`: stable pseudonyms for children, applied to the data before anything is rendered.
"""
