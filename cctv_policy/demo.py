"""Synthetic footage for the demo and for tests: tiny files in a target's layout, and real
MP4 video (ffmpeg's segment muxer, a synthetic camera with a clock) for a chosen window."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from cctv_policy.video import VideoTools, render_segments
from storage_backends.layout import Layout

SILENT_DAYS = 3


@dataclass(frozen=True)
class RealVideo:
    """Segments overlapping [start, end) are real video, rendered with these tools."""

    tools: VideoTools
    start: datetime
    end: datetime


def write_footage(
    root: Path,
    layout: Layout,
    cameras: Iterable[str],
    now: datetime,
    days: int = 40,
    segment_minutes: int = 120,
    silent: Collection[str] = (),
    real: RealVideo | None = None,
) -> int:
    """Write one file per camera per segment for `days` days before `now`; the `silent`
    cameras stopped recording SILENT_DAYS before `now` (device health demo). Segments that
    overlap `real`'s window are real MP4 video; the others small placeholder files."""
    seconds = segment_minutes * 60
    first = (now - timedelta(days=days)).replace(minute=0, second=0, microsecond=0)
    count = 0
    for camera in cameras:
        moment = first
        stop = now - timedelta(days=SILENT_DAYS) if camera in silent else now
        videos = []
        while moment + timedelta(seconds=seconds) <= stop:
            end = moment + timedelta(seconds=seconds)
            if real and moment < real.end and real.start < end:
                videos.append(moment)
            else:
                path = root / layout.key(camera, moment, seconds)
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(f"demo footage {camera} {moment.isoformat()}\n".encode())
            count += 1
            moment = end
        if real and videos:
            _render(real.tools, root, layout, camera, videos[0], len(videos), seconds)
    return count


def _render(
    tools: VideoTools,
    root: Path,
    layout: Layout,
    camera: str,
    start: datetime,
    segments: int,
    seconds: int,
) -> None:
    """`segments` consecutive real segments from `start`, as ffmpeg's segment muxer writes
    them, each renamed to its layout key."""
    root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=root) as work:
        rendered = render_segments(tools, Path(work), camera, start, segments * seconds, seconds)
        for path, moment, _ in rendered:
            target = root / layout.key(camera, moment, seconds)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(path, target)
