"""`clause fmt [--check] [--diff] [PATHS...]`: lay out .clause files the one canonical way.

Paths are files or folders (searched for .clause files); none means the policy folder the
other commands use (the nearest `policy/` from here upwards, else the bundled one).
Without --check, files that change are rewritten atomically. With --check nothing is
written: the files that would change are listed (with a unified diff under --diff) and
the exit code is 1 if any would. A file that does not parse is left alone and its
diagnostic shown: exit 2.
"""
from __future__ import annotations

import difflib
import sys
from pathlib import Path

import click

from cli.app import EXIT_INVALID, EXIT_NO, fail_on_domain_errors, main, policy_folder
from compiler.core.diagnostics import ClauseError, Diagnostic, Span, display_path, error, render_text


def _files(paths: tuple[str, ...]) -> tuple[list[Path], list[Diagnostic]]:
    """The .clause files to format. A link is never rewritten (that would replace the link with a
    file): one inside a folder is skipped (its target is in the folder too), any other refused."""
    from compiler.check import inside
    found, problems = [], []
    for p in map(Path, paths) if paths else [policy_folder(None)]:
        if p.is_dir():
            for f in sorted(f for f in p.rglob("*.clause") if f.is_file()):
                if not f.is_symlink():
                    found.append(f)
                elif not inside(f, p):
                    problems.append(_link(f))
        elif p.is_symlink():
            problems.append(_link(p))
        elif p.is_file():
            found.append(p)
        else:
            problems.append(error("E000", Span(str(p)), "no such file or folder", "give .clause files or policy folders"))
    return found, problems


def _link(path: Path) -> Diagnostic:
    return error("E025", Span(str(path)), "this .clause file is a link; it is not formatted", "format the file it links to")


@main.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--check", is_flag=True, help="Write nothing; list the files that would change and exit 1 if any.")
@click.option("--diff", "show_diff", is_flag=True, help="With --check, show each change as a unified diff.")
@fail_on_domain_errors
def fmt(paths: tuple[str, ...], check: bool, show_diff: bool) -> None:
    """Format .clause files (default: the policy folder found from here). Comments and quotes are kept exactly."""
    from compiler.core.files import write_atomic
    from compiler.fmt import format_file
    files, problems = _files(paths)
    changed = 0
    for path in files:
        shown = display_path(path)
        try:
            text, new = format_file(path, shown)
        except ClauseError as e:
            problems += e.diagnostics
            continue
        if new == text:
            continue
        changed += 1
        if check:
            click.echo(f"would reformat {shown}")
            if show_diff:
                click.echo("".join(difflib.unified_diff(text.splitlines(keepends=True), new.splitlines(keepends=True),
                                                        f"{shown} (as it is)", f"{shown} (formatted)")), nl=False)
        else:
            write_atomic(path, new)
            click.echo(f"formatted {shown}")
    if problems:
        click.echo(render_text(problems), err=True)
    verb = "would be reformatted" if check else "reformatted"
    click.echo(f"{changed} of {len(files)} file{'s' * (len(files) != 1)} {verb}", err=True)
    sys.exit(EXIT_INVALID if problems else EXIT_NO if check and changed else 0)
