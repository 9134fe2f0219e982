"""`cctv-policy changes`: the requests a pull request adds or changes (job summary)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import click

from cctv_policy.checks.changes import changed_request_ids, summary_markdown
from cctv_policy.cli.common import registry_option
from cctv_policy.cli.errors import fail, refusing
from cctv_policy.registry.loader import load_registry


@click.command()
@registry_option
@click.option(
    "--base",
    required=True,
    metavar="REF",
    help="The pull request's base commit (compared as BASE...HEAD).",
)
def changes(registry_dir: Path, base: str) -> None:
    """Markdown table of the requests this branch adds or changes, with their decision status
    (for $GITHUB_STEP_SUMMARY)."""
    with refusing("No summary was written."):
        registry = load_registry(registry_dir)
    try:
        ids = changed_request_ids(registry_dir, base)
    except (OSError, subprocess.CalledProcessError) as exc:
        fail(f"cannot compare with {base!r} in git: {getattr(exc, 'stderr', '') or exc}")
    click.echo(summary_markdown(registry, ids))
