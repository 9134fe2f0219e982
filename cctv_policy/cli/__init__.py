"""The command line: one module per command, thin (parse flags, call a module, render)."""
