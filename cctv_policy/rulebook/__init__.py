"""The rule book, asked once per run: the evaluation (registry + engine + now, with the gate
that says whether the registry may be acted on) and the readers of what it decides: check's
violations, enforcement, silent devices, due usage reports. Every wing reads the rule book
through this room, never through another wing."""
