"""Device health read from an S3 target (Ceph RGW): the same cheap day-prefix listings as on a
filesystem."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cctv_policy.reports.device_health import read_device_health
from storage_backends.s3 import S3Backend
from tests.integration.test_s3_rgw import LAYOUT, new_bucket

pytestmark = pytest.mark.integration
NOW = datetime(2026, 11, 25, 4, tzinfo=UTC)
HOUR = timedelta(hours=1)


def test_newest_footage_and_gap_from_s3(rgw, owner):
    bucket = new_bucket(owner)
    recording = {
        "CAM-A": [NOW - h * HOUR for h in range(48, 0, -1) if not 10 <= h < 15],
        "CAM-B": [NOW - h * HOUR for h in range(96, 72, -1)],  # stopped three days ago
    }
    for camera, starts in recording.items():
        for start in starts:
            key = "campus/" + LAYOUT.key(camera, start, 3600)
            owner.put_object(Bucket=bucket, Key=key, Body=b"frame")
    backend = S3Backend("campus-s3", owner, bucket, "campus/", LAYOUT)
    period = (NOW - timedelta(days=30), NOW)

    working = read_device_health(backend, "CAM-A", period)
    assert working.newest == NOW
    assert working.largest_gap is not None
    assert (working.largest_gap.start, working.largest_gap.hours) == (NOW - 14 * HOUR, 5.0)

    silent = read_device_health(backend, "CAM-B", period)
    assert silent.newest == NOW - 72 * HOUR and silent.largest_gap is None
    assert read_device_health(backend, "CAM-C", period).newest is None
