"""The `clause` group and what every command shares: policy loading, errors, output.

Each command parses its options, calls one module, and prints. Exit codes:
0 success; 1 the answer is "no" (policy errors in `check`, failing cases);
2 the input is invalid (policy, facts, options). Domain errors never show a traceback.
Which policy a command uses, as git finds its repository: the folder given, else the
nearest `policy/` holding `.clause` files from the current folder upwards, else the
bundled one; when not given, one line on stderr says which.
"""
from __future__ import annotations

import os
import sys
from datetime import datetime
from functools import wraps
from pathlib import Path
from typing import Callable

import click

from compiler.core.diagnostics import ClauseError, render_text
from compiler.policy import CompiledPolicy, discover_policy

EXIT_NO, EXIT_INVALID, EXIT_INTERRUPTED, EXIT_PIPE = 1, 2, 130, 141  # 141: 128 + SIGPIPE, as a shell reports it


def _interrupted(e: BaseException) -> bool:
    """Ctrl-C: Python's KeyboardInterrupt, or DuckDB's interruption of a query: its InterruptException, or
    (DuckDB 2.0, a statement that creates or copies a table) a RuntimeError 'Query interrupted'."""
    return (isinstance(e, KeyboardInterrupt) or type(e).__name__ == "InterruptException"
            or (type(e) is RuntimeError and str(e) == "Query interrupted"))


def fail_on_domain_errors(fn: Callable) -> Callable:
    """Map ClauseError (and DuckDB running out of memory) to its diagnostics on stderr and exit 2; Ctrl-C
    to one line and exit 130 (an output file is only ever replaced whole, so the old one is still there)."""
    @wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except ClauseError as e:
            click.echo(render_text(e.diagnostics), err=True)
            sys.exit(EXIT_INVALID)
        except BrokenPipeError:  # the reader stopped reading (`| head`): stop quietly, as other tools do
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # so the exit's flush cannot fail again
            sys.exit(EXIT_PIPE)
        except OSError as e:  # an output file or folder that cannot be written
            where = f": {e.filename}" if e.filename else ""
            click.echo(f"error: {e.strerror or e}{where}", err=True)
            sys.exit(EXIT_INVALID)
        except BaseException as e:
            if type(e).__name__ == "OutOfMemoryException":  # DuckDB's, past CLAUSE_DUCKDB_MEMORY
                from engine.backends.duck import MEMORY_LIMIT
                from facts.limits import out_of_memory
                click.echo(render_text(out_of_memory(MEMORY_LIMIT).diagnostics), err=True)
                sys.exit(EXIT_INVALID)
            if not _interrupted(e):
                raise
            click.echo("interrupted: nothing was written (any output file is as it was)", err=True)
            sys.exit(EXIT_INTERRUPTED)
    return wrapper


def policy_folder(path: str | None) -> Path:
    """The folder given, else the discovered one, named on stderr so the choice is never silent."""
    if path:
        return Path(path)
    found, how = discover_policy()
    click.echo(f"using policy {found} ({how})", err=True)
    return found


def load_policy(path: str | None) -> CompiledPolicy:
    """The policy at `path` (default: discovered), compiled or read from the cache (compiler/cache.py)."""
    from compiler.cache import load_policy_cached
    return load_policy_cached(policy_folder(path))


def parse_at(value: str | None) -> datetime | None:
    if value is None:
        return None
    from compiler.core.london import parse_instant
    try:
        return parse_instant(value)
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint="--at") from None


def write_output(text: str, output: str | None, redact=None) -> None:
    """stdout, or a file written atomically (temp file, then rename); `redact` rewrites the text first."""
    if redact is not None:
        text = redact(text)
    if output is None:
        click.echo(text, nl=False)
        return
    from compiler.core.files import write_atomic
    write_atomic(Path(output), text)


def _redaction(ctx: click.Context, _param: click.Parameter, on: bool) -> bool:
    """--redact: diagnostics name people by pseudonym too, for the length of this command."""
    if on:
        from compiler.core.privacy import redaction
        ctx.with_resource(redaction())
    return on


redact_option = click.option("--redact", is_flag=True, callback=_redaction, is_eager=True,
                             help="Replace child ids and dates of birth with stable pseudonyms (key: CLAUSE_REDACT_KEY).")
policy_dir = click.argument("policy_dir", required=False, type=click.Path(file_okay=False))
policy_option = click.option("--policy", "policy_path", type=click.Path(file_okay=False),
                             help="Policy folder (default: the nearest policy/ from the current folder up, "
                                  "else the bundled policy).")

profile_option = click.option("--profile", default="auto", show_default=True, metavar="auto|ssd|ssda903|clause|PATH",
                              help="How to read a folder: ssd (Standard Safeguarding Dataset tables), ssda903 (the "
                                   "DfE return's tables), clause (children.csv, episodes.csv...), a profile file "
                                   "(a copy of a shipped one, adapted); auto: by the files the folder holds.")


def show_notes(notes) -> None:
    """An input's warnings (ignored columns, files not there...) on stderr, once each."""
    if notes:
        click.echo(render_text(list(notes)), err=True)


# Each command's module, imported only when that command runs (or help lists them all): a command
# on one case should not pay for importing every other command's dependencies.
COMMANDS = {"check": "cli.policy_cmds", "compile": "cli.policy_cmds", "sources": "cli.policy_cmds",
            "obligations": "cli.obligations_cmd", "why": "cli.explain_cmds", "why-not": "cli.explain_cmds",
            "test": "cli.test_cmd", "diff": "cli.diff_cmd", "synth": "cli.synth_cmd", "fmt": "cli.fmt_cmd",
            "lsp": "cli.lsp_cmd", "report": "cli.report_cmd", "serve": "cli.serve_cmd"}


class LazyGroup(click.Group):
    """A click group whose commands (COMMANDS) register themselves when their module is imported."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(COMMANDS))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in self.commands and name in COMMANDS:
            import importlib
            importlib.import_module(COMMANDS[name])
        return super().get_command(ctx, name)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="clause")
def main() -> None:
    """Policy-as-code for child-safeguarding procedures."""


