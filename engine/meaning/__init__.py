"""The meaning every back-end shares: what the facts say as at a moment, and what a duty is.

Each concept has one home here, its Python (pyDatalog's side, and the reference) and its
SQL (DuckDB's side) written side by side and tested together:
* `episodes`: which episodes exist as at T, whether each has returned, and their order
  (instants compared, never wall clocks);
* `base_facts`: facts as at T -> the base predicates the rules read (fields, elapsed time,
  count windows, ages, weekends and bank holidays), each predicate's Python and SQL together;
* `obligations`: derived obligation tuples -> duties with times, occurrences and states.
"""
