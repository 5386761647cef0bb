"""`clause check`, `clause compile`, `clause sources`: the compiler's commands."""
from __future__ import annotations

import json
import sys

import click

from cli.app import EXIT_INVALID, EXIT_NO, fail_on_domain_errors, load_policy, main, policy_dir, write_output
from compiler import ast
from compiler.core.diagnostics import ClauseError, render_json, render_text


@main.command()
@policy_dir
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--no-analysis", is_flag=True, help="Skip the cross-clause analysis (W104, W105), which evaluates examples.")
@click.option("--strict", is_flag=True, help="Exit 1 on warnings too (accepted warnings aside).")
def check(policy_dir: str | None, fmt: str, no_analysis: bool, strict: bool) -> None:
    """Compile POLICY_DIR and report every problem, errors first. Exit 1 on errors (with --strict, on warnings),
    2 when the policy cannot be read."""
    from compiler.policy import accept_warnings
    from engine.lint import analyse
    try:
        policy = load_policy(policy_dir)
        found = [] if no_analysis else accept_warnings(policy.ast, analyse(policy), judged=("W104", "W105"))
        diagnostics = list(policy.warnings) + found
        code = EXIT_NO if strict and any(not d.accepted for d in diagnostics) else 0
    except ClauseError as e:  # E000: the policy cannot be read (no folder, no .clause files, a file unreadable): invalid input
        diagnostics = e.diagnostics
        code = EXIT_INVALID if any(d.code == "E000" for d in diagnostics) else EXIT_NO
    click.echo(render_json(diagnostics) if fmt == "json" else render_text(diagnostics))
    sys.exit(code)


@main.command()
@policy_dir
@click.option("--emit", type=click.Choice(["datalog", "ast", "sql"]), default="datalog", show_default=True,
              help="datalog: the rules pyDatalog runs; sql: the same rules as SQL (DuckDB dialect); ast: the parsed policy.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to a file instead of stdout.")
@fail_on_domain_errors
def compile(policy_dir: str | None, emit: str, output: str | None) -> None:  # noqa: A001 - the command's name
    """Print the compiled policy: Datalog rules, the same rules as SQL, or the AST as JSON."""
    policy = load_policy(policy_dir)
    if emit == "datalog":
        text = policy.program.to_text()
    elif emit == "sql":
        from compiler.sql import translate
        text = translate(policy.program).to_text()
    else:
        files = [{"file": f.path, "items": ast.to_data(f.items)} for f in policy.ast.files]
        text = json.dumps(files, indent=1, ensure_ascii=False) + "\n"
    write_output(text, output)


@main.command()
@policy_dir
@click.option("--format", "fmt", type=click.Choice(["text", "json", "html"]), default="text", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to a file instead of stdout.")
@fail_on_domain_errors
def sources(policy_dir: str | None, fmt: str, output: str | None) -> None:
    """Each source sentence and what encodes it. Exit 1 if any sentence is a gap."""
    from compiler import traceability as tr
    policy = load_policy(policy_dir)
    report = tr.trace(policy)
    text = {"text": lambda: tr.render_text(report) + "\n", "json": lambda: tr.render_json(report) + "\n",
            "html": lambda: tr.render_html(report, policy)}[fmt]()
    write_output(text, output)
    sys.exit(EXIT_NO if report.gaps else 0)
