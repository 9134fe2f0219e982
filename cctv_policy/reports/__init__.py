"""Usage reports owed (R11) and the periodic inspection report (R12)."""
