"""Who wrote each decision, hold and request, from the registry's git history (and which
CODEOWNERS guard the trust roots). Read by `check --verify-provenance` and by the gate of every
command that acts on approvals, so it is a room of its own, not a part of one wing."""
