"""What the worker pool reports when a worker dies after doing its work."""

from __future__ import annotations

import multiprocessing
import os
from datetime import date, timedelta

import pytest

from storage_backends import day_workers, filesystem
from tests.faults.test_day_workers import fresh_workers, nas_with_days  # noqa: F401


def unlink_then_die(root, work):
    """A worker that empties its folders, then is killed before it can answer."""
    outcome = day_workers.unlink_days(root, work)
    if multiprocessing.parent_process() is not None:
        os._exit(9)
    return outcome


def days_of(backend, count):
    wanted = [("CAM-A", date(2026, 9, 1) + timedelta(days=i)) for i in range(count)]
    return [listing for listing in backend.list_many(wanted) if listing is not None]


@pytest.mark.xfail(
    strict=True,
    reason="a redone batch cannot tell what the dead worker unlinked from what was already "
    "gone: files this run deleted are reported as already gone (counts only; the audit "
    "record of every name was written before)",
)
def test_a_worker_killed_after_unlinking_does_not_turn_deletes_into_already_gone(
    tmp_path,
    fresh_workers,  # noqa: F811 - the fixture imported above
    monkeypatch,
):
    backend = nas_with_days(tmp_path, 12, fresh_workers)
    days = days_of(backend, 12)
    monkeypatch.setattr(filesystem, "unlink_days", unlink_then_die)
    result = backend.delete_days(days)
    assert fresh_workers._broken
    assert len(result.deleted) == 48 and not result.already_gone


def test_a_day_folder_already_removed_is_already_gone_not_refused(tmp_path, fresh_workers):  # noqa: F811
    """A concurrent apply (or an admin) removed a whole listed day: its files are gone, which
    is success, not a refusal."""
    import shutil

    backend = nas_with_days(tmp_path, 12, fresh_workers)
    days = days_of(backend, 12)
    shutil.rmtree(tmp_path / days[5].prefix)
    result = backend.delete_days(days)
    assert not result.refused, result.refused
    assert set(result.already_gone) == set(days[5].keys) and len(result.deleted) == 44
