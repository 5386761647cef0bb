"""Commands are imported on use (cli.app.COMMANDS): the table names every command, each in its module."""
from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

from cli.app import COMMANDS, main

ROOT = Path(__file__).resolve().parent.parent


def test_every_command_is_in_the_table_and_in_its_module():
    for module in sorted(set(COMMANDS.values()) | {f"cli.{p.stem}" for p in (ROOT / "cli").glob("*_cmd*.py")}):
        importlib.import_module(module)
    assert set(main.commands) == set(COMMANDS)
    for name, command in main.commands.items():
        assert command.callback.__module__ == COMMANDS[name], name


def test_one_command_imports_only_its_own_module():
    code = ("import sys; from click.testing import CliRunner; from cli.main import main; "
            "CliRunner().invoke(main, ['why', '--help']); "
            "print(sorted(m for m in sys.modules if m.startswith('cli.') and m.endswith(('_cmd', '_cmds'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True).stdout
    assert out.strip() == "['cli.explain_cmds']"
