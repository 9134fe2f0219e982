"""Synthetic footage for the demo and for tests: tiny files in a target's layout."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime, timedelta
from pathlib import Path

from storage_backends.layout import Layout

SILENT_DAYS = 3


def write_footage(
    root: Path,
    layout: Layout,
    cameras: Iterable[str],
    now: datetime,
    days: int = 40,
    segment_minutes: int = 120,
    silent: Collection[str] = (),
) -> int:
    """Write one small file per camera per segment for `days` days before `now`; the
    `silent` cameras stopped recording SILENT_DAYS before `now` (device health demo)."""
    seconds = segment_minutes * 60
    first = (now - timedelta(days=days)).replace(minute=0, second=0, microsecond=0)
    count = 0
    for camera in cameras:
        moment = first
        stop = now - timedelta(days=SILENT_DAYS) if camera in silent else now
        while moment + timedelta(seconds=seconds) <= stop:
            path = root / layout.key(camera, moment, seconds)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(f"demo footage {camera} {moment.isoformat()}\n".encode())
            count += 1
            moment += timedelta(seconds=seconds)
    return count
