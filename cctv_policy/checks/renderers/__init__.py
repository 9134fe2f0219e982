"""Output renderers for check results, by name (the CLI's --format)."""

from __future__ import annotations

from cctv_policy.checks.renderers import github, gitlab, junit, sarif, text
from cctv_policy.checks.renderers import json as json_renderer
from cctv_policy.checks.renderers.base import Renderer, display_path

RENDERERS: dict[str, Renderer] = {
    "text": text.render,
    "json": json_renderer.render,
    "github": github.render,
    "sarif": sarif.render,
    "junit": junit.render,
    "gitlab": gitlab.render,
}


__all__ = ["RENDERERS", "Renderer", "display_path"]
