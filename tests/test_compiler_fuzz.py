"""Whatever the policy text, compiling ends in a CompiledPolicy or a ClauseError, never another exception.

Inputs: random text, soups of the language's own tokens, and mutations of real
policy files (characters and tokens inserted, deleted or replaced, truncation,
duplicated and swapped lines, random unicode, NUL bytes, invalid UTF-8 on disk).
Every diagnostic must have a known code and a position inside its file, and
must render. The budget is small by default; HYPOTHESIS_PROFILE=fuzz (see
tests/conftest.py) runs many more examples:

    HYPOTHESIS_PROFILE=fuzz python -m pytest tests/test_compiler_fuzz.py
"""
from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings, strategies as st

from compiler import ast
from compiler.core.diagnostics import ClauseError, render_json, render_text
from compiler.policy import CompiledPolicy, compile_policy

ROOT = Path(__file__).resolve().parent.parent
BUNDLED, SMALL = ROOT / "policy", ROOT / "tests" / "data" / "policy_small"
# (folder the sources are read from, the documents file, files to mutate)
CORPUS = [
    (SMALL, "documents.clause", ["rules.clause", "documents.clause"]),
    (BUNDLED, "documents.clause", ["lmcp/01-categorisation.clause", "lmcp/04-child-protection.clause"]),
]
FILES = [(root, docs, name, (root / name).read_text(encoding="utf-8")) for root, docs, names in CORPUS for name in names]
GRAMMAR_WORDS = re.findall(r'"([a-z ]+)"', (ROOT / "compiler" / "grammar.lark").read_text(encoding="utf-8"))
TOKENS = sorted({t for *_, text in FILES for t in re.findall(r'"[^"\n]*"|[^\s"]+', text)} | set(GRAMMAR_WORDS)
                | {"(", ")", ",", '"', "\\", "\x00", "#", "\n", "9" * 40, "-1", "ÄÖ", "\u2028", "\r", "\t", "X-", "A-1"})
CODE = re.compile(r"[EW]\d{3}")
BUDGET = max(75, settings().max_examples // 2)  # 75 in make test; 2,500 under make fuzz (HYPOTHESIS_PROFILE)
FUZZ = settings(max_examples=BUDGET, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def compiles_or_reports(root: Path, texts: dict[str, str]) -> CompiledPolicy | ClauseError:
    try:
        policy = compile_policy(root, texts=texts)
    except ClauseError as e:
        assert any(d.severity == "error" for d in e.diagnostics), "a ClauseError carries at least one error"
        for d in e.diagnostics:
            assert CODE.fullmatch(d.code) and d.message, d
            if d.span.file in texts and d.span.line:
                assert 1 <= d.span.line <= texts[d.span.file].count("\n") + 1 and d.span.column >= 1, d
        render_text(e.diagnostics, texts)
        json.loads(render_json(e.diagnostics))
        return e
    assert isinstance(policy, CompiledPolicy)
    policy.program.to_text()
    json.dumps([ast.to_data(f.items) for f in policy.ast.files])
    return policy


def mutate(text: str, draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["insert", "delete", "replace", "token", "untoken", "retoken", "truncate",
                                 "duplicate", "swap", "unicode", "nul"]))
    pos = draw(st.integers(0, len(text)))
    if kind in ("insert", "unicode", "nul"):
        ch = {"insert": st.sampled_from(list('()",#\\-_ \naz09AZ')), "unicode": st.characters(), "nul": st.just("\x00")}[kind]
        return text[:pos] + draw(st.text(ch, min_size=1, max_size=4)) + text[pos:]
    if kind == "delete":
        return text[:pos] + text[pos + draw(st.integers(1, 30)):]
    if kind == "replace":
        return text[:pos] + draw(st.characters()) + text[pos + 1:]
    if kind == "truncate":
        return text[:pos]
    if kind in ("token", "untoken", "retoken"):
        parts = re.split(r"(\s+)", text)
        i = draw(st.integers(0, len(parts) - 1))
        token = draw(st.sampled_from(TOKENS))
        parts[i] = {"token": token + " " + parts[i], "untoken": "", "retoken": token}[kind]
        return "".join(parts)
    lines = text.split("\n")
    i, j = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
    if kind == "duplicate":
        lines.insert(j, lines[i])
    else:
        lines[i], lines[j] = lines[j], lines[i]
    return "\n".join(lines)


@st.composite
def mutated_policy(draw: st.DrawFn) -> tuple[Path, dict[str, str]]:
    root, docs, name, text = draw(st.sampled_from(FILES))
    for _ in range(draw(st.integers(1, 6))):
        text = mutate(text, draw)
    texts = {name: text}
    if name != docs:  # keep the document so quotes are still checked against the source
        texts[docs] = (root / docs).read_text(encoding="utf-8")
    return root, texts


@FUZZ
@given(st.text())
def test_random_text(text: str) -> None:
    compiles_or_reports(SMALL, {"fuzz.clause": text})


@FUZZ
@given(st.lists(st.sampled_from(TOKENS), max_size=60), st.sampled_from([" ", "\n", "\n  "]))
def test_token_soup(tokens: list[str], sep: str) -> None:
    text = (SMALL / "documents.clause").read_text(encoding="utf-8") + 'section SMALL "Duties"\n' + sep.join(tokens)
    compiles_or_reports(SMALL, {"fuzz.clause": text})


@FUZZ
@given(mutated_policy())
def test_mutated_policy_files(case: tuple[Path, dict[str, str]]) -> None:
    compiles_or_reports(*case)


@settings(FUZZ, max_examples=max(50, BUDGET // 3))
@given(st.sampled_from(FILES), st.binary(max_size=8), st.integers(0, 10_000))
def test_bytes_on_disk(file: tuple, junk: bytes, at: int) -> None:
    root, docs, name, text = file
    raw = text.encode("utf-8")
    at = min(at, len(raw))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "sources").symlink_to(root / "sources")
        (folder / "docs.clause").write_bytes((root / docs).read_bytes())
        (folder / "fuzz.clause").write_bytes(raw[:at] + junk + raw[at:])
        try:
            compile_policy(folder)
        except ClauseError as e:
            assert all(CODE.fullmatch(d.code) for d in e.diagnostics)
            render_text(e.diagnostics)
