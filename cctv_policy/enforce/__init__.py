"""Enforcement: the policy's decision -> a plan of storage actions -> applied, under a safety
floor."""
