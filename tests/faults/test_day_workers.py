"""The worker processes that read and empty day folders (storage_backends/day_workers.py):
when they die or cannot start, the work is done in this process, completely, and the result
reports every file."""

from __future__ import annotations

import os
import signal
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from storage_backends.day_workers import DayWorkers
from storage_backends.filesystem import FilesystemBackend
from testing.helpers import DEMO_LAYOUT as LAYOUT


def nas_with_days(root: Path, days: int, workers: DayWorkers | None = None) -> FilesystemBackend:
    start = datetime(2026, 9, 1, tzinfo=UTC)
    for i in range(days * 4):
        path = root / LAYOUT.key("CAM-A", start + timedelta(hours=6 * i), 3600)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"")
    return FilesystemBackend("nas", root, LAYOUT, workers)


@pytest.fixture
def fresh_workers():
    """A pool of this test's own, so killing it leaves the others alone."""
    with DayWorkers() as workers:
        yield workers


def test_killed_workers_leave_the_work_to_this_process(tmp_path, fresh_workers):
    backend = nas_with_days(tmp_path, 12, fresh_workers)
    wanted = [("CAM-A", date(2026, 9, 1) + timedelta(days=i)) for i in range(12)]
    listings = backend.list_many(wanted)  # starts the workers
    pool = fresh_workers._pool
    assert pool is not None and pool._processes
    for pid in list(pool._processes):
        os.kill(pid, signal.SIGKILL)
    days = [listing for listing in listings if listing is not None]
    result = backend.delete_days(days)
    assert len(result.deleted) == 48 and not result.refused and not result.already_gone
    assert not (tmp_path / "CAM-A").exists(), "emptied day, month and year folders stay"
    assert fresh_workers._broken  # and the rest of the run does not try them again


def test_no_workers_at_all_still_deletes_everything(tmp_path, fresh_workers, monkeypatch):
    monkeypatch.setattr(fresh_workers, "_broken", True)  # e.g. no /dev/shm in a container
    backend = nas_with_days(tmp_path, 10, fresh_workers)
    wanted = [("CAM-A", date(2026, 9, 1) + timedelta(days=i)) for i in range(10)]
    listings = [listing for listing in backend.list_many(wanted) if listing is not None]
    assert sum(len(listing.names) for listing in listings) == 40
    result = backend.delete_days(listings)
    assert len(result.deleted) == 40 and not (tmp_path / "CAM-A").exists()


def test_a_shard_among_as_many_as_cores_works_in_process(tmp_path):
    """--shard I/N with N >= cores: the shards fill the cores, no worker is started."""
    workers = DayWorkers(os.cpu_count() or 1)
    backend = nas_with_days(tmp_path, 10, workers)
    wanted = [("CAM-A", date(2026, 9, 1) + timedelta(days=i)) for i in range(10)]
    listings = [listing for listing in backend.list_many(wanted) if listing is not None]
    result = backend.delete_days(listings)
    assert len(result.deleted) == 40 and not (tmp_path / "CAM-A").exists()
    assert workers._pool is None
