"""What every renderer is, and the one way they name a file."""

from __future__ import annotations

from collections.abc import Callable

from cctv_policy.rulebook.check import CheckResult

Renderer = Callable[[CheckResult, str], str]


def display_path(prefix: str, file: str) -> str:
    """A registry file as the user named the registry (registry/requests/REQ-1.yaml)."""
    return f"{prefix.rstrip('/')}/{file}" if prefix and prefix != "." else file
