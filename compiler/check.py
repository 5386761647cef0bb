"""Stage 2: check a parsed policy; collect every problem, then fail once.

Input: a `Policy` (AST), its source documents and its folder. Output: the
diagnostics (errors and warnings), sorted, and where each quote was found. Codes are stable and listed in the
README. The checks never stop at the first problem: each clause is checked fully.
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from collections import defaultdict
from typing import Iterable

from compiler import ast

from compiler.core import vocabulary as vocab
from compiler.core.diagnostics import ClauseError, Diagnostic, Span, error, warning
from compiler.core.suggest import suggestion
from compiler.logic import Conjunction, atoms_of, conjunctions, satisfiable, scope_of
from compiler.sources import SourceText, normalise
from compiler.strata import components


_hint = suggestion
# Warnings a policy may accept with `accept CODE ID... "why"`; W102 is accepted by its own `overlaps`.
ACCEPTABLE = ("W101", "W104", "W105")


class Checker:
    """Runs every check over the policy, appending to `self.diagnostics`."""

    def __init__(self, policy: ast.Policy, sources: dict[str, SourceText], root: Path) -> None:
        self.policy = policy
        self.root = root
        self.sources = sources
        self.diagnostics: list[Diagnostic] = []
        # (clause or not-encoded id, quote index) -> (document, start, end) in normalised text
        self.locations: dict[tuple[str, int], tuple[str, int, int]] = {}
        self.anchors: dict[tuple[str, str], int] = {}
        self.too_complex: set[str] = set()  # clauses whose conditions exceed MAX_CONJUNCTIONS (E042)
        self._cases: dict[int, list[Conjunction]] = {}  # id(clause) -> its cases, for clauses not too complex
        self.clauses = {c.id.value: c for c in policy.clauses}
        declared = policy.items(ast.Declaration)
        self.actors = set(vocab.ACTORS) | {d.name.value for d in declared if d.kind == "actor"}
        self.actions = set(vocab.ACTIONS) | {d.name.value for d in declared if d.kind == "action"}
        homes = [f.path for f in policy.files if any(isinstance(i, ast.Declaration) for i in f.items)] or \
            [f.path for f in policy.files if any(isinstance(i, ast.Document) for i in f.items)]
        self.declarations_file = homes[0] if homes else ""  # where a new `declare` line belongs

    def run(self) -> list[Diagnostic]:
        for clause in self.policy.clauses:
            try:
                self._cases[id(clause)] = conjunctions(clause)
            except ClauseError as e:
                self.diagnostics += e.diagnostics
                self.too_complex.add(clause.id.value)
        self.check_ids()
        self.check_documents()
        for clause in self.policy.clauses:
            self.check_clause(clause)
        for item in self.policy.items(ast.NotEncoded):
            self.check_quotes(item.document, item.section, item.says, item.span)
        self.check_standards()
        self.check_exception_cycles()
        self.check_stratification()
        self.check_acceptances()
        self.check_versions()
        return sorted(self.diagnostics, key=Diagnostic.sort_key)

    def add(self, d: Diagnostic) -> None:
        self.diagnostics.append(d)

    def check_standards(self) -> None:
        """A local standard names a known action, a time that is not zero, and is the only one for its action."""
        first: dict[str, Span] = {}
        for s in self.policy.items(ast.LocalStandard):
            self._name(s.action, self.actions, "E005", "action")
            if s.within.minutes < 1:
                self.add(error("E041", s.span, f"local standard {s.id.value} gives no time", "write e.g. within 24 hours"))
            if s.action.value in first:
                self.add(error("E010", s.action.span, f"a second local standard for '{s.action.value}'",
                               f"one standard per action; the first is at {first[s.action.value]}", (first[s.action.value],)))
            first.setdefault(s.action.value, s.span)

    def cases(self, clause: ast.Clause) -> list[Conjunction]:
        """The clause's cases, put in normal form once (keyed by the node: ids may be duplicated)."""
        return self._cases[id(clause)]

    # -- identity and documents ---------------------------------------------
    def check_ids(self) -> None:
        seen: dict[tuple[str, str], Span] = {}
        for item in (i for f in self.policy.files for i in f.items):
            kind = "document" if isinstance(item, ast.Document) else \
                "declaration" if isinstance(item, ast.Declaration) else \
                "section" if isinstance(item, ast.Section) else "clause"
            if kind == "section" or isinstance(item, ast.Acceptance):
                continue
            name = item.name if isinstance(item, ast.Declaration) else item.id
            key = (kind, name.value)
            if key in seen:
                self.add(error("E010", name.span, f"duplicate {kind} id '{name.value}'",
                               f"each {kind} needs its own id; the first is at {seen[key]}", (seen[key],)))
            else:
                seen[key] = name.span
        for d in self.policy.items(ast.Declaration):
            existing = vocab.ACTORS if d.kind == "actor" else vocab.ACTIONS
            if d.name.value in existing:
                self.add(warning("W103", d.name.span, f"{d.kind} '{d.name.value}' is already in the shared vocabulary",
                                 "remove the declaration"))

    def check_documents(self) -> None:
        docs = {d.id.value for d in self.policy.items(ast.Document)}
        for s in self.policy.items(ast.Section):
            if s.document.value not in docs:
                self.add(error("E021", s.document.span, f"unknown document '{s.document.value}'",
                               _hint(s.document.value, docs) if docs else "declare it with: document ID \"title\" source \"file\""))
        for d in self.policy.items(ast.Document):
            if not inside(self.root / d.source.value, self.root):
                self.add(error("E025", d.source.span, f"source '{d.source.value}' of document {d.id.value} is outside "
                               "the policy folder", "keep source texts inside the policy folder, e.g. sources/NAME.txt"))
            elif d.id.value not in self.sources:
                self.add(error("E022", d.source.span, f"source text '{d.source.value}' of document {d.id.value} cannot be read",
                               "source paths are relative to the policy folder"))
        for s in self.policy.items(ast.Section):
            source = self.sources.get(s.document.value)
            if source is None:
                continue
            if s.anchor is not None:
                hits = source.find(s.anchor.value)
                if not hits:
                    self.add(error("E024", s.anchor.span, f"the section's start \"{s.anchor.value[:40]}\" is not in {s.document.value}",
                                   "'from' names words that open the section in the source text"))
                    continue
                self.anchors[(s.document.value, s.title.value)] = hits[0][0]
            else:
                hits = source.find(s.title.value)
                self.anchors[(s.document.value, s.title.value)] = hits[0][0] if hits else 0

    def check_quotes(self, document: str, section: str, says: tuple[ast.Text, ...], span: Span) -> None:
        if not document:
            self.add(error("E023", span, f"'{span.clause}' is not inside a section",
                           "start the file with: section DOC \"heading\""))
            return
        source = self.sources.get(document)
        if source is None:
            return  # reported once, at the document or section
        start = self.anchors.get((document, section), 0)
        for i, quote in enumerate(says):
            hits = source.find(quote.value)
            after = [h for h in hits if h[0] >= start]
            if after:
                self.locations[(span.clause, i)] = (document, *after[0])
                continue
            if hits:
                line, col = source.position(hits[0][0])
                self.add(error("E020", quote.span, f"quote found in {document} only before this section starts",
                               f"it is at line {line}, column {col}: move the clause to that section, or check the "
                               "section's 'from' words"))
                continue
            matched, at = source.longest_prefix(quote.value)
            line, col = source.position(at)
            text = normalise(quote.value)
            near, theirs = text[:matched], source.char_at(at + matched)
            ours = text[matched] if matched < len(text) else ""
            differs = f": the quote has '{ours}' where the source has '{theirs}'" if ours and theirs else ""
            hint = (f"the first {matched} characters match {document} at line {line}, column {col}; "
                    f"the quote differs after \"{near[-30:]}\"{differs}") if matched >= 10 else \
                f"check the wording against {source.path}"
            if any(c in quote.value for c in "'\"‘’“”"):
                hint += " (straight and curly quotation marks match each other)"
            self.add(error("E020", quote.span, f"quote not found in the source text of {document}", hint))

    # -- one clause -------------------------------------------------------------
    def check_clause(self, clause: ast.Clause) -> None:
        self.check_quotes(clause.document, clause.section, clause.says, clause.span)
        if clause.when is not None:
            for atom in atoms_of(clause.when):
                self.check_atom(atom)
        for c in clause.then:
            self.check_conclusion(clause, c)
        self.check_overrides(clause)
        if clause.id.value in self.too_complex:
            return
        self.check_scope(clause)
        for o in clause.overlaps:
            unknown = [x for x in o.others if x.value not in self.clauses]
            for x in unknown:
                self.add(error("E011", x.span, f"unknown clause '{x.value}'", _hint(x.value, self.clauses)))
            if not unknown:
                names = ", ".join(x.value for x in o.others)
                # a declared overlap is accepted by its own line, which names both clauses and says why
                self.add(replace(warning("W102", o.span, f"{clause.id.value} overlaps {names}: {o.reason.value}",
                                         "both are encoded faithfully; practitioners see every obligation",
                                         tuple(self.clauses[x.value].span for x in o.others)),
                                 accepted=o.reason.value))
        if clause.when is not None and not any(satisfiable(conj) for conj in self.cases(clause)):
            self.add(warning("W101", clause.when.span, f"{clause.id.value} can never fire: its conditions contradict each other",
                             "check the 'and' / 'not' combinations; if it is intended, add: "
                             f"accept W101 {clause.id.value} \"why\""))

    def _name(self, name: ast.Name, known: Iterable[str], code: str, what: str) -> None:
        known = tuple(known)
        if name.value not in known:
            hint = _hint(name.value, known)
            if what in ("action", "actor"):
                where = f" to {self.declarations_file}" if self.declarations_file else ""
                line = f'declare {what} {name.value} "what it means"'
                hint = f"{hint} If it is a new {what}, add{where}: {line}" if hint.startswith("did") else \
                    f"if it is a new {what}, add{where}: {line}"
            self.add(error(code, name.span, f"unknown {what} '{name.value}'", hint))

    def check_atom(self, atom: ast.Atom) -> None:
        if isinstance(atom, ast.HasStatus):
            self._name(atom.status, vocab.STATUSES, "E002", "status")
        elif isinstance(atom, ast.HasFlag):
            self._name(atom.flag, vocab.FLAGS, "E003", "flag")
        elif isinstance(atom, ast.ChildField):
            self._name(atom.field, vocab.CHILD_FIELDS, "E007", "child field")
            if atom.field.value in vocab.CHILD_FIELDS:
                self._name(atom.value, vocab.CHILD_FIELDS[atom.field.value], "E007", f"value of {atom.field.value}")
        elif isinstance(atom, ast.EpisodeField):
            fields = (*vocab.EPISODE_BOOLEANS, *vocab.EPISODE_LEVELS)
            self._name(atom.field, fields, "E007", "episode field")
            if atom.field.value in vocab.EPISODE_LEVELS and atom.value is not None:
                self._name(atom.value, vocab.EPISODE_LEVELS[atom.field.value], "E007", f"value of {atom.field.value}")
            elif atom.field.value in vocab.EPISODE_BOOLEANS and atom.value is not None:
                self.add(error("E007", atom.value.span, f"{atom.field.value} is true or false and takes no value",
                               f"write: the episode has {atom.field.value}"))
        elif isinstance(atom, ast.Category):
            self._name(atom.category, vocab.CATEGORIES, "E007", "category")
        elif isinstance(atom, ast.Risk):
            self._name(atom.level, vocab.RISK_LEVELS, "E007", "risk level")
        elif isinstance(atom, ast.Window) and (atom.count < 1 or atom.within.minutes < 1):
            self.add(error("E041", atom.span, "a window needs at least 1 episode and at least 1 day",
                           "e.g. reported missing 3 times within 30 days"))
        elif isinstance(atom, ast.WindowFlag):
            self._name(atom.flag, vocab.EPISODE_BOOLEANS, "E003", "episode flag")
            if atom.within.minutes < 1:
                self.add(error("E041", atom.span, "a window needs at least 1 day",
                               "e.g. the child has had safeguarding_concerns within 30 days"))

    def check_conclusion(self, clause: ast.Clause, c: ast.Conclusion) -> None:
        if isinstance(c, ast.Obligation):
            for actor in c.actors:
                self._name(actor, self.actors, "E004", "actor")
            self._name(c.modality, vocab.MODALITIES, "E006", "modality")
            self._name(c.action, self.actions, "E005", "action")
            t = c.timing
            if t.every is not None and t.due_anchor is not None:
                self.add(error("E040", c.span, "a recurring obligation's due time must count from each occurrence",
                               "write 'within 7 days' without 'of ...'"))
            if t.every is not None and t.every.minutes < 1:
                self.add(error("E041", c.span, "a recurrence period must be at least 1 hour"))
            if t.immediately and t.due_after is not None:
                self.add(error("E040", c.span, "an obligation is either 'immediately' or 'within' a time, not both"))
        elif isinstance(c, ast.SetCategory):
            self._name(c.category, vocab.CATEGORIES, "E007", "category")
        elif isinstance(c, ast.SetRisk):
            if c.level is not None:
                self._name(c.level, vocab.RISK_LEVELS, "E007", "risk level")
            else:
                self._name(c.from_field, tuple(vocab.EPISODE_LEVELS), "E007", "risk field")
        elif isinstance(c, ast.ActorInstead):
            self._name(c.actor, self.actors, "E004", "actor")
            if not clause.override_actor:
                self.add(error("E012", c.span, "'ACTOR instead' only fits an exception that 'overrides actor of' clauses",
                               "write: exception ID \"title\" overrides actor of CLAUSE-ID"))

    def check_overrides(self, clause: ast.Clause) -> None:
        if clause.override_actor and not all(isinstance(c, ast.ActorInstead) for c in clause.then):
            self.add(error("E012", clause.span, f"{clause.id.value} overrides only the actor, so it must conclude 'ACTOR instead'"))
        for target in clause.overrides:
            other = self.clauses.get(target.value)
            if other is None:
                self.add(error("E011", target.span, f"unknown clause '{target.value}' in the exception",
                               _hint(target.value, [c for c in self.clauses if c != clause.id.value])))
                continue
            kinds = {_conclusion_kind(c) for c in other.then}
            mine = {_conclusion_kind(c) for c in clause.then}
            if clause.override_actor and kinds != {"obligation"}:
                self.add(error("E012", target.span, f"{target.value} creates no obligation, so it has no actor to override"))
            elif not clause.override_actor and not (mine & kinds):
                self.add(error("E012", target.span,
                               f"{clause.id.value} concludes {'/'.join(sorted(mine))} but {target.value} concludes "
                               f"{'/'.join(sorted(kinds))}; an exception replaces a conclusion of the same kind"))

    def check_scope(self, clause: ast.Clause) -> None:
        needs, binds = scope_of(clause, self.cases(clause))
        if needs and not binds:
            first = needs[0]
            self.add(error("E030", first, f"unsafe variable: {clause.id.value} refers to an episode, "
                                          "but no positive condition says which episode",
                           "add a condition about the episode, such as 'the episode is missing'"))

    # -- whole-policy checks ---------------------------------------------------
    def check_acceptances(self) -> None:
        """`accept CODE ID... "why"` names a warning that can be accepted, and clauses that exist."""
        for a in self.policy.items(ast.Acceptance):
            if a.code.value == "W102":
                self.add(error("E014", a.code.span, "a declared overlap (W102) is already accepted by its 'overlaps' line",
                               "remove this 'accept' line"))
            elif a.code.value not in ACCEPTABLE:
                self.add(error("E014", a.code.span, f"'{a.code.value}' is not a warning that can be accepted",
                               f"accept one of {', '.join(ACCEPTABLE)}; fix anything else (W103: remove the declaration)"))
            for x in a.clauses:
                if x.value not in self.clauses:
                    self.add(error("E011", x.span, f"unknown clause '{x.value}' in the 'accept' line",
                                   _hint(x.value, self.clauses)))
    def check_versions(self) -> None:
        """`version of X` names a clause that is no version itself; every version of X (X included)
        has dates in force, its own or its document's, and no two overlap (E015); a gap between
        consecutive versions, when no version judges the episodes reported then, is W107."""
        dates = {d.id.value: d.in_force for d in self.policy.items(ast.Document)}
        families: dict[str, list[ast.Clause]] = defaultdict(list)
        for c in self.policy.clauses:
            if c.version_of is None:
                continue
            target = self.clauses.get(c.version_of.value)
            if target is None:
                self.add(error("E011", c.version_of.span, f"unknown clause '{c.version_of.value}' in 'version of'",
                               _hint(c.version_of.value, self.clauses)))
            elif target.version_of is not None:
                self.add(error("E015", c.version_of.span, f"{target.id.value} is itself a version of "
                               f"{target.version_of.value}", f"write: version of {target.version_of.value}"))
            elif target.is_exception != c.is_exception:
                self.add(error("E015", c.version_of.span, "a clause and an exception cannot be versions of each other"))
            else:
                families[target.id.value].append(c)
        for family, versions in families.items():
            members = [self.clauses[family], *versions]
            periods = [(m, m.in_force or dates.get(m.document)) for m in members]
            undated = [m for m, p in periods if p is None]
            for m in undated:
                self.add(error("E015", m.id.span, f"{m.id.value} is one of several versions of {family}, so it needs "
                               "the dates it is in force", "add e.g. 'in force until 2023-10-24' after its title"))
            if undated:
                continue
            dated = sorted(periods, key=lambda mp: (mp[1].start is not None, mp[1].start or mp[1].end))
            for (a, pa), (b, pb) in zip(dated, dated[1:]):
                if pa.overlaps(pb):
                    self.add(error("E015", (b.in_force or pb).span, f"versions {a.id.value} ({pa}) and {b.id.value} "
                                   f"({pb}) of {family} are both in force on some days",
                                   "end one version the day before the next begins", ((a.in_force or pa).span,)))
                elif pa.end is None or pb.start is None or (pb.start - pa.end).days > 1:
                    self.add(warning("W107", (b.in_force or pb).span, f"no version of {family} is in force between "
                                     f"{a.id.value} ({pa}) and {b.id.value} ({pb})",
                                     "episodes reported then are judged by no version of it; close the gap if unintended"))

    def check_exception_cycles(self) -> None:
        graph = {cid: [t.value for t in c.overrides if t.value in self.clauses] for cid, c in self.clauses.items()}
        state: dict[str, int] = {}

        def visit(node: str, path: list[str]) -> None:
            state[node] = 1
            for nxt in graph[node]:
                if state.get(nxt) == 1:
                    cycle = path[path.index(nxt):] + [nxt]
                    c = self.clauses[node]
                    self.add(error("E013", c.span, "exception cycle: " + " overrides ".join(cycle),
                                   "an exception cannot (even indirectly) override itself",
                                   tuple(self.clauses[x].span for x in cycle[:-1] if x != node)))
                elif nxt not in state:
                    visit(nxt, path + [nxt])
            state[node] = 2

        for cid in sorted(graph):
            if cid not in state:
                visit(cid, [cid])

    def check_stratification(self) -> None:
        """Derived facts (category, risk) may not depend on themselves: through 'not' the meaning is
        undefined (E031); without, pyDatalog's search does not finish (E032, found on a category/risk cycle)."""
        edges: dict[str, set[tuple[str, bool]]] = defaultdict(set)
        where: dict[str, Span] = {}
        for clause in self.policy.clauses:
            if clause.id.value in self.too_complex:
                continue
            heads = {_conclusion_kind(c) for c in clause.then} & {"category", "risk"}
            for head in heads:
                where.setdefault(head, clause.span)
                for conj in self.cases(clause):
                    for negated, atom in conj:
                        dep = _derived_kind(atom)
                        if dep:
                            edges[head].add((dep, negated))
                            if negated and dep == head:
                                where[head] = clause.span
            # an exception makes every overridden clause depend negatively on its own conditions
            for target in clause.overrides:
                other = self.clauses.get(target.value)
                if other is None or clause.when is None or other.id.value in self.too_complex:
                    continue
                for h in {_conclusion_kind(c) for c in other.then} & {"category", "risk"}:
                    for conj in self.cases(clause):
                        for _, atom in conj:
                            dep = _derived_kind(atom)
                            if dep:
                                edges[h].add((dep, True))
        nodes = sorted(set(edges) | {m for out in edges.values() for m, _ in out})
        for comp in components(nodes, edges):
            for start in (n for n in comp.members if n in where):
                if comp.negative:
                    self.add(error("E031", where[start], f"recursion through negation: '{start}' depends on itself through 'not'",
                                   "a derived fact cannot be defined by its own absence; restate the condition on facts"))
                elif comp.recursive:
                    self.add(error("E032", where[start], f"recursion: '{start}' depends on itself",
                                   "a category or risk defined through itself is never settled (the rule engine does not "
                                   "finish); state the condition on recorded facts: statuses, flags, episode fields"))


def _derived_kind(atom: ast.Atom) -> str | None:
    """The derived fact a condition atom reads ('category' or 'risk'), if any."""
    return "category" if isinstance(atom, ast.Category) else "risk" if isinstance(atom, ast.Risk) else None


def _conclusion_kind(c: ast.Conclusion) -> str:
    return {ast.Obligation: "obligation", ast.SetCategory: "category", ast.SetRisk: "risk",
            ast.ActorInstead: "obligation"}[type(c)]


def inside(path: Path, root: Path) -> bool:
    """Whether `path` lies within `root` (a policy reads only its own files)."""
    try:
        return path.resolve().is_relative_to(root.resolve())
    except RuntimeError:  # a link loop leads nowhere, so nowhere outside: reading it fails, as E000 says
        return True
    except (OSError, ValueError):
        return False


def check(policy: ast.Policy, sources: dict[str, SourceText], root: Path) -> tuple[list[Diagnostic], dict]:
    """Every diagnostic, and where each quote was found: (id, index) -> (doc, start, end)."""
    checker = Checker(policy, sources, root)
    return checker.run(), checker.locations
