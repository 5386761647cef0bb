"""Regression cases: evaluate each at its as_of and check its expectations.

Input: a `CompiledPolicy` and `Case`s (facts/yamlcase.py). Output: a `CaseResult`
per case, listing every failed expectation with where it was written, what went
wrong and the nearest derived obligations; a `Suite` gathers them with counts.
Matching (../shared/spec/case-format.md): an expected entry names only the fields
it cares about and matches an obligation whose fields all equal those given;
times compare as instants (in UTC). Invariants: results keep case order, failures
keep file order (obligations, then not_obligations, then episodes), and nearest
obligations are ranked by matched fields, ties in the engine's order.
"""
from __future__ import annotations

import re
import time
from pathlib import Path
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Iterable

from compiler.core.diagnostics import Span, error, render_text
from compiler.policy import CompiledPolicy
from engine.evaluation import EpisodeFacts, Evaluation, evaluate
from engine.meaning.obligations import FIELDS, Obligation
from engine.meaning.base_facts import utc
from facts.model import Case
from facts.yamlcase import InvalidCase, load_each
from compiler.core.london import format_instant

NEAREST = 3
PRIORITY = ("action", "clause", "child", "episode", "actor", "modality", "triggered", "due", "exception", "status")
EPISODE_FIELDS = ("category", "risk")
HONEST = ("time", "triggered_latest", "due_latest")  # honest time (engine/meaning/obligations.py): expectable too
_ABSENT = object()


def _same(expected: Any, actual: Any) -> bool:
    if isinstance(expected, datetime) or isinstance(actual, datetime):
        return isinstance(expected, datetime) and isinstance(actual, datetime) and utc(expected) == utc(actual)
    return expected == actual


def show(value: Any) -> Any:
    """A field value as written in a case file (times as London `YYYY-MM-DDTHH:MM`)."""
    return format_instant(value) if isinstance(value, datetime) else value


def show_entry(entry: dict[str, Any]) -> dict[str, Any]:
    return {k: show(v) for k, v in entry.items()}


def matched_fields(expected: dict[str, Any], ob: Obligation) -> tuple[str, ...]:
    """The expected fields that `ob` has equal values for (unknown fields never match). `clause` matches
    any clause that creates the duty (one duty, one row: `ob.clauses`)."""
    return tuple(k for k, v in expected.items() if (k in FIELDS or k in HONEST) and (
        v in (ob.clauses or (ob.clause,)) if k == "clause" else _same(v, getattr(ob, k, _ABSENT))))


def matches(expected: dict[str, Any], ob: Obligation) -> bool:
    """Subset match: every field the entry names equals the obligation's."""
    return len(matched_fields(expected, ob)) == len(expected)


@dataclass(frozen=True)
class Near:
    """A derived obligation close to an expectation: which fields agreed, which did not."""

    obligation: Obligation
    matched: tuple[str, ...]
    differing: tuple[tuple[str, Any, Any], ...]  # (field, expected, derived)

    def to_json(self) -> dict:
        return {"obligation": self.obligation.to_json(), "matched": list(self.matched),
                "differing": [{"field": f, "expected": show(e), "derived": show(d)} for f, e, d in self.differing]}


@dataclass(frozen=True)
class Unexpected:
    """A derived obligation that a `not_obligations` entry forbids, with its clause and why."""

    obligation: Obligation
    clause: str
    why: str
    explanation: str | None = None  # the full derivation (engine/explain/why.py), when available

    def to_json(self) -> dict:
        return {"obligation": self.obligation.to_json(), "clause": self.clause, "why": self.why,
                "explanation": self.explanation}


@dataclass(frozen=True)
class Failure:
    """One failed expectation. `kind`: missing_obligation | unexpected_obligation | episode."""

    kind: str
    expected: dict[str, Any]
    span: Span
    message: str
    nearest: tuple[Near, ...] = ()
    unexpected: tuple[Unexpected, ...] = ()
    episode: EpisodeFacts | None = None

    @property
    def where(self) -> str:
        return f"{self.span.file}:{self.span.line}" if self.span.line else self.span.file

    def to_json(self) -> dict:
        out: dict = {"kind": self.kind, "expected": show_entry(self.expected), "at": self.span.to_json(),
                     "message": self.message}
        if self.kind == "missing_obligation":
            out["nearest"] = [n.to_json() for n in self.nearest]
        if self.unexpected:
            out["unexpected"] = [u.to_json() for u in self.unexpected]
        if self.kind == "episode":
            out["derived"] = self.episode.to_json() if self.episode else None
        return out


@dataclass(frozen=True)
class CaseResult:
    """`evaluation`: the case's Evaluation (pyDatalog's, or the reference interpreter's under coverage),
    or, for a case that passed in a DuckDB pass, its `engine.backends.cases.Outcome` (time, obligations, episodes)."""

    case: Case
    evaluation: Evaluation
    failures: tuple[Failure, ...]
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return not self.failures

    def to_json(self) -> dict:
        return {"case": self.case.name, "file": self.case.span.file, "line": self.case.span.line,
                "as_of": format_instant(self.case.as_of), "passed": self.passed,
                "failures": [f.to_json() for f in self.failures]}


def nearest(expected: dict[str, Any], obligations: Iterable[Obligation], limit: int = NEAREST) -> tuple[Near, ...]:
    """The `limit` obligations matching most expected fields (at least one).

    Ties go to the one matching the weightier fields (`PRIORITY`: the same action
    first), then to the engine's order.
    """
    scored = []
    for i, ob in enumerate(obligations):
        hit = matched_fields(expected, ob)
        if hit:
            diff = tuple((k, v, getattr(ob, k, None)) for k, v in expected.items() if k not in hit)
            scored.append(((-len(hit), tuple(f not in hit for f in PRIORITY), i), Near(ob, hit, diff)))
    return tuple(n for _, n in sorted(scored, key=lambda s: s[0])[:limit])


def _one_line_why(evaluation: Evaluation, ob: Obligation) -> str:
    clauses = evaluation.policy.program.clauses
    parts = []
    for cid in (ob.clause, ob.exception):
        c = clauses.get(cid) if cid else None
        if c is None:
            continue
        quote = f": \"{c.says[0].value}\"" if c.says else ""
        parts.append(f"{'via exception ' if cid == ob.exception else ''}{cid} \"{c.title.value}\"{quote}")
    return "; ".join(parts) or f"clause {ob.clause}"


def _explanation(evaluation: Evaluation, ob: Obligation, births: bool = True) -> str | None:
    """The full derivation from engine/explain/why.py, or None where it cannot give one."""
    try:
        from engine.explain.why import why
        from engine.explain.render import as_text
    except ImportError:
        return None
    try:
        return as_text([why(evaluation, ob)], births).rstrip()
    except LookupError:
        return None


def explain_unexpected(evaluation: Evaluation, ob: Obligation, births: bool = True) -> Unexpected:
    """`births=False` (redacted reports): the explanation shows no date of birth."""
    return Unexpected(ob, ob.clause, _one_line_why(evaluation, ob), _explanation(evaluation, ob, births))


def _describe(entry: dict[str, Any]) -> str:
    return ", ".join(f"{k} {show(v)}" for k, v in entry.items()) or "any obligation"


def check_obligations(evaluation: Evaluation, case: Case, births: bool = True) -> list[Failure]:
    obligations = evaluation.obligations
    out = []
    for entry, span in case.expect.obligations:
        if any(matches(entry, ob) for ob in obligations):
            continue
        near = nearest(entry, obligations)
        what = ("no obligations were derived" if not obligations else
                "no derived obligation shares any of these fields" if not near else
                f"no derived obligation matches all {len(entry)} fields (the nearest matches {len(near[0].matched)})")
        out.append(Failure("missing_obligation", entry, span, f"expected obligation not derived ({_describe(entry)}): {what}",
                           nearest=near))
    for entry, span in case.expect.not_obligations:
        hits = [ob for ob in obligations if matches(entry, ob)]
        if hits:
            n = len(hits)
            out.append(Failure("unexpected_obligation", entry, span,
                               f"{n} derived obligation{'s' * (n != 1)} match{'es' * (n == 1)} a not_obligations entry ({_describe(entry)})",
                               unexpected=tuple(explain_unexpected(evaluation, ob, births) for ob in hits)))
    return out


def check_episodes(evaluation: Evaluation, case: Case) -> list[Failure]:
    out = []
    for entry, span in case.expect.episodes:
        wanted = {k: v for k, v in entry.items() if k in EPISODE_FIELDS}
        candidates = [e for e in evaluation.episodes if "id" not in entry or e.id == entry["id"]]
        if any(all(getattr(e, k) == v for k, v in wanted.items()) for e in candidates):
            continue
        label = f"episode {entry['id']}" if "id" in entry else "an episode"
        if not candidates:
            message = f"{label}: not among the episodes reported by {format_instant(evaluation.at)}"
            out.append(Failure("episode", entry, span, message))
            continue
        got = candidates[0]
        diffs = [f"{k} {v}, derived {getattr(got, k) or 'none'}" for k, v in wanted.items() if getattr(got, k) != v]
        out.append(Failure("episode", entry, span, f"{label}: expected " + "; ".join(diffs), episode=got))
    return out


def run_case(policy: CompiledPolicy, case: Case, observe: Callable[[Case, Evaluation], None] | None = None,
             births: bool = True) -> CaseResult:
    """Evaluate `case` at its as_of and check every expectation; `observe` sees each evaluation;
    `births=False` keeps dates of birth out of the explanations (redacted reports)."""
    start = time.perf_counter()
    evaluation = evaluate(policy, case.facts, case.as_of)
    failures = check_obligations(evaluation, case, births) + check_episodes(evaluation, case)
    if observe is not None:
        observe(case, evaluation)
    return CaseResult(case, evaluation, tuple(failures), time.perf_counter() - start)


def selected(item: Case | InvalidCase, patterns: Iterable[str]) -> bool:
    """`-k`: the case's name or file contains one of the patterns (case-insensitive); no pattern: all."""
    patterns = [p.lower() for p in patterns]
    where = (f"{item.name} {item.span.file}" if isinstance(item, Case) else str(item.path)).lower()
    return not patterns or any(p in where for p in patterns)


def load_suite_cases(policy: CompiledPolicy, paths: Iterable[str], patterns: Iterable[str] = (),
                     strict: bool = False) -> list[Case | InvalidCase]:
    """The case files under `paths` that `-k` selects, each loaded against the policy's names (an
    expectation naming an action, actor or clause the policy lacks is F014); with `strict`, a case
    that expects nothing, so can never fail, is invalid too (F015)."""
    out: list[Case | InvalidCase] = []
    for item in load_each(paths, policy.known_names()):
        if not selected(item, patterns):
            continue
        if strict and isinstance(item, Case) and not (item.expect.obligations or item.expect.not_obligations
                                                     or item.expect.episodes):
            item = InvalidCase(Path(item.span.file), (error(
                "F015", item.span, f"case '{item.name}' expects nothing, so it can never fail",
                "add an 'expect:' section with obligations, not_obligations or episodes"),))
        out.append(item)
    return out


@dataclass
class Suite:
    """Results of many cases, in input order, with counts; case files that could not be loaded
    are `errors` (reported with their diagnostics, never silently skipped)."""

    results: list[CaseResult] = field(default_factory=list)
    errors: list[InvalidCase] = field(default_factory=list)
    disagreed: list[str] = field(default_factory=list)  # cases the engines judged differently (onepass)

    @classmethod
    def run(cls, policy: CompiledPolicy, cases: Iterable[Case | InvalidCase],
            observe: Callable[[Case, Evaluation], None] | None = None, births: bool = True,
            engine: str = "pydatalog") -> "Suite":
        """`engine`: pydatalog evaluates case by case; duckdb evaluates every case in one DuckDB pass
        and pyDatalog only the failing ones, to explain them (engine/regression/onepass.py); auto picks
        by the cases' episodes. `observe` (coverage) needs every derived relation: case by case, by the
        reference interpreter unless `engine` is pydatalog (onepass.run_cases_observed)."""
        items = list(cases)
        valid = [c for c in items if isinstance(c, Case)]
        errors = [c for c in items if isinstance(c, InvalidCase)]
        if engine != "pydatalog":
            from engine.backends.cases import choose_engine
            from engine.regression import onepass
            if observe is not None:
                results, disagreed = onepass.run_cases_observed(policy, valid, observe, births)
                return cls(results, errors, disagreed)
            if choose_engine(engine, [c.facts for c in valid]) == "duckdb":
                results, disagreed = onepass.run_cases(policy, valid, births)
                return cls(results, errors, disagreed)
        return cls([run_case(policy, c, observe, births) for c in valid], errors)

    @property
    def total(self) -> int:
        return len(self.results)

    @property
    def passed(self) -> int:
        return sum(r.passed for r in self.results)

    @property
    def failed(self) -> int:
        return self.total - self.passed

    @property
    def ok(self) -> bool:
        return self.failed == 0 and not self.errors

    def summary(self) -> str:
        n = len(self.errors)
        return f"{self.passed} passed, {self.failed} failed" + (f", {n} error{'s' * (n != 1)}" if n else "")

    def to_json(self) -> dict:
        return {"cases": [r.to_json() for r in self.results],
                "errors": [{"file": str(e.path), "diagnostics": [d.to_json() for d in e.diagnostics]} for e in self.errors],
                "summary": {"total": self.total, "passed": self.passed, "failed": self.failed, "errors": len(self.errors)}}


# ---- text --------------------------------------------------------------------------

def obligation_line(ob: Obligation) -> str:
    j = ob.to_json()
    where = f" episode {ob.episode}" if ob.episode else ""
    occ = f" #{ob.occurrence}" if ob.occurrence else ""
    times = "".join(f" {k} {j[k]}" for k in ("triggered", "due") if j[k])
    extra = "".join(f" {k} {j[k]}" for k in ("exception", "status") if j[k])
    return f"{ob.actor} {ob.modality} {ob.action}{occ} - child {ob.child}{where}{times} [{ob.clause}]{extra}"


def failure_text(f: Failure) -> list[str]:
    """One failure as indented lines: where, what, then what was derived instead."""
    out = [f"{f.where}: {f.message}"]
    if f.kind == "missing_obligation" and f.nearest:
        out.append("  nearest derived:")
        for n in f.nearest:
            out.append(f"    {obligation_line(n.obligation)}")
            if n.differing:
                out.append("      differs: " + "; ".join(f"{k} expected {show(e)}, derived {show(d) if d is not None else 'none'}"
                                                      for k, e, d in n.differing))
    for u in f.unexpected:
        out.append(f"  unexpected: {obligation_line(u.obligation)}")
        if u.explanation:
            out.extend("    " + line for line in u.explanation.splitlines())
        else:
            out.append(f"    why: {u.why}")
    return out


def case_text(r: CaseResult) -> str:
    head = f"{'PASS' if r.passed else 'FAIL'} {r.case.name} ({r.case.span.file})"
    if r.passed:
        return head
    return "\n".join([head] + ["  " + line for f in r.failures for line in failure_text(f)])


def error_text(e: InvalidCase) -> str:
    return f"ERROR {e.path}\n" + "\n".join("  " + line for line in render_text(list(e.diagnostics)).rstrip().splitlines())


def suite_text(suite: Suite, verbose: bool = False) -> str:
    """InvalidCase case files, failing cases in full (passing ones too when `verbose`), then
    'N passed, M failed' (and ', K errors')."""
    parts = [error_text(e) for e in suite.errors] + [case_text(r) for r in suite.results if verbose or not r.passed]
    return "\n\n".join(parts + [suite.summary()]) + "\n"


def junit_xml(suite: Suite, name: str = "clause") -> str:
    """JUnit XML: one <testcase> per case (classname: its file), a <failure> listing every failed
    expectation; a case file that could not be loaded is a <testcase> with an <error> holding its diagnostics."""
    tests, errors = str(suite.total + len(suite.errors)), str(len(suite.errors))
    root = ET.Element("testsuites", name=name, tests=tests, failures=str(suite.failed), errors=errors)
    ts = ET.SubElement(root, "testsuite", name=name, tests=tests, failures=str(suite.failed),
                       errors=errors, skipped="0", time=f"{sum(r.seconds for r in suite.results):.3f}")
    for e in suite.errors:
        tc = ET.SubElement(ts, "testcase", classname=str(e.path), name=e.path.name, file=str(e.path), time="0.000")
        err = ET.SubElement(tc, "error", type="InvalidCaseFile",
                            message="; ".join(f"{d.code} {d.span}: {d.message}" for d in e.diagnostics))
        err.text = render_text(list(e.diagnostics))
    for r in suite.results:
        tc = ET.SubElement(ts, "testcase", classname=r.case.span.file, name=r.case.name,
                           file=r.case.span.file, line=str(r.case.span.line), time=f"{r.seconds:.3f}")
        if not r.passed:
            n = len(r.failures)
            message = f"{n} expectation{'s' * (n != 1)} failed: " + "; ".join(f"{f.where}: {f.message}" for f in r.failures)
            failure = ET.SubElement(tc, "failure", message=message, type="ExpectationFailed")
            failure.text = "\n".join(line for f in r.failures for line in failure_text(f)) + "\n"
    for element in root.iter():
        element.attrib = {k: _xml(v) for k, v in element.attrib.items()}
        element.text = _xml(element.text) if element.text else element.text
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


# Characters XML 1.0 cannot hold at all (ElementTree writes them raw, and the file is then not XML).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml(text: str) -> str:
    """Text XML can hold: a control character in a case name or message is shown as \\xNN."""
    return _NOT_XML.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 256 else f"\\u{ord(m.group()):04x}", text)
