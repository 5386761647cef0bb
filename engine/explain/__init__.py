"""Why and why not: explanations as data, and their renderers.

* `why`: derivation trees for an obligation (and for its absence), built from the
  relations an evaluation holds; nodes carry clause ids, conditions, facts and moments.
* `render`: the trees as text, JSON and HTML: the only place their English is written.
* `inquiry`: asking about one child of a larger input (find, check, evaluate, explain).
"""
