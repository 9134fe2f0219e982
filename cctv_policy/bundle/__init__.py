"""OPA bundles of the rule book and the registry, signed in OPA's format, for OPA servers."""
