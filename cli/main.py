"""Entry point: the `clause` group; each command's module is imported when the command is used
(cli.app.COMMANDS names them; tests/test_cli_lazy.py checks every command is there)."""
from cli.app import main

__all__ = ["main"]

if __name__ == "__main__":
    main()
