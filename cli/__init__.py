"""The `clause` command: one thin click command per pipeline module, no logic here."""
