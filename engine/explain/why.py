"""Why and why not: derivation trees, rebuilt by matching each rule body again.

pyDatalog keeps no proofs, so for an obligation we find the generated rule whose head matches it
and whose body holds under the obligation's bindings (matched against the evaluation's relations,
engine/explain/conditions.py), then test each of that rule's condition atoms on its own to collect
the facts that satisfied it, descending into derived facts (category, risk) and into the exceptions
that replaced an actor or did not apply. For "why not" every clause that could create the action
is tried on every episode of the child and ranked by how many conditions failed.

Input: an `Evaluation`. Output: typed node trees (engine/explain/nodes.py; render.py writes their
English). Invariants: a "why" tree cites only clauses whose rules held; its leaves are base facts
of the evaluation (or the records that show why a test failed), each with its file and line; the
evaluation is only read.
"""
from __future__ import annotations

from datetime import datetime

from compiler import ast
from compiler.codegen import Lit, Program, Rule
from compiler.core.london import falls_off
from engine.evaluation import Evaluation
from engine.explain.conditions import Asked, AtomResult, scopes
from engine.explain.nodes import (CandidateNode, ClauseInfo, ClauseNode, ConditionNode, ExceptionNode, FactNode, Node,
                                  ObligationNode, RecordNode, StatusNode, TimingNode, WhyNotNode)
from engine.meaning.base_facts import BaseFact, held_at, moment_of, utc, window_start
from engine.meaning.obligations import Obligation
from facts.model import Child, Held, field_span


def _held(child: Child | None, pred: str, name: str, moment: datetime) -> Held | None:
    """The child's record of status (flag) `name` in force at `moment`, as base_facts found it."""
    if child is None:
        return None
    records = child.statuses if pred.startswith("status") else child.flags
    return next((h for h in held_at(records, moment) if h.name == name), None)


class RuleIndex:
    """A program's rules by head predicate, and the lookups explanations repeat (a child's
    obligations of one action ask the same heads again and again), remembered per program."""

    def __init__(self, program: Program) -> None:
        self.program = program
        self.by_pred: dict[str, list[Rule]] = {}
        for rule in program.rules:
            self.by_pred.setdefault(rule.head.pred, []).append(rule)
        self._memo: dict[tuple, list[Rule]] = {}

    def heads(self, pred: str, *head: object) -> list[Rule]:
        """Rules whose head has these constants where given (None: any; a Var matches anything)."""
        key = (pred, head)
        if key not in self._memo:
            self._memo[key] = [r for r in self.by_pred.get(pred, ()) if all(
                not isinstance(a, str | int) or a == h for a, h in zip(r.head.args, head) if h is not None)]
        return self._memo[key]


_INDEXES: dict[int, RuleIndex] = {}


def rule_index(program: Program) -> RuleIndex:
    """The program's index, built once (keyed on the program object; a few policies at most)."""
    hit = _INDEXES.get(id(program))
    if hit is None or hit.program is not program:
        if len(_INDEXES) >= 8:
            _INDEXES.clear()
        hit = _INDEXES[id(program)] = RuleIndex(program)
    return hit


def clause_info(evaluation: Evaluation, clause_id: str) -> ClauseInfo:
    c = evaluation.policy.program.clauses[clause_id]
    doc = evaluation.policy.document(c.document)
    normal = evaluation.policy.normal[clause_id]
    return ClauseInfo(c.id.value, c.title.value, "exception" if c.is_exception else "clause", c.document,
                      doc.title.value if doc else "", c.section, tuple(q.value for q in c.says),
                      tuple(n.value for n in c.notes), c.span, normal.version_of,
                      str(normal.in_force) if normal.in_force else None)


class Explainer:
    """Explains one evaluation: its relations indexed once, and derivations kept for the next
    obligation with the same head (another occurrence of a recurring one)."""

    def __init__(self, evaluation: Evaluation) -> None:
        self.evaluation = evaluation
        self.asked = Asked(evaluation)
        self.rules = rule_index(evaluation.policy.program)
        self._because: dict[tuple, ClauseNode] = {}
        self._children = {c.id: c for c in evaluation.facts.children}
        self._episodes = {e.id: e for e in evaluation.facts.episodes}

    # ---- facts and conditions ----------------------------------------------------

    def _fact(self, f: BaseFact) -> FactNode:
        ev = self.evaluation
        if f.pred in ("child", "status", "flag", "child_field"):
            child = self._children.get(f.args[0])
            held = _held(child, f.pred, f.args[1], ev.at) if f.pred in ("status", "flag") else None
            return FactNode(pred=f.pred, args=f.args, span=f.span, child=child, held=held,
                            at=ev.at if held else None)
        episode = self._episodes.get(f.args[0])
        if f.pred in ("status_at", "flag_at") and episode is not None:
            child = self._children.get(episode.child)
            return FactNode(pred=f.pred, args=f.args, span=f.span, child=child, episode=episode,
                            held=_held(child, f.pred, f.args[1], episode.reported), at=episode.reported)
        child = self._children.get(episode.child) if episode and f.pred == "age" else None
        window: tuple = ()
        if f.pred in ("window_count", "window_true") and episode is not None:
            lo, hi = utc(window_start(episode.reported, f.args[1])), utc(episode.reported)
            window = tuple(sorted((e for e in ev.facts.episodes if e.child == episode.child
                                   and lo <= utc(e.reported) <= hi), key=lambda e: utc(e.reported)))
        counted = tuple(e.reported for e in window) if f.pred == "window_count" else ()
        flagged = tuple(e for e in window if getattr(e, str(f.args[2]))) if f.pred == "window_true" else ()
        return FactNode(pred=f.pred, args=f.args, span=f.span, child=child, episode=episode, at=ev.at,
                        counted=counted, flagged=flagged)

    def _records(self, r: AtomResult) -> list[Node]:
        """For a test that matched no fact (a 'not', a failed test), what the records say instead."""
        if r.facts:
            return []
        at = self.evaluation.at
        episode = self._episodes.get(r.bindings.get("E"))
        if isinstance(r.atom, (ast.HasStatus, ast.NoStatus, ast.HasFlag, ast.ChildField)):
            child = self._children.get(r.bindings.get("C"))
            return [RecordNode(about="child", span=child.span, child=child, episode=episode,
                               at=episode.reported if episode else at)] if child else []
        if episode is None:
            return []
        if isinstance(r.atom, ast.EpisodeField):
            return [RecordNode(about="unrecorded", span=field_span(episode, r.atom.field.value), episode=episode,
                               field=r.atom.field.value)]
        if isinstance(r.atom, ast.WindowFlag):
            return [RecordNode(about="no_flag_in_window", span=episode.span, episode=episode, field=r.atom.flag.value,
                               within=r.atom.within)]
        if isinstance(r.atom, ast.OffDay):
            moment = moment_of(episode, r.atom.moment.anchor, r.atom.moment.minutes, at)
            if moment is None:
                return [RecordNode(about="not_returned", span=episode.span, episode=episode, at=at)]
            return [RecordNode(about="calendar", span=field_span(episode, r.atom.moment.anchor), episode=episode,
                               moment=r.atom.moment, when=moment, off=falls_off(moment, r.atom.holidays),
                               holidays=r.atom.holidays)]
        if isinstance(r.atom, ast.Returned):
            return [RecordNode(about="not_returned", span=episode.span, episode=episode, at=at)]
        return []

    def condition(self, r: AtomResult) -> ConditionNode:
        children: list[Node] = [self._fact(f) for f in r.facts] + self._records(r)
        if r.holds and not r.negated and isinstance(r.atom, (ast.Category, ast.Risk)):
            pred = "category_by" if isinstance(r.atom, ast.Category) else "risk_by"
            value = r.atom.category.value if isinstance(r.atom, ast.Category) else r.atom.level.value
            children += self._derived(pred, r.bindings["E"], value, r.bindings["C"])
        bindings = tuple(sorted((k, v) for k, v in r.bindings.items() if k in ("C", "E")))
        return ConditionNode(atom=r.atom, negated=r.negated, holds=r.holds, bindings=bindings, children=tuple(children))

    def _holding(self, rules: list[Rule], bindings: dict) -> tuple[Rule, dict] | None:
        for rule in rules:
            rows = self.asked.holds(rule.body, bindings)
            if rows:
                return rule, rows[0]
        return None

    def _derived(self, pred: str, episode: str, value: str, child: str) -> list[Node]:
        """How `category_by`/`risk_by` gave this episode this value: one clause node per deriving clause."""
        nodes: list[Node] = []
        for e, v, clause_id in self.evaluation.derived.tuples[pred]:
            if e != episode or v != value:
                continue
            found = self._holding(self.rules.heads(pred, None, None, clause_id), {"C": child, "E": episode, "L": value})
            if found:
                nodes.append(self.rule(found[0], found[1], "category" if pred == "category_by" else "risk", value))
        return nodes

    def nearest(self, clause: ast.Clause, bindings: dict) -> list[AtomResult]:
        """The case of the clause's conditions with the fewest failures, tested under `bindings`."""
        best: list[AtomResult] | None = None
        for conj in self.evaluation.policy.normal[clause.id.value].cases:
            results = self.asked.conjunction(conj, bindings)
            if best is None or sum(not r.holds for r in results) < sum(not r.holds for r in best):
                best = results
        return best or []

    def _guards(self, rule: Rule, bindings: dict) -> list[Node]:
        """Exceptions that would have replaced this rule's conclusion, and why they did not apply."""
        out: list[Node] = []
        for lit in rule.body:
            if isinstance(lit, Lit) and lit.pred == "exception_holds" and lit.negated:
                x = str(lit.args[2])
                best = self.nearest(self.evaluation.policy.program.clauses[x], bindings)
                out.append(ExceptionNode(clause=clause_info(self.evaluation, x), outcome="did_not_apply",
                                         children=tuple(self.condition(r) for r in best if not r.holds)))
        return out

    def rule(self, rule: Rule, bindings: dict, sets: str = "because", value: str | None = None) -> ClauseNode:
        ev = self.evaluation
        children: list[Node] = [self.condition(r) for r in self.asked.conjunction(rule.conditions, bindings)]
        if rule.exception:
            exc = tuple(self.condition(r) for r in self.asked.conjunction(rule.exception_conditions, bindings))
            children.append(ExceptionNode(clause=clause_info(ev, rule.exception), outcome="replaced_actor",
                                          actor=str(rule.head.args[3]), children=exc))
        children += self._guards(rule, bindings)
        return ClauseNode(clause=clause_info(ev, rule.clause), sets=sets, value=value, children=tuple(children))  # type: ignore[arg-type]

    # ---- why ---------------------------------------------------------------------

    def _status(self, ob: Obligation) -> StatusNode | None:
        ev = self.evaluation
        if ob.status is None:
            return None
        done = None
        if ob.done_at is not None:
            done = next((a for a in ev.facts.actions if a.child == ob.child and a.action == ob.action
                         and a.episode in (None, ob.episode) and a.at == ob.done_at), None)
        return StatusNode(status=ob.status, action=ob.action, at=ev.at, due=ob.due, done_at=ob.done_at, recorded=done,
                          triggered=ob.triggered, open_for=ob.open_for)

    def because(self, ob: Obligation) -> ClauseNode:
        key = (ob.child, ob.episode, ob.action, ob.actor, ob.modality, ob.clause, ob.exception)
        if key not in self._because:
            rules = self.rules.heads("obligation", None, None, ob.action, ob.actor, ob.modality, ob.clause, ob.exception or "")
            found = self._holding(rules, {"C": ob.child, "E": ob.episode or ""})
            if found is None:  # an obligation the rules do not derive cannot be explained; never invent a reason
                raise LookupError(f"no rule derives {ob.action} for {ob.child}")
            self._because[key] = self.rule(found[0], found[1])
        return self._because[key]

    def why(self, ob: Obligation) -> ObligationNode:
        """The derivation of one obligation of this evaluation."""
        timing = self.evaluation.policy.program.clauses[ob.clause].obligation(ob.action).timing
        children: list[Node] = [TimingNode(triggered=ob.triggered, due=ob.due, occurrence=ob.occurrence, timing=timing,
                                                 triggered_latest=ob.triggered_latest, due_latest=ob.due_latest,
                                            standard=ob.standard)]
        status = self._status(ob)
        if status:
            children.append(status)
        children.append(self.because(ob))
        for other in (ob.clauses or (ob.clause,))[1:]:  # one duty, one row: each clause that gives it, explained
            children.extend(self._also_because(ob, other))
        return ObligationNode(obligation=ob, children=tuple(children))

    def _also_because(self, ob: Obligation, clause: str) -> list[ClauseNode]:
        """Another clause that gives the same duty (its own modality or exception may differ from the row's)."""
        rules = self.rules.heads("obligation", None, None, ob.action, ob.actor, None, clause, None)
        found = self._holding(rules, {"C": ob.child, "E": ob.episode or ""})
        return [self.rule(found[0], found[1])] if found else []

    # ---- why not -----------------------------------------------------------------

    def why_not(self, child: str, action: str, episode: str | None = None) -> WhyNotNode:
        """Every clause that could create `action` for the child, nearest miss first."""
        ev = self.evaluation
        program = ev.policy.program
        present = [o for o in ev.obligations
                   if o.child == child and o.action == action and (episode is None or o.episode == episode)]
        candidates: list[tuple[tuple, CandidateNode]] = []
        for clause in program.clauses.values():
            if clause.obligation(action) is None:
                continue
            info = clause_info(ev, clause.id.value)
            for bindings in scopes(ev, clause, child, episode):
                results = self.nearest(clause, bindings)
                failed = sum(not r.holds for r in results)
                mine = [o for o in present if clause.id.value in (o.clauses or (o.clause,))
                        and (o.episode or "") == bindings["E"]]
                replaced = [x for x in ev.policy.normal[clause.id.value].overriders()
                            if self.asked.holds((Lit("exception_holds", (bindings["C"], bindings["E"], x)),), {})]
                children: list[Node] = [self.condition(r) for r in results]
                exception = None
                if mine:
                    outcome, rank = "present", (0, 0)
                elif failed == 0 and replaced:
                    outcome, rank, exception = "replaced", (1, 0), replaced[0]
                    best = self.nearest(program.clauses[exception], bindings)
                    children.append(ExceptionNode(clause=clause_info(ev, exception), outcome="applied",
                                                  children=tuple(self.condition(r) for r in best)))
                elif failed == 0:
                    outcome, rank = "not_arisen", (1, 0)
                else:
                    outcome, rank = "failed", (2, failed)
                node = CandidateNode(clause=info, child=bindings["C"], episode=bindings["E"] or None, outcome=outcome,  # type: ignore[arg-type]
                                     failed=failed, conditions=len(results), at=ev.at,
                                     actors=tuple(sorted({o.actor for o in mine})), exception=exception,
                                     children=tuple(children))
                candidates.append(((rank, info.id, bindings["E"]), node))
        candidates.sort(key=lambda c: c[0])
        return WhyNotNode(child=child, action=action, episode=episode, present=len(present), at=ev.at,
                          children=tuple(n for _, n in candidates))


def why(evaluation: Evaluation, ob: Obligation) -> ObligationNode:
    """The derivation of one obligation (for many, make one `Explainer` and ask it each)."""
    return Explainer(evaluation).why(ob)


def why_not(evaluation: Evaluation, child: str, action: str, episode: str | None = None) -> WhyNotNode:
    return Explainer(evaluation).why_not(child, action, episode)
