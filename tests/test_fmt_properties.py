"""Formatting never changes what a policy means, and formatting twice changes nothing more.

For the bundled policy, the small fixture, real files laid out at random (whitespace and
comments between every token) and generated policies (random conditions, conclusions,
timings and exceptions over the vocabulary, with unknown names and misquotes mixed in so
that the checks have something to say; curly quotes, versions and accept lines too): the formatted text compiles to the same Datalog
rules and the same AST (positions aside), gives the same diagnostics (code, severity,
message, hint, clause), and is a fixed point of the formatter. The budget is small by
default; HYPOTHESIS_PROFILE=fuzz (tests/conftest.py) runs many more examples.
"""
from __future__ import annotations

import random
import re
from collections import Counter
from pathlib import Path

from hypothesis import HealthCheck, given, settings, strategies as st

from compiler import ast
from compiler.core import vocabulary as vocab
from compiler.core.diagnostics import ClauseError
from compiler.fmt import format_text
from compiler.policy import compile_policy
from compiler.sources import SourceText

ROOT = Path(__file__).resolve().parent.parent
BUNDLED, SMALL = ROOT / "policy", ROOT / "tests" / "data" / "policy_small"
BUDGET = max(10, settings().max_examples // 5)  # 10 examples a property in make test, 1,000 under make fuzz
PROPERTY = settings(max_examples=BUDGET, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                              HealthCheck.data_too_large])


def folder_texts(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): p.read_text(encoding="utf-8") for p in sorted(root.rglob("*.clause"))}


def meaning(root: Path, texts: dict[str, str]) -> tuple:
    """What a policy means, positions aside: its rules and AST, or its diagnostics."""
    try:
        policy = compile_policy(root, texts=texts)
    except ClauseError as e:
        return "errors", Counter((d.code, d.severity, d.message, d.hint, d.span.file, d.span.clause) for d in e.diagnostics)
    rules = [line for line in policy.program.to_text().splitlines() if not line.startswith("%")]
    warnings = Counter((d.code, d.message, d.hint, d.span.file, d.span.clause) for d in policy.warnings)
    return rules, [(f.path, without_spans(ast.to_data(f.items))) for f in policy.ast.files], warnings


def without_spans(data: object) -> object:
    if isinstance(data, dict):
        return {k: without_spans(v) for k, v in data.items() if k != "span"}
    if isinstance(data, list):
        return [without_spans(v) for v in data]
    return data


def assert_formatting_keeps_meaning(root: Path, texts: dict[str, str]) -> None:
    formatted = {name: format_text(text, name) for name, text in texts.items()}
    assert {n: format_text(t, n) for n, t in formatted.items()} == formatted, "formatting twice changes more"
    if formatted != texts:  # text already laid out (the bundled policy is, by make test's fmt --check) is its own meaning
        assert meaning(root, formatted) == meaning(root, texts)


def test_the_bundled_policy_and_the_fixture_keep_their_meaning() -> None:
    for root in (BUNDLED, SMALL):
        assert_formatting_keeps_meaning(root, folder_texts(root))


# ---- real files laid out at random -------------------------------------------------------------

TOKEN = re.compile(r'"(?:[^"\\\n]|\\.)*"|“[^“”\n]*”|#[^\n]*|more than|[()\,]|[^\s"#(),]+')
GAPS = [" ", "  ", "\n", "\n\n", "\t", "\n    ", " \n  \n", "\u00a0"]
COMMENTS = ["# note", "#", "# (x, y) \"not a string\"", "#   spaced   "]


def relaid(text: str, rnd: random.Random) -> str:
    """The same tokens and comments, with random whitespace between them and comments added."""
    out = []
    for token in TOKEN.findall(text):
        out.append(token)
        if token.startswith("#") or rnd.randrange(10) == 0:
            if not token.startswith("#"):
                out.append(rnd.choice([" ", ""]) + rnd.choice(COMMENTS))
            out.append("\n" + rnd.choice(["", "  ", "\n"]))
        else:
            out.append(rnd.choice(GAPS))
    return "".join(out)


FILES = [(root, name) for root in (BUNDLED, SMALL) for name in folder_texts(root)]


@PROPERTY
@given(st.sampled_from(FILES), st.integers(0, 2**32))
def test_a_real_file_laid_out_at_random_formats_to_the_same_meaning(file: tuple[Path, str], seed: int) -> None:
    root, name = file
    texts = folder_texts(root)
    texts = {name: relaid(texts[name], random.Random(seed)), "documents.clause": texts["documents.clause"]}
    assert_formatting_keeps_meaning(root, texts)


# ---- generated policies ------------------------------------------------------------------------

SENTENCES = [s.text for s in SourceText("small.txt", (SMALL / "sources" / "small.txt").read_text(encoding="utf-8")).sentences]
STATUS = st.sampled_from(vocab.STATUSES + ("child_in_care",))
FLAG = st.sampled_from(vocab.FLAGS + ("missing_flag",))
ACTOR = st.sampled_from(vocab.ACTORS[:6] + ("duty_officer", "team_manger"))
ACTION = st.sampled_from(vocab.ACTIONS[:6] + ("check_in", "visit_child"))
N = st.integers(1, 99).map(str)
UNIT = st.sampled_from(["hours", "days", "hour"])
MOMENT = st.one_of(st.sampled_from(["reported", "returned"]), st.tuples(N, UNIT).map(lambda t: f"{t[0]} {t[1]} after reported"))

ATOM = st.one_of(
    STATUS.map("the child has status {}".format), FLAG.map("the child has flag {}".format),
    st.just("the child has no status"), st.just("the child has been reported missing"), st.just("the child has returned"),
    st.tuples(N, st.sampled_from(["under", "over"])).map(lambda t: f"the child is aged {t[0]} or {t[1]}"),
    st.tuples(st.sampled_from(["", "more than "]), N, UNIT).map(lambda t: f"the episode has lasted {t[0]}{t[1]} {t[2]}"),
    st.tuples(N, N).map(lambda t: f"the child has been reported missing {t[0]} times within {t[1]} days"),
    st.sampled_from(vocab.EPISODE_BOOLEANS).map("the episode has {}".format),
    st.sampled_from(vocab.CATEGORIES).map("the episode is {}".format),
    st.sampled_from(vocab.RISK_LEVELS + ("severe",)).map("the risk is {}".format),
    MOMENT.map("{} falls on a weekend or public holiday".format),
)
CONDITION = st.recursive(ATOM, lambda c: st.one_of(
    st.lists(c, min_size=2, max_size=3).map(" and ".join), st.lists(c, min_size=2, max_size=3).map(" or ".join),
    c.map("not ({})".format), c.map("({})".format)), max_leaves=5)
TIMING = st.lists(st.one_of(MOMENT.map("from {}".format), st.tuples(N, UNIT).map(lambda t: f"within {t[0]} {t[1]}"),
                            st.just("immediately"), N.map("every {} days until returned".format)), max_size=2).map(" ".join)
OBLIGATION = st.tuples(st.lists(ACTOR, min_size=1, max_size=2).map(" and ".join), st.sampled_from(vocab.MODALITIES),
                       st.sampled_from(["", "hold "]), ACTION, TIMING).map(lambda t: f"{t[0]} {t[1]} {t[2]}{t[3]} {t[4]}")
CONCLUSION = st.one_of(OBLIGATION, OBLIGATION, st.sampled_from(["the episode is missing", "the risk is high"]))
QUOTE = st.sampled_from(SENTENCES * 9 + ["A sentence the document does not have."])


@st.composite
def clause(draw: st.DrawFn, i: int) -> str:
    exception = i > 0 and draw(st.booleans())
    head = f'clause SM-G-{i} "Generated {i}"'
    if exception:
        actor_of = draw(st.booleans())
        head = (f'exception SM-G-{i} "Generated {i}" overrides {"actor of " if actor_of else ""}'
                f'SM-G-{draw(st.integers(0, i - 1))}')
    quotes = [q.replace("\\", "\\\\").replace('"', '\\"') for q in draw(st.lists(QUOTE, min_size=1, max_size=2))]
    if i > 0 and not exception and draw(st.integers(0, 4)) == 0:
        head += f" version of SM-G-{draw(st.integers(0, i - 1))} in force from 2024-0{draw(st.integers(1, 9))}-01"
    curly = draw(st.booleans())  # curly quotes take the text verbatim
    lines = [head] + [f"says “{q}”" if curly and not set(q) & set("“”\\") else f'says "{q}"' for q in quotes]
    if draw(st.booleans()):
        lines.append('note "An interpretation."')
    if i > 0 and draw(st.integers(0, 4)) == 0:
        lines.append(f'overlaps SM-G-{draw(st.integers(0, i - 1))} "intended"')
    condition = draw(CONDITION)
    if draw(st.integers(0, 3)):  # most clauses bind the episode first (else E030)
        lines.append(f"when the child has been reported missing and ({condition})")
    elif draw(st.booleans()):
        lines.append(f"when {condition}")
    if exception and actor_of:
        lines.append(f"then {draw(ACTOR)} instead")
    else:
        lines.append(" also ".join(["then " + draw(CONCLUSION)] + draw(st.lists(CONCLUSION, max_size=1))))
    return "\n".join(lines)


@st.composite
def generated_policy(draw: st.DrawFn) -> dict[str, str]:
    items = [draw(clause(i)) for i in range(draw(st.integers(1, 4)))]
    if draw(st.booleans()):
        items.append(f'accept {draw(st.sampled_from(["W101", "W102"]))} SM-G-0 "intended"')
    text = 'section SMALL "Small Missing Children Procedure"\n\n' + "\n\n".join(items) + "\n"
    texts = folder_texts(SMALL)
    texts["generated.clause"] = relaid(text, random.Random(draw(st.integers(0, 2**32))))
    return texts


@PROPERTY
@given(generated_policy())
def test_a_generated_policy_formats_to_the_same_meaning(texts: dict[str, str]) -> None:
    assert_formatting_keeps_meaning(SMALL, texts)
