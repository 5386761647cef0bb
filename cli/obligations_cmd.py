"""`clause obligations`: what is required now, for every child in the input."""
from __future__ import annotations

import sys
from datetime import datetime

import click

from compiler.core.vocabulary import OBLIGATION_STATUSES
from cli.app import (fail_on_domain_errors, load_policy, main, parse_at, policy_option, profile_option, redact_option,
                     show_notes, write_output)


@main.command()
@click.argument("input_path", metavar="CASE_OR_FOLDER", type=click.Path())
@policy_option
@click.option("--at", "at_text", metavar="TIME", help="Evaluate as at this London time (default: each case's as_of; now for bulk).")
@click.option("--child", help="Only this child's obligations.")
@click.option("--status", type=click.Choice(OBLIGATION_STATUSES), help="Only obligations with this status.")
@click.option("--horizon", metavar="SPAN", help="Also list duties that will arise within SPAN (7d, 48h, 90m) if nothing "
              "changes (the children stay missing), with the moment each arises and who will hold it: status upcoming.")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True)
@click.option("--engine", type=click.Choice(["auto", "pydatalog", "duckdb"]), default="auto", show_default=True,
              help="pydatalog: the reference engine; duckdb: the same rules run as SQL (large inputs); "
                   "auto: duckdb above the measured crossover in episodes (engine.backends.THRESHOLD, bench/results.md), "
                   "counting all the case files together: they then run in one DuckDB pass.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to a file instead of stdout.")
@profile_option
@redact_option
@fail_on_domain_errors
def obligations(input_path: str, policy_path: str | None, at_text: str | None, child: str | None,
                status: str | None, horizon: str | None, fmt: str, engine: str, output: str | None, profile: str,
                redact: bool) -> None:
    """What is required now, for every child in a case file, a folder of cases, a bulk CSV folder or an
    extract (SSD tables, SSDA903 tables: --profile)."""
    from engine.backends import choose, evaluate_case, is_bulk_folder, later_count, later_episodes
    from facts.extracts import extract_of
    from engine.backends.horizon import parse_horizon, with_upcoming
    at = parse_at(at_text)
    minutes = parse_horizon(horizon) if horizon is not None else None
    if horizon is not None and minutes is None:
        raise click.BadParameter(f"'{horizon}' is not a time span; expected a whole number and d, h or m, e.g. 7d",
                                 param_hint="--horizon")
    policy = load_policy(policy_path)
    if redact:
        from engine.output.redact import KEY_WARNING, key_is_default
        if key_is_default():
            click.echo(KEY_WARNING, err=True)
    extract = extract_of(input_path, profile) if profile != "clause" else None
    bulk = extract is not None or is_bulk_folder(input_path)
    if bulk and not minutes:
        _bulk(policy, extract or input_path, at, child, status, fmt, engine, output, redact)
        return
    if bulk:
        from engine.backends.batch import Run
        from facts.loader import load_path
        loaded = load_path(input_path, profile=profile)
        show_notes(loaded.notes)
        facts, at = loaded.bulk, at or _now()
        if child is not None and not any(c.id == child for c in facts.children):  # else an empty list, exit 0
            from engine.explain.inquiry import no_such_child
            raise no_such_child(input_path, child, sorted(c.id for c in facts.children), redact)
        show_notes(later_episodes(later_count(facts, at, child), input_path, at))
        ev = evaluate_case(policy, facts, at, engine)
        obs = with_upcoming(policy, facts, at, minutes, list(ev.obligations), choose(engine, len(facts.episodes)))
        _write([(Run("bulk", None, ev).for_child(child), _only(obs, child, status))], fmt, output, redact)
        return
    from engine.backends.batch import Run
    from facts.loader import load_path
    cases = load_path(input_path, profile=profile).cases
    if child is not None:  # only the cases that hold the child: the others would show as empty tables
        holding = [case for case in cases if any(c.id == child for c in case.facts.children)]
        if not holding:
            from engine.explain.inquiry import no_such_child
            raise no_such_child(input_path, child, sorted({c.id for case in cases for c in case.facts.children}), redact)
        cases = holding
    from engine.backends.cases import evaluate_each
    runs = []
    for case, evaluation in zip(cases, evaluate_each(policy, [(c.facts, at or c.as_of) for c in cases], engine)):
        obs = with_upcoming(policy, case.facts, evaluation.at, minutes, list(evaluation.obligations),
                            choose(engine, len(case.facts.episodes)))
        runs.append((Run(case.name, case, evaluation).for_child(child), _only(obs, child, status)))
    _write(runs, fmt, output, redact)


def _only(obligations: list, child: str | None, status: str | None) -> list:
    return [o for o in obligations if (child is None or o.child == child) and (status is None or o.status == status)]


def _write(runs: list, fmt: str, output: str | None, redact: bool) -> None:
    from engine.output import render
    if redact:
        from dataclasses import replace

        from engine.backends.partition import MergedEvaluation
        from engine.output.redact import redact_runs
        plain = [(replace(run, evaluation=MergedEvaluation(run.evaluation.at, tuple(run.evaluation.obligations),
                                                           tuple(run.evaluation.episodes))), obs) for run, obs in runs]
        runs = redact_runs(plain)
    write_output({"table": render.table, "json": render.as_json, "csv": render.as_csv}[fmt](runs), output)


class _Hidden:
    """Where the progress bar goes when nobody is watching a table on a terminal."""

    def write(self, _: str) -> None:
        pass

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


def _now() -> datetime:
    """A folder has no as_of of its own: without --at it is judged now, said on stderr (its states, open or
    overdue, depend on the time, and a CSV shows no time)."""
    from compiler.core.london import format_instant
    from engine.backends.batch import now
    at = now()
    click.echo(f"judged as at {format_instant(at)} (now; --at gives another time)", err=True)
    return at


def _bar(fmt: str, length: int, label: str):
    """A progress bar on stderr, shown only for a table written to a terminal."""
    show = fmt == "table" and sys.stdout.isatty()
    return click.progressbar(length=length, label=label, file=sys.stderr if show else _Hidden())


def _where(folder) -> str:
    """A bulk folder's path, or an extract's folder (facts.extracts.Extract)."""
    return str(getattr(folder, "folder", folder))


def _bulk(policy, folder, at, child, status, fmt: str, engine: str, output, redact: bool) -> None:
    """A bulk folder or an extract (facts.extracts.Extract): DuckDB streams the rows as it writes them;
    pyDatalog evaluates children in chunks."""
    from engine.backends import choose, episode_lines, later_count, later_episodes
    from engine.backends.batch import Run
    from facts.extracts import Extract, extract_episodes, read_extract
    at = at or _now()
    facts = None
    is_extract = isinstance(folder, Extract)
    episodes = extract_episodes(folder) if is_extract else episode_lines(folder)
    if is_extract and choose(engine, episodes) != "duckdb":
        facts, notes = read_extract(folder)
        show_notes(notes)
    if choose(engine, episodes) == "duckdb":
        from engine.backends.duck import STEPS, evaluate_duck
        from engine.output.stream import write_file
        with _bar(fmt, STEPS, "Evaluating") as bar:
            ev = evaluate_duck(policy, folder, at, progress=lambda step: bar.update(1))
        show_notes(ev.notes)
        try:
            if child is not None and not ev.has_child(child):
                from engine.explain.inquiry import no_such_child
                raise no_such_child(folder, child, ev.child_ids(), redact)
            show_notes(later_episodes(ev.later_count(child), _where(folder), at))
            if redact:
                from engine.output.redact import episode_pseudonym, pseudonym
                ev.rename_children(pseudonym, episode_pseudonym)
            write_file(ev, fmt, "bulk", output, sys.stdout, child, status)
        finally:
            ev.close()
        return
    from engine.backends.partition import evaluate_partitioned
    from facts.bulk import load_bulk
    facts = facts if facts is not None else load_bulk(folder)
    if child is not None and not any(c.id == child for c in facts.children):
        from engine.explain.inquiry import no_such_child
        raise no_such_child(folder, child, sorted(c.id for c in facts.children), redact)
    show_notes(later_episodes(later_count(facts, at, child), _where(folder), at))
    with _bar(fmt, len(facts.children), "Evaluating children") as bar:
        merged = evaluate_partitioned(policy, facts, at, progress=bar.update)
    run = Run("bulk", None, merged).for_child(child)
    _write([(run, run.obligations(child=child, status=status))], fmt, output, redact)
