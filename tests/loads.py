"""How large the test loads are: small in `make test`, large in `make fuzz` (CLAUSE_TEST_LOAD=large).

Differential and property tests size their inputs by `LARGE`, so make test stays quick on the
2-core machine and make fuzz runs the large loads, every case and the long budgets.
"""
from __future__ import annotations

import os

LARGE = os.environ.get("CLAUSE_TEST_LOAD") == "large"
