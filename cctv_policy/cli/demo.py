"""`cctv-policy demo`: synthetic footage so the enforcer can be seen at work."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from cctv_policy.cli.common import now_option, registry_option, resolve_now
from cctv_policy.cli.errors import fail, refusing
from cctv_policy.demo import write_footage
from cctv_policy.registry.loader import load_registry


@click.group()
def demo() -> None:
    """Demo helpers."""


@demo.command()
@registry_option
@now_option
@click.option("--target", default="nas-main", show_default=True)
@click.option(
    "--root",
    type=click.Path(path_type=Path),
    required=True,
    help="Directory to fill (it stands in for the target's root).",
)
@click.option("--days", default=40, show_default=True, type=click.IntRange(1, 400))
@click.option("--segment-minutes", default=120, show_default=True, type=click.IntRange(1, 1440))
@click.option(
    "--silent",
    multiple=True,
    metavar="CAMERA",
    help="This camera stopped recording three days ago (shows CAMERA_SILENT); repeatable.",
)
def footage(
    registry_dir: Path,
    now: datetime | None,
    target: str,
    root: Path,
    days: int,
    segment_minutes: int,
    silent: tuple[str, ...],
) -> None:
    """Write tiny synthetic footage files for the cameras of TARGET, DAYS back from now."""
    with refusing("No footage was written."):
        registry = load_registry(registry_dir)
    if target not in registry.targets:
        fail(f"--target {target!r} is not in storage.yaml")
    cameras = sorted(c.id for c in registry.cameras.values() if c.storage == target)
    unknown = sorted(set(silent) - set(cameras))
    if unknown:
        fail(f"--silent {', '.join(unknown)}: not a camera of {target}")
    count = write_footage(
        root,
        registry.targets[target].parsed_layout(),
        cameras,
        resolve_now(now),
        days,
        segment_minutes,
        silent,
    )
    click.echo(f"wrote {count} segments for {len(cameras)} cameras under {root}")
