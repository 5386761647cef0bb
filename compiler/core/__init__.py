"""The bottom layer: what every other part of Clause stands on. It imports nothing of ours.

* `diagnostics`: the one `Span` (file, line, column) and the one `Diagnostic` (code,
  severity, span, message, hint); `ClauseError` carries all of them at once.
* `vocabulary`: the shared vocabulary (../shared/spec/vocabulary.md) as data.
* `london`: Europe/London time (parse, format, UTC arithmetic) and England's calendar;
  `london_tables`: the same clock and calendar as rows, for SQL.
* `files`: the one atomic writer and the private cache folder.
"""
