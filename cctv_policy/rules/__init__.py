"""The rule book as published (R13) and the notice of what a revision changes."""
