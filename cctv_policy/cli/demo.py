"""`cctv-policy demo`: synthetic footage so the enforcer can be seen at work."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import click

from cctv_policy.cli.common import Timestamp, now_option, registry_option, resolve_now
from cctv_policy.cli.errors import fail, refusing
from cctv_policy.demo import RealVideo, write_footage
from cctv_policy.registry.loader import load_registry
from cctv_policy.video import VideoError, find_font, find_tools

REAL_HOURS = 2  # --real-video without a window: the last two hours


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
@click.option(
    "--real-video",
    is_flag=True,
    help="Segments in the --real-from/--real-to window (default: the last two hours) are real "
    "MP4 video (needs ffmpeg): a test picture with the time burned in, 320x180 at 5 fps.",
)
@click.option("--real-from", type=Timestamp(), default=None, help="Start of the real-video window.")
@click.option("--real-to", type=Timestamp(), default=None, help="End of the real-video window.")
def footage(
    registry_dir: Path,
    now: datetime | None,
    target: str,
    root: Path,
    days: int,
    segment_minutes: int,
    silent: tuple[str, ...],
    real_video: bool,
    real_from: datetime | None,
    real_to: datetime | None,
) -> None:
    """Write tiny synthetic footage files for the cameras of TARGET, DAYS back from now
    (with --real-video, real MP4 video for a window: slower, so only when asked)."""
    with refusing("No footage was written."):
        registry = load_registry(registry_dir)
    if target not in registry.targets:
        fail(f"--target {target!r} is not in storage.yaml")
    cameras = sorted(c.id for c in registry.cameras.values() if c.storage == target)
    unknown = sorted(set(silent) - set(cameras))
    if unknown:
        fail(f"--silent {', '.join(unknown)}: not a camera of {target}")
    moment = resolve_now(now)
    real = _real_video(real_video, real_from, real_to, moment)
    try:
        count = write_footage(
            root,
            registry.targets[target].parsed_layout(),
            cameras,
            moment,
            days,
            segment_minutes,
            silent,
            real,
        )
    except VideoError as exc:
        fail(f"ffmpeg could not render the real video: {exc}")
    kind = f" (real video {real.start.isoformat()} to {real.end.isoformat()})" if real else ""
    click.echo(f"wrote {count} segments for {len(cameras)} cameras under {root}{kind}")


def _real_video(
    asked: bool, start: datetime | None, end: datetime | None, now: datetime
) -> RealVideo | None:
    if not (asked or start or end):
        return None
    tools = find_tools()
    if tools is None or find_font() is None:
        fail(
            "--real-video needs ffmpeg, ffprobe and a font "
            "(Debian: apt-get install ffmpeg fonts-dejavu-core)"
        )
    end = end or now
    start = start or end - timedelta(hours=REAL_HOURS)
    if start >= end:
        fail("--real-from must be before --real-to")
    return RealVideo(tools, start, end)
