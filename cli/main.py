"""Entry point: the `clause` group with every command registered (one module each)."""
from cli.app import main
from cli import explain_cmds, obligations_cmd, policy_cmds  # noqa: F401 - importing registers the commands
from cli import synth_cmd  # noqa: F401
from cli import diff_cmd, test_cmd  # noqa: F401 - regression testing: clause test, clause diff
from cli import fmt_cmd, lsp_cmd  # noqa: F401 - writing policy: clause fmt, clause lsp
from cli import report_cmd, serve_cmd  # noqa: F401 - for managers and practitioners: clause report, clause serve

__all__ = ["main"]

if __name__ == "__main__":
    main()
