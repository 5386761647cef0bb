"""The TextMate grammar (editors/vscode/syntaxes/clause.tmLanguage.json): valid, in step with the
language and the vocabulary, and highlighting a sample as intended.

Its regexes are plain enough (words, alternations, \\b, character classes) for Python's `re`
to read them as Oniguruma does; the sample is scoped by a small TextMate-style matcher:
at each position, the pattern that matches earliest wins, the first listed on a tie.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

from compiler.core import vocabulary as vocab

ROOT = Path(__file__).resolve().parent.parent
GRAMMAR = json.loads((ROOT / "editors" / "vscode" / "syntaxes" / "clause.tmLanguage.json").read_text(encoding="utf-8"))
REPO = GRAMMAR["repository"]


def words_of(rule: str) -> set[str]:
    """The words of a rule whose match is one \\b(?:a|b|c)\\b alternation."""
    m = re.fullmatch(r"\\b\(\?:([a-z0-9_|]+)\)\\b", REPO[rule]["match"])
    assert m, f"{rule} is not a plain alternation of words"
    return set(m.group(1).split("|"))


def test_valid_and_every_regex_compiles() -> None:
    assert GRAMMAR["scopeName"] == "source.clause" and GRAMMAR["fileTypes"] == ["clause"]
    for name, rule in REPO.items():
        for key in ("match", "begin", "end"):
            if key in rule:
                re.compile(rule[key])
        assert rule["name"].endswith(".clause"), name
    assert {p["include"][1:] for p in GRAMMAR["patterns"]} == set(REPO)


def test_the_names_are_the_vocabularys() -> None:
    assert words_of("status") == set(vocab.STATUSES)
    assert words_of("flag") == set(vocab.FLAGS) | set(vocab.EPISODE_BOOLEANS)
    assert words_of("actor") == set(vocab.ACTORS)
    assert words_of("action") == set(vocab.ACTIONS)
    assert words_of("modality") == set(vocab.MODALITIES)


def test_every_keyword_of_the_language_is_highlighted_as_one() -> None:
    grammar = (ROOT / "compiler" / "grammar.lark").read_text(encoding="utf-8")
    keywords = set(re.findall(r'"([a-z]+)"', grammar)) | {"more", "than"}
    scoped = {w for w in keywords if scopes(w) and scopes(w)[0][1].startswith(("keyword.", "storage.modifier"))}
    values = {w for w in keywords if scopes(w) and scopes(w)[0][1].startswith("support.constant.value")}
    assert keywords - scoped == values == {"missing"}  # 'missing' is also a category, and scoped as one


def _patterns() -> list[dict]:
    return [REPO[p["include"][1:]] for p in GRAMMAR["patterns"]]


def scopes(line: str) -> list[tuple[str, str]]:
    """(text, scope) for each scoped piece of one line."""
    out, pos = [], 0
    while pos < len(line):
        best = None
        for rule in _patterns():
            m = re.compile(rule.get("match") or rule["begin"]).search(line, pos)
            if m and (best is None or m.start() < best[0].start()):
                best = (m, rule)
        if best is None:
            break
        m, rule = best
        end = m.end()
        if "begin" in rule:
            inner = "|".join(p["match"] for p in rule.get("patterns", []))
            at = end
            while True:
                e = re.compile(rule["end"]).search(line, at)
                skip = re.compile(inner).search(line, at) if inner else None
                if skip and skip.start() < e.start():
                    at = skip.end()
                    continue
                end = e.end()
                break
        out.append((line[m.start():end], rule["name"]))
        pos = max(end, pos + 1)
    return out


SAMPLE = '''clause LMCP-CP-1 "CP plan, missing 72 hours: strategy discussion"  # a "comment"
  says "Child has been missing 72 hours* \\"quoted\\" – strategy discussion."
  when the child has status child_protection_plan
   and not the episode has lasted more than 72 hours
  then team_manager and iro must hold strategy_discussion from 72 hours after reported
not encoded LMCP-NE-1 "x" because "y"
declare action escalation_meeting “strategy meeting, "TM" # not a comment”
section LMCP "Child protection plan"
accept W102 LMCP-CP-1 "intended"
clause LMCP-CP-2 "t" version of LMCP-CP-1 in force from 2023-10-25'''


def test_a_sample_is_highlighted() -> None:
    got = [s for line in SAMPLE.split("\n") for s in scopes(line)]
    expect = [
        ("clause", "keyword.control.item.clause"), ("LMCP-CP-1", "entity.name.function.clause-id.clause"),
        ('"CP plan, missing 72 hours: strategy discussion"', "string.quoted.double.clause"),
        ('# a "comment"', "comment.line.number-sign.clause"),
        ("says", "keyword.other.part.clause"),
        ('"Child has been missing 72 hours* \\"quoted\\" – strategy discussion."', "string.quoted.double.clause"),
        ("when", "keyword.other.part.clause"), ("the", "keyword.other.clause"), ("child", "keyword.other.clause"),
        ("has", "keyword.other.clause"), ("status", "keyword.other.clause"),
        ("child_protection_plan", "support.constant.status.clause"),
        ("and", "keyword.operator.logical.clause"), ("not", "keyword.operator.logical.clause"),
        ("the", "keyword.other.clause"), ("episode", "keyword.other.clause"), ("has", "keyword.other.clause"),
        ("lasted", "keyword.other.clause"), ("more", "keyword.other.clause"), ("than", "keyword.other.clause"),
        ("72", "constant.numeric.clause"), ("hours", "keyword.other.clause"),
        ("then", "keyword.other.part.clause"), ("team_manager", "support.type.actor.clause"),
        ("and", "keyword.operator.logical.clause"), ("iro", "support.type.actor.clause"),
        ("must", "storage.modifier.modality.clause"), ("hold", "variable.other.name.clause"),
        ("strategy_discussion", "support.function.action.clause"), ("from", "keyword.other.part.clause"),
        ("72", "constant.numeric.clause"), ("hours", "keyword.other.clause"), ("after", "keyword.other.clause"),
        ("reported", "keyword.other.clause"),
        ("not encoded", "keyword.control.item.clause"), ("LMCP-NE-1", "entity.name.function.clause-id.clause"),
        ('"x"', "string.quoted.double.clause"), ("because", "keyword.other.part.clause"),
        ('"y"', "string.quoted.double.clause"),
        ("declare action", "keyword.control.item.clause"), ("escalation_meeting", "variable.other.name.clause"),
        ('“strategy meeting, "TM" # not a comment”', "string.quoted.other.curly.clause"),
        ("section", "keyword.control.item.clause"), ("LMCP", "entity.name.type.document-id.clause"),
        ('"Child protection plan"', "string.quoted.double.clause"),
        ("accept", "keyword.control.item.clause"), ("W102", "constant.other.diagnostic-code.clause"),
        ("LMCP-CP-1", "entity.name.function.clause-id.clause"), ('"intended"', "string.quoted.double.clause"),
        ("clause", "keyword.control.item.clause"), ("LMCP-CP-2", "entity.name.function.clause-id.clause"),
        ('"t"', "string.quoted.double.clause"), ("version", "keyword.other.part.clause"), ("of", "keyword.other.part.clause"),
        ("LMCP-CP-1", "entity.name.function.clause-id.clause"), ("in force", "keyword.other.part.clause"),
        ("from", "keyword.other.part.clause"), ("2023-10-25", "constant.numeric.date.clause"),
    ]
    assert got == expect
