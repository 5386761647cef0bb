"""`clause lsp`: the language server over stdin and stdout, for any LSP editor (cli/lsp/)."""
from __future__ import annotations

from cli.app import main


@main.command()
def lsp() -> None:
    """Run the Clause language server on stdio (diagnostics, hover, go to definition, completion)."""
    from cli.lsp.server import serve
    serve()
