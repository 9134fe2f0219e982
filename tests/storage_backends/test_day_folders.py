"""Day folders read the same way by every backend: the in-memory double (used by the planner's
property tests) and a real directory tree, for a UTC and a local-time layout."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from storage_backends.filesystem import FilesystemBackend
from storage_backends.layout import Layout
from storage_backends.memory import MemoryBackend

LAYOUTS = [
    Layout("{camera}/{start:%Y/%m/%d}/{start:%Y%m%dT%H%M%SZ}_{seconds}s.mp4"),
    Layout("{camera}/{start:%Y/%m/%d}/{start:%Y%m%dT%H%M%S}_{seconds}s.mp4", "Asia/Shanghai"),
]


def keys_for(layout: Layout) -> set[str]:
    first = datetime(2026, 9, 1, 12, tzinfo=UTC)  # 20:00 in Shanghai: crosses local midnight
    return {
        layout.key(camera, first + timedelta(minutes=30 * i), 1800)
        for camera in ("CAM-A", "CAM-B")
        for i in range(40)
    }


def tree(root: Path, keys: set[str]) -> None:
    for key in keys:
        path = root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"")


@pytest.mark.parametrize("layout", LAYOUTS, ids=["utc", "local"])
def test_memory_and_filesystem_agree_on_day_folders(tmp_path: Path, layout: Layout) -> None:
    keys = keys_for(layout)
    tree(tmp_path, keys)
    real = FilesystemBackend("nas", tmp_path, layout)
    double = MemoryBackend("nas", layout, keys)
    for camera in ("CAM-A", "CAM-B"):
        days = real.list_days(camera)
        assert days == double.list_days(camera)
        assert days is not None and len(days) == 2
        wanted = [(camera, day) for day in days]
        assert real.list_many(wanted) == double.list_many(wanted)
        assert real.list_many(wanted) == [real.list_day(camera, day) for day in days]


def test_many_day_folders_read_by_the_workers_match_one_by_one(tmp_path: Path) -> None:
    """Enough folders that they are read by the worker processes, one of them swapped for a
    link to a folder outside the root: read as odd there too, never followed."""
    layout = LAYOUTS[0]
    start = datetime(2026, 9, 1, tzinfo=UTC)
    keys = {layout.key("CAM-A", start + timedelta(hours=6 * i), 3600) for i in range(4 * 30)}
    tree(tmp_path / "nas", keys)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "20260905T000000Z_3600s.mp4").write_bytes(b"not footage of this tree")
    day = tmp_path / "nas" / "CAM-A" / "2026" / "09" / "05"
    for child in day.iterdir():
        child.unlink()
    day.rmdir()
    os.symlink(outside, day)
    real = FilesystemBackend("nas", tmp_path / "nas", layout)
    wanted = [("CAM-A", date(2026, 9, 1) + timedelta(days=i)) for i in range(30)]
    together = real.list_many(wanted)
    assert together == [real.list_day(camera, d) for camera, d in wanted]
    linked = together[4]
    assert linked is not None and linked.odd and linked.names == ()
