"""Stable pseudonyms for children in everything Clause prints (`--redact`).

Input: the fact sets being reported on. Output: a function from text to text
that replaces every child id with `child-` and ten hex digits (an HMAC of the id,
keyed by CLAUSE_REDACT_KEY, so the same child gets the same pseudonym in every
run and report) and every date of birth with `[date of birth]`. It works on the
rendered text, so obligations, explanations and reports in every format are
covered by one piece of code.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import re
from typing import Callable, Iterable

from facts.model import FactSet

DEFAULT_KEY = "clause-redaction"


def pseudonym(child_id: str, key: str | None = None) -> str:
    secret = (key or os.environ.get("CLAUSE_REDACT_KEY") or DEFAULT_KEY).encode()
    return "child-" + hmac.new(secret, child_id.encode(), hashlib.sha256).hexdigest()[:10]


def redactor(fact_sets: Iterable[FactSet], key: str | None = None) -> Callable[[str], str]:
    names: dict[str, str] = {}
    for facts in fact_sets:
        for c in facts.children:
            names[c.id] = pseudonym(c.id, key)
            names[c.born.isoformat()] = "[date of birth]"
    if not names:
        return lambda text: text
    # whole tokens only: C1 is not redacted inside C10 or LMCP-C1
    pattern = re.compile(r"(?<![\w-])(" + "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True)) + r")(?![\w-])")
    return lambda text: pattern.sub(lambda m: names[m.group(1)], text)
