"""Supervised extraction with chain of custody (R7, R10): refusals, copy, signed manifest."""
