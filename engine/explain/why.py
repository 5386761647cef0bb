"""Why and why not: derivation trees, rebuilt by matching each rule body again.

pyDatalog keeps no proofs, so for an obligation we find the generated rule whose
head matches it and whose body holds under the obligation's bindings (matched against
the relations pyDatalog derived, engine/backends/matcher.py), then test
each of that rule's condition atoms on its own (engine/backends/matcher.py) to collect
the facts that satisfied it, descending into derived facts (category, risk) and
into the exceptions that replaced an actor or did not apply. For "why not" every
clause that could create the action is tried on every episode of the child and
ranked by how many conditions failed.

Input: an `Evaluation`. Output: `Node` trees (data; engine/explain/render.py
renders them). Invariants: a "why" tree cites only clauses whose rules held; its
leaves are base facts of the evaluation, each with its file and line.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from compiler import ast
from compiler.codegen import Lit, Rule
from compiler.core.diagnostics import Span
from compiler.logic import conjunctions
from engine.backends.matcher import AtomResult, conjunction, holds, scopes
from engine.evaluation import Evaluation
from engine.meaning.obligations import Obligation
from engine.meaning.base_facts import human, moment_of
from compiler.core.london import falls_off


@dataclass(frozen=True)
class ClauseInfo:
    """What a practitioner needs to find a clause and its source."""

    id: str
    title: str
    kind: str  # clause | exception
    document: str
    document_title: str
    section: str
    says: tuple[str, ...]
    notes: tuple[str, ...]
    span: Span

    def to_json(self) -> dict:
        return {"id": self.id, "title": self.title, "kind": self.kind, "document": self.document,
                "document_title": self.document_title, "section": self.section, "says": list(self.says),
                "notes": list(self.notes), **{"at": self.span.to_json()}}


@dataclass(frozen=True)
class Node:
    """One step of an explanation. `holds` is False for failed conditions (why not)."""

    kind: str  # obligation | clause | condition | fact | exception | timing | status | candidate | why-not
    text: str
    holds: bool = True
    clause: ClauseInfo | None = None
    span: Span | None = None
    children: tuple["Node", ...] = ()

    def to_json(self) -> dict:
        out: dict = {"kind": self.kind, "text": self.text, "holds": self.holds}
        if self.clause:
            out["clause"] = self.clause.to_json()
        if self.span and self.span.file:
            out["source"] = self.span.to_json()
        if self.children:
            out["children"] = [c.to_json() for c in self.children]
        return out

    def walk(self) -> Iterable["Node"]:
        yield self
        for c in self.children:
            yield from c.walk()


def clause_info(evaluation: Evaluation, clause_id: str) -> ClauseInfo:
    c = evaluation.policy.program.clauses[clause_id]
    doc = evaluation.policy.document(c.document)
    return ClauseInfo(c.id.value, c.title.value, "exception" if c.is_exception else "clause", c.document,
                      doc.title.value if doc else "", c.section, tuple(q.value for q in c.says),
                      tuple(n.value for n in c.notes), c.span)


def _when(moment) -> str:
    return human(moment) if moment else "-"


# ---- conditions and derived facts ---------------------------------------------

def _absent_fact(evaluation: Evaluation, r: AtomResult) -> list[Node]:
    """For a test that matched no fact (a 'not', a failed test), say what the facts were instead."""
    if r.facts:
        return []
    if isinstance(r.atom, (ast.HasStatus, ast.NoStatus, ast.HasFlag, ast.ChildField)):
        child = next((c for c in evaluation.facts.children if c.id == r.bindings.get("C")), None)
        if child is None:
            return []
        text = (f"child {child.id}: statuses {', '.join(child.statuses) or 'none'}; flags {', '.join(child.flags) or 'none'}; "
                f"placed in {child.placed_in}; responsible authority {child.responsible_authority}")
        return [Node("fact", text, True, span=child.span)]
    episode = next((e for e in evaluation.facts.episodes if e.id == r.bindings.get("E")), None)
    if episode is None:
        return []
    if isinstance(r.atom, ast.EpisodeField):
        return [Node("fact", f"episode {episode.id}: {r.atom.field} not recorded", True, span=episode.span)]
    if isinstance(r.atom, ast.WindowFlag):
        return [Node("fact", f"no episode of child {episode.child} reported in the {r.atom.within} up to "
                     f"{human(episode.reported)} has {r.atom.flag}", True, span=episode.span)]
    if isinstance(r.atom, ast.OffDay):
        moment = moment_of(episode, r.atom.moment.anchor, r.atom.moment.minutes, evaluation.at)
        if moment is None:
            return [Node("fact", f"episode {episode.id}: not returned by {human(evaluation.at)}", True, span=episode.span)]
        off = falls_off(moment, r.atom.holidays)
        kind = ("a weekend or bank holiday" if off else "a working day") if r.atom.holidays else \
            ("a weekend" if off else "a weekday")
        return [Node("fact", f"{r.atom.moment} is {human(moment)}, {kind}", True, span=episode.span)]
    if isinstance(r.atom, ast.Returned):
        return [Node("fact", f"episode {episode.id}: not returned by {human(evaluation.at)}", True, span=episode.span)]
    return []


def condition_node(evaluation: Evaluation, r: AtomResult) -> Node:
    children = [Node("fact", f.detail, True, span=f.span) for f in r.facts] + _absent_fact(evaluation, r)
    if r.holds and not r.negated and isinstance(r.atom, (ast.Category, ast.Risk)):
        pred = "category_by" if isinstance(r.atom, ast.Category) else "risk_by"
        value = r.atom.category.value if isinstance(r.atom, ast.Category) else r.atom.level.value
        children += derived_nodes(evaluation, pred, r.bindings["E"], value, r.bindings["C"])
    return Node("condition", r.words, r.holds, children=tuple(children))


def _rules(evaluation: Evaluation, pred: str, *head: object) -> list[Rule]:
    """Generated rules whose head has these leading constants (a Var matches anything); remembered
    per evaluation, as a child's obligations of one action ask the same heads again and again."""
    memo = getattr(evaluation, "_rules_memo", None)
    if memo is None:
        memo = {}
        object.__setattr__(evaluation, "_rules_memo", memo)
    if (pred, head) not in memo:
        memo[(pred, head)] = [rule for rule in evaluation.policy.program.rules if rule.head.pred == pred and all(
            not isinstance(a, str | int) or a == h for a, h in zip(rule.head.args, head) if h is not None)]
    return memo[(pred, head)]


def _holding(evaluation: Evaluation, rules: list[Rule], bindings: dict) -> tuple[Rule, dict] | None:
    for rule in rules:
        rows = holds(evaluation, rule.body, bindings)
        if rows:
            return rule, rows[0]
    return None


def derived_nodes(evaluation: Evaluation, pred: str, episode: str, value: str, child: str) -> list[Node]:
    """How `category_by`/`risk_by` gave this episode this value: one clause node per deriving clause."""
    nodes = []
    for e, v, clause_id in evaluation.derived.tuples[pred]:
        if e != episode or v != value:
            continue
        candidates = [r for r in _rules(evaluation, pred) if r.head.args[2] == clause_id]
        found = _holding(evaluation, candidates, {"C": child, "E": episode, "L": value})
        if found:
            nodes.append(rule_node(evaluation, found[0], found[1], f"{pred.split('_')[0]} {value}: "))
    return nodes


def _guards(evaluation: Evaluation, rule: Rule, bindings: dict) -> list[Node]:
    """Exceptions that would have replaced this rule's conclusion, and why they did not apply."""
    out = []
    for lit in rule.body:
        if isinstance(lit, Lit) and lit.pred == "exception_holds" and lit.negated:
            x = str(lit.args[2])
            best = nearest(evaluation, evaluation.policy.program.clauses[x], bindings)
            failed = tuple(condition_node(evaluation, r) for r in best if not r.holds)
            out.append(Node("exception", f"exception {x} did not apply", True, clause_info(evaluation, x),
                            children=failed))
    return out


def rule_node(evaluation: Evaluation, rule: Rule, bindings: dict, prefix: str = "") -> Node:
    info = clause_info(evaluation, rule.clause)
    children = [condition_node(evaluation, r) for r in conjunction(evaluation, rule.conditions, bindings)]
    if rule.exception:
        x = clause_info(evaluation, rule.exception)
        actor = rule.head.args[3]
        exc = [condition_node(evaluation, r) for r in conjunction(evaluation, rule.exception_conditions, bindings)]
        children.append(Node("exception", f"actor replaced by {actor}: exception {x.id} \"{x.title}\"", True, x,
                             children=tuple(exc)))
    children += _guards(evaluation, rule, bindings)
    return Node("clause", f"{prefix}{info.id} \"{info.title}\"", True, info, info.span, tuple(children))


def nearest(evaluation: Evaluation, clause: ast.Clause, bindings: dict) -> list[AtomResult]:
    """The case of the clause's conditions with the fewest failures, tested under `bindings`."""
    best: list[AtomResult] | None = None
    for conj in conjunctions(clause):
        results = conjunction(evaluation, conj, bindings)
        if best is None or sum(not r.holds for r in results) < sum(not r.holds for r in best):
            best = results
    return best or []


# ---- why -------------------------------------------------------------------------

def _timing_node(evaluation: Evaluation, ob: Obligation) -> Node:
    clause = evaluation.policy.program.clauses[ob.clause]
    t = clause.obligation(ob.action).timing
    start = str(t.start) if t.start else "reported"
    if ob.triggered is None:
        arose = "in force while its conditions hold (it is about the child, not an episode)"
    else:
        arose = f"arose {_when(ob.triggered)} ({start}" + (f", occurrence {ob.occurrence}, every {t.every} until returned" if ob.occurrence else "") + ")"
    if ob.due is None:
        due = "no due time is set by the procedure"
    else:
        rule = "immediately" if t.immediately else f"within {t.due_after}" + (f" of {t.due_anchor}" if t.due_anchor else "")
        due = f"due {_when(ob.due)} ({rule})"
    return Node("timing", f"{arose}; {due}")


def _status_node(evaluation: Evaluation, ob: Obligation) -> Node | None:
    if ob.status is None:
        return None
    if ob.done_at is not None:
        done = next((a for a in evaluation.facts.actions if a.child == ob.child and a.action == ob.action
                     and a.episode in (None, ob.episode) and a.at == ob.done_at), None)
        who = f" by {done.by}" if done else ""
        return Node("status", f"status {ob.status}: {ob.action} recorded {_when(ob.done_at)}{who}", True,
                    span=done.span if done else None)
    if ob.status == "overdue":
        return Node("status", f"status overdue: nothing recorded by {_when(ob.due)} (as at {_when(evaluation.at)})")
    return Node("status", f"status pending: nothing recorded yet (as at {_when(evaluation.at)})")


def _because(evaluation: Evaluation, ob: Obligation) -> Node:
    bindings = {"C": ob.child, "E": ob.episode or ""}
    rules = _rules(evaluation, "obligation", None, None, ob.action, ob.actor, ob.modality, ob.clause, ob.exception or "")
    found = _holding(evaluation, rules, bindings)
    if found is None:  # an obligation the rules do not derive cannot be explained; never invent a reason
        raise LookupError(f"no rule derives {ob.action} for {ob.child}")
    return rule_node(evaluation, found[0], found[1], "because ")


def why(evaluation: Evaluation, ob: Obligation, memo: dict | None = None) -> Node:
    """The derivation of one obligation of this evaluation. `memo` (one per evaluation) keeps each
    derivation for the next obligation with the same head (another occurrence of a recurring one)."""
    memo = {} if memo is None else memo
    key = (ob.child, ob.episode, ob.action, ob.actor, ob.modality, ob.clause, ob.exception)
    if key not in memo:
        memo[key] = _because(evaluation, ob)
    children = [_timing_node(evaluation, ob)]
    status = _status_node(evaluation, ob)
    if status:
        children.append(status)
    children.append(memo[key])
    where = f", episode {ob.episode}" if ob.episode else ""
    head = f"{ob.actor} {ob.modality} {ob.action} - child {ob.child}{where}"
    return Node("obligation", head, True, children=tuple(children))


# ---- why not -----------------------------------------------------------------------

def why_not(evaluation: Evaluation, child: str, action: str, episode: str | None = None) -> Node:
    """Every clause that could create `action` for the child, nearest miss first."""
    program = evaluation.policy.program
    present = [o for o in evaluation.obligations
               if o.child == child and o.action == action and (episode is None or o.episode == episode)]
    overriders: dict[str, list[str]] = {}
    for c in program.clauses.values():
        for t in c.overrides:
            overriders.setdefault(t.value, []).append(c.id.value)
    candidates: list[tuple[tuple, Node]] = []
    for clause in program.clauses.values():
        if clause.obligation(action) is None:
            continue
        info = clause_info(evaluation, clause.id.value)
        for bindings in scopes(evaluation, clause, child, episode):
            results = nearest(evaluation, clause, bindings)
            failed = sum(not r.holds for r in results)
            where = f" for episode {bindings['E']}" if bindings["E"] else ""
            mine = [o for o in present if o.clause == clause.id.value and (o.episode or "") == bindings["E"]]
            replaced = [x for x in overriders.get(clause.id.value, ())
                        if holds(evaluation, (Lit("exception_holds", (bindings["C"], bindings["E"], x)),), {})]
            children = [condition_node(evaluation, r) for r in results]
            if mine:
                text = f"{info.id}{where}: all conditions hold; present ({', '.join(sorted({o.actor for o in mine}))})"
                rank = (0, 0)
            elif failed == 0 and replaced:
                x = replaced[0]
                text = f"{info.id}{where}: all conditions hold, but exception {x} replaced it"
                best = nearest(evaluation, program.clauses[x], bindings)
                children.append(Node("exception", f"exception {x} applied", True, clause_info(evaluation, x),
                                     children=tuple(condition_node(evaluation, r) for r in best)))
                rank = (1, 0)
            elif failed == 0:
                text = f"{info.id}{where}: all conditions hold, but it has not arisen by {_when(evaluation.at)}"
                rank = (1, 0)
            else:
                text = f"{info.id}{where}: {failed} of {len(results)} condition{'s' * (len(results) != 1)} failed"
                rank = (2, failed)
            candidates.append(((rank, info.id, bindings["E"]), Node("candidate", text, failed == 0, info, info.span,
                                                                    tuple(children))))
    candidates.sort(key=lambda c: c[0])
    scope = f" (episode {episode})" if episode else ""
    if present:
        head = f"{action} for child {child}{scope}: present ({len(present)} obligation{'s' * (len(present) != 1)})"
    elif candidates:
        head = f"{action} for child {child}{scope}: not required as at {_when(evaluation.at)}; {len(candidates)} way{'s' * (len(candidates) != 1)} it could arise, nearest first"
    else:
        head = f"{action} for child {child}{scope}: no clause creates it for this child"
    return Node("why-not", head, bool(present), children=tuple(n for _, n in candidates))
