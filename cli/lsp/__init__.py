"""`clause lsp`: the language server (features.py: what it knows; server.py: the protocol, on pygls)."""
