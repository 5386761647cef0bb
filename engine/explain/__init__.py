"""Why and why not: explanations as data, and their renderers.

* `nodes`: the typed nodes of an explanation (clause ids, condition atoms, facts with their
  records and spans, moments); no English.
* `conditions`: a clause's conditions tested on an evaluation's relations (also read by coverage).
* `why`: derivation trees for an obligation (and for its absence), built from those tests.
* `words`, `render`: the trees as text, JSON (docs/why-json.md) and HTML: the only place their
  English is written.
* `inquiry`: asking about one child of a larger input (find, check, evaluate, explain).
"""
