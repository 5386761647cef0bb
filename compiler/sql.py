"""Stage 3b: the Datalog `Program` -> SQL (DuckDB dialect), the second back-end.

Input: a `Program` (compiler/codegen.py), the same object pyDatalog runs. Output: an
`SqlProgram`: one table per predicate (columns c0, c1, ...), and INSERT statements
that fill the derived tables stratum by stratum. The translation follows Logica's
(Datalog compiled to SQL): each rule is one SELECT; its positive literals are joined
tables, a variable shared between literals is an equality in WHERE, constants and
comparisons are WHERE conditions, a negated literal is an ANTI JOIN (NOT EXISTS
without a correlated subquery to plan); the rules of one predicate are UNIONed (set
semantics, like Datalog). DuckDB's planning time grows with the number of SELECTs and
joins, and planning, not execution, dominated a local authority's year, so: a literal
that only tests a rule's scope (an episode or a child) is read from a boolean column
computed once (compiler/sql_features.py) instead of joined; and rules that then differ
only in the constants left in them share one SELECT over a VALUES list of those constants.

Strata: a derived predicate is split into partitions by the constants its rule
heads always carry (`exception_holds(C, E, "LMCP-RISK-INSPECTOR")` is a partition of
its own), so `exception_holds` may depend negatively on another of its partitions,
as the generated exceptions do. Partitions are ordered by dependency by the one
stratification, compiler/strata.py (`strata`, re-exported here); negation inside a
cycle is an error (the checker's E031 rules it out); a positive cycle becomes a
statement repeated until it adds no rows.

Obligations are stored numbered: every obligation head names its action, actor, modality,
clause and exception as constants (codegen writes them so; translate refuses a program where
one does not), so the distinct heads are known here, numbered in name order
(`obligation_heads`), and a rule inserts (child, episode, number) into `obligation_rows`.
`obligation` is the view joining the two: the same relation for anything that reads it. On
a UK year this halves the cost of making obligations a set (3 columns to compare, not 7)
and lets the engine join heads on one integer.

Ids are keys: every child and episode id column holds an integer, the id's rank in text order (0: no
episode); compiler/sql_keys.py works out the column types and rewrites the rules so, and refuses a rule
that meets an id with anything else.

Invariants: deterministic text for a program (`to_text`); constants are SQL
literals with quotes doubled, never spliced raw; every statement reads only tables
already complete for the partitions it can match.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Callable, Union

from compiler.codegen import DERIVED_PREDICATES, Cmp, Lit, Program, Rule, Var
from compiler.sql_keys import INT, TEXT, column_types, keyed, sql_types
from compiler.sql_features import Features, ScopeTest, Shape, shape
from compiler.strata import Stratum, can_match, key_positions, strata

__all__ = ["SqlProgram", "Statement", "Stratum", "literal", "strata", "translate"]  # strata: for the reference interpreter

ROWS, HEADS = "obligation_rows", "obligation_heads"  # obligation as (child, episode, head number); the numbered heads


def literal(value: Union[str, int]) -> str:
    """A constant as an SQL literal: integers as digits, text quoted with '' doubled."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise TypeError(f"unsupported constant {value!r}")
    if isinstance(value, int):
        return str(value)
    if "\x00" in value:
        raise ValueError("a constant holds a NUL character")
    return "'" + value.replace("'", "''") + "'"


def column(i: int) -> str:
    return f"c{i}"


@dataclass(frozen=True)
class Statement:
    """One INSERT filling some partitions of one table (`repeat` when recursive), or the statement
    building a feature table (no partitions)."""

    table: str
    partitions: tuple[tuple, ...]
    sql: str
    repeat: bool = False


@dataclass(frozen=True)
class SqlProgram:
    schema: dict[str, tuple[str, ...]]         # every predicate -> column types
    derived: tuple[str, ...]                   # tables the statements fill (created empty first)
    strata: tuple[tuple[Statement, ...], ...]
    features: tuple[str, ...] = ()             # per-stratum feature tables (compiler/sql_features.py)
    heads: tuple[tuple[str, ...], ...] = ()    # head number n + 1: heads[n] (action, actor, modality, clause, exception)
    tagged: dict[str, tuple[str, ...]] = field(default_factory=dict)  # every predicate -> column types, ids tagged

    def create_statements(self) -> list[str]:
        out = []
        for p in self.derived:
            if p != "obligation":
                cols = ", ".join(f"{column(i)} {t}" for i, t in enumerate(self.schema[p]))
                out.append(f"CREATE OR REPLACE TABLE {p} ({cols})")
                continue
            names = ", ".join(f"h.{column(i)}" for i in range(2, 7))
            out.append(f"CREATE OR REPLACE TABLE {HEADS} (hid {INT}, {', '.join(f'{column(i)} {TEXT}' for i in range(2, 7))})")
            if self.heads:
                out.append(f"INSERT INTO {HEADS} VALUES\n  " + ",\n  ".join(
                    f"({n}, {', '.join(map(literal, head))})" for n, head in enumerate(self.heads, 1)))
            out.append(f"CREATE OR REPLACE TABLE {ROWS} (c0 {self.schema[p][0]}, c1 {self.schema[p][1]}, c2 {INT})")
            out.append(f"CREATE OR REPLACE VIEW obligation AS SELECT o.c0, o.c1, {names} FROM {ROWS} AS o "
                       f"JOIN {HEADS} AS h ON h.hid = o.c2")
        return out

    def statements(self) -> list[Statement]:
        return [s for stratum in self.strata for s in stratum]

    def to_text(self) -> str:
        out = ["-- Generated by Clause from the Datalog program. Do not edit.",
               "-- Base tables (filled by the engine as at the evaluation time):"]
        for p in sorted(set(self.schema) - set(self.derived)):
            out.append(f"--   {p}({', '.join(f'{column(i)} {t}' for i, t in enumerate(self.schema[p]))})")
        out += [s + ";" for s in self.create_statements()]
        n = 0
        for stratum in self.strata:
            if all(s.table in self.features for s in stratum):
                out.append(f"\n-- before stratum {n + 1}: feature tables (one row per episode or child, a boolean "
                           "column per test the rules ask of it; each keeps the columns of the one it extends)")
                out += [s.sql + ";" for s in stratum]
                continue
            n += 1
            out.append(f"\n-- stratum {n}")
            for s in stratum:
                parts = ", ".join("[" + ", ".join(map(str, k)) + "]" if k else "[all]" for k in s.partitions)
                out.append(f"-- {s.table} {parts}" + (" (recursive: repeat until no rows are added)" if s.repeat else ""))
                out.append(s.sql + ";")
        return "\n".join(out) + "\n"


def _constants(rule: Rule) -> list[Union[str, int]]:
    """The rule's constants in the order `select` writes them: positive literals, comparisons,
    negated literals, then the head."""
    lits = [x for x in rule.body if isinstance(x, Lit)]
    out: list[Union[str, int]] = [a for x in lits if not x.negated for a in x.args if not isinstance(a, Var)]
    out += [x.value for x in rule.body if isinstance(x, Cmp)]
    out += [a for x in lits if x.negated for a in x.args if not isinstance(a, Var)]
    return out + [a for a in rule.head.args if not isinstance(a, Var)]


def template(shaped: Shape) -> tuple:
    """The rule's form: its literals and comparisons with variables renamed in order of appearance
    and each constant replaced by its type, and the flags it reads. Rules of one form differ only
    in constants."""
    names: dict[str, str] = {}

    def arg(a: object) -> str:
        return names.setdefault(a.name, f"V{len(names)}") if isinstance(a, Var) else type(a).__name__

    rule = shaped.rule
    body = tuple((x.pred, x.negated, tuple(map(arg, x.args))) if isinstance(x, Lit) else (arg(x.var), x.op, "int")
                 for x in rule.body)
    return body, shaped.flags, rule.head.pred, tuple(map(arg, rule.head.args))


def templates(shapes: list[Shape]) -> list[list[Shape]]:
    """Rules grouped by `template`, in first-seen order: each group is one SELECT."""
    groups: dict[tuple, list[Shape]] = {}
    for s in shapes:
        groups.setdefault(template(s), []).append(s)
    return list(groups.values())


def select(shapes: list[Shape], distinct: bool = False) -> str:
    """Rules of one template -> one SELECT producing all their head tuples. Where their constants
    differ, the SELECT joins a VALUES list (one row per rule) and reads the constant from it, so
    DuckDB plans one query instead of one per rule (planning, not execution, dominated a year's load)."""
    rule, rows = shapes[0].rule, [_constants(s.rule) for s in shapes]
    varying = [k for k in range(len(rows[0])) if any(row[k] != rows[0][k] for row in rows)]
    slot = iter(f"h.p{k}" if k in varying else literal(v) for k, v in enumerate(rows[0]))
    tables, bound = [], {}
    where = [("NOT " if negated else "") + f"t0.{name}" for name, negated in shapes[0].flags]
    positives = [x for x in rule.body if isinstance(x, Lit) and not x.negated]
    for i, lit in enumerate(positives):
        alias = f"t{i}"
        tables.append(f"{lit.pred} AS {alias}")
        for j, a in enumerate(lit.args):
            ref = f"{alias}.{column(j)}"
            if isinstance(a, Var):
                if a.name in bound:
                    where.append(f"{ref} = {bound[a.name]}")
                else:
                    bound[a.name] = ref
            else:
                where.append(f"{ref} = {next(slot)}")
    for x in rule.body:
        if isinstance(x, Cmp):
            if x.var.name not in bound:
                raise ValueError(f"unsafe comparison on {x.var} in {rule}")
            where.append(f"{bound[x.var.name]} {x.op} {next(slot)}")
    anti = []
    for k, x in enumerate(y for y in rule.body if isinstance(y, Lit) and y.negated):
        alias, cond, local = f"n{k}", [], {}
        for j, a in enumerate(x.args):
            ref = f"{alias}.{column(j)}"
            if isinstance(a, Var) and a.name in bound:
                cond.append(f"{ref} = {bound[a.name]}")
            elif isinstance(a, Var):  # existential inside the negation
                if a.name in local:
                    cond.append(f"{ref} = {local[a.name]}")
                local[a.name] = ref
            else:
                cond.append(f"{ref} = {next(slot)}")
        anti.append(f" ANTI JOIN {x.pred} AS {alias} ON {' AND '.join(cond) or 'true'}")
    heads = []
    for i, a in enumerate(rule.head.args):
        if isinstance(a, Var):
            if a.name not in bound:
                raise ValueError(f"unsafe head variable {a} in {rule}")
            heads.append(f"{bound[a.name]} AS {column(i)}")
        else:
            heads.append(f"{next(slot)} AS {column(i)}")
    if varying:
        values = ", ".join("(" + ", ".join(literal(row[k]) for k in varying) + ")" for row in rows)
        tables.append(f"(VALUES {values}) AS h({', '.join(f'p{k}' for k in varying)})")
    sql = (f"SELECT {'DISTINCT ' if distinct else ''}{', '.join(heads)} "
           f"FROM {' CROSS JOIN '.join(tables) if tables else '(SELECT 1) AS one'}{''.join(anti)}")
    return sql + (f" WHERE {' AND '.join(where)}" if where else "")


def _complete(levels: list[list[Stratum]], n: int, keys: dict[str, tuple[int, ...]]) -> Callable[[Lit], bool]:
    """Whether every tuple a literal can match is computed before level `n` (base, or only partitions of lower levels)."""
    pending = [(g.table, part) for level in levels[n:] for g in level for part in g.partitions]

    def complete(lit: Lit) -> bool:
        return not any(table == lit.pred and can_match(lit, part, keys.get(lit.pred, ())) for table, part in pending)
    return complete


def _exists(t: ScopeTest) -> str:
    """SQL: whether the test holds for the scope row `s` (see compiler/sql_features.py)."""
    where, own, keys = [], {}, []
    for j, (kind, v) in enumerate(t.args):
        if kind == "k":
            where.append(f"x.c{j} = {literal(v)}")
        elif kind == "s":
            keys.append((f"s.c{v}", f"x.c{j}"))
        elif v in own:
            where.append(f"x.c{j} = {own[v]}")
        else:
            own[v] = f"x.c{j}"
    where += [f"{own[k]} {op} {literal(value)}" for k, op, value in t.compares]
    if len(keys) == 1:
        return f"{keys[0][0]} IN (SELECT {keys[0][1]} FROM {t.pred} AS x" + (f" WHERE {' AND '.join(where)})" if where else ")")
    cond = " AND ".join([f"{b} = {a}" for a, b in keys] + where)
    return f"EXISTS (SELECT 1 FROM {t.pred} AS x" + (f" WHERE {cond})" if cond else ")")


def feature_sql(f: Features) -> str:
    """The statement building a feature table: the previous one's columns and one boolean per new test."""
    tests = "".join(f",\n  coalesce({_exists(t)}, false) AS {name}" for name, t in f.columns)
    return f"CREATE OR REPLACE TABLE {f.table} AS SELECT s.*{tests}\nFROM {f.source} AS s"


def _numbered(shaped: Shape, heads: dict[tuple, int]) -> Shape:
    """An obligation rule as one inserting (child, episode, its head's number) into ROWS."""
    head = shaped.rule.head
    if head.pred != "obligation":
        return shaped
    return replace(shaped, rule=replace(shaped.rule, head=Lit(ROWS, (*head.args[:2], heads[tuple(head.args[2:])]))))


def _heads(rules: list[Rule]) -> dict[tuple, int]:
    """Each obligation head's constants -> its number (1, 2, ... in name order)."""
    for r in rules:
        if any(isinstance(a, Var) for a in r.head.args[2:]):
            raise ValueError(f"an obligation head must name its action, actor, modality, clause and exception: {r}")
    return {h: n for n, h in enumerate(sorted({tuple(r.head.args[2:]) for r in rules}), 1)}


def _by_head(rules: tuple[Rule, ...]) -> dict[str, list[Rule]]:
    out: dict[str, list[Rule]] = {}
    for r in rules:
        out.setdefault(r.head.pred, []).append(r)
    return out


def translate(program: Program) -> SqlProgram:
    """Program -> SqlProgram. Raises ValueError for unsafe rules, negation inside a cycle, or an obligation
    head with a variable past the child and the episode."""
    tagged = column_types(_by_head(program.rules))
    program = replace(program, rules=tuple(keyed(r, tagged) for r in program.rules))
    by_pred = _by_head(program.rules)
    schema = {p: sql_types(t) for p, t in tagged.items()}
    keys = {p: key_positions(rs) for p, rs in by_pred.items()}
    heads = _heads(by_pred.get("obligation", []))
    levels = strata(program)
    out, scratch, known = [], [], {}
    for n, level in enumerate(levels):
        features, shapes = shape(tuple(r for g in level for r in g.rules), n + 1, _complete(levels, n, keys), known)
        if features:
            out.append(tuple(Statement(f.table, (), feature_sql(f)) for f in features))
            scratch += [f.table for f in features]
        by_rule = dict(zip((r for g in level for r in g.rules), (_numbered(s, heads) for s in shapes)))
        stratum = []
        for g in level:
            groups = templates([by_rule[r] for r in g.rules])  # one SELECT alone is made DISTINCT: a relation is a set
            body = "\nUNION\n".join(select(rs, distinct=len(groups) == 1) for rs in groups)
            table = ROWS if g.table == "obligation" else g.table
            cols = ", ".join(column(i) for i in range(3 if table == ROWS else len(schema[g.table])))
            sql = f"INSERT INTO {table} ({cols})\n" + (f"({body})\nEXCEPT SELECT {cols} FROM {table}" if g.recursive else body)
            stratum.append(Statement(g.table, g.partitions, sql, g.recursive))
        out.append(tuple(stratum))
    derived = tuple(sorted(set(DERIVED_PREDICATES) | set(by_pred)))
    return SqlProgram(schema, derived, tuple(out), tuple(scratch), tuple(heads), tagged)
