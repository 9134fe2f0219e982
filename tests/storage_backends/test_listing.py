"""Listing helpers over any backend (here the in-memory one)."""

from __future__ import annotations

from datetime import UTC, datetime

from storage_backends.listing import oldest_segment, segments_in, unmanaged_entries
from storage_backends.memory import MemoryBackend
from testing.helpers import DEMO_LAYOUT as LAYOUT

KEYS = [
    "CAM-A/2026/11/17/20261117T230000Z_7200s.mp4",  # runs into the 18th
    "CAM-A/2026/11/18/20261118T100000Z_60s.mp4",
    "CAM-A/2026/11/20/20261120T100000Z_60s.mp4",
    "CAM-B/2026/11/18/20261118T100000Z_60s.mp4",
    "stray.txt",
    "CAM-GONE/2026/11/18/20261118T100000Z_60s.mp4",
]


def backend() -> MemoryBackend:
    return MemoryBackend("nas", LAYOUT, KEYS)


def test_segments_in_a_window_include_one_that_starts_the_day_before() -> None:
    found = segments_in(
        backend(), "CAM-A", datetime(2026, 11, 18, tzinfo=UTC), datetime(2026, 11, 19, tzinfo=UTC)
    )
    assert sorted(s.key for s in found) == KEYS[:2]


def test_oldest_segment() -> None:
    oldest = oldest_segment(backend(), "CAM-A")
    assert oldest is not None and oldest.key == KEYS[0]
    assert oldest_segment(backend(), "CAM-NONE") is None


def test_everything_that_is_not_footage_of_the_targets_cameras_is_reported() -> None:
    found = unmanaged_entries(backend(), {"CAM-A": "nas", "CAM-B": "other-nas"})
    reasons = {u.key: u.reason for u in found}
    assert set(reasons) == {"stray.txt", "CAM-B", "CAM-GONE"}
    assert "other-nas" in reasons["CAM-B"]
    assert "not a camera" in reasons["CAM-GONE"]
