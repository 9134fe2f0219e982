"""Output renderers for check results, by name (the CLI's --format)."""

from __future__ import annotations

from collections.abc import Callable

from cctv_policy.checks.renderers import github, junit, sarif, text
from cctv_policy.checks.renderers import json as json_renderer
from cctv_policy.checks.run import CheckResult

Renderer = Callable[[CheckResult, str], str]

RENDERERS: dict[str, Renderer] = {
    "text": text.render,
    "json": json_renderer.render,
    "github": github.render,
    "sarif": sarif.render,
    "junit": junit.render,
}


def display_path(prefix: str, file: str) -> str:
    return f"{prefix.rstrip('/')}/{file}" if prefix and prefix != "." else file
