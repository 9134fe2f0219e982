"""Races against the worker processes that empty day folders: the tree changed between the
listing and the delete."""

from __future__ import annotations

import shutil
from datetime import date, timedelta

from tests.faults.test_day_workers import fresh_workers, nas_with_days  # noqa: F401


def listed(backend, count):
    wanted = [("CAM-A", date(2026, 9, 1) + timedelta(days=i)) for i in range(count)]
    return [listing for listing in backend.list_many(wanted) if listing is not None]


def test_a_month_swapped_for_a_link_is_not_followed(tmp_path, fresh_workers):  # noqa: F811
    nas = tmp_path / "nas"
    nas.mkdir()
    backend = nas_with_days(nas, 12, fresh_workers)
    days = listed(backend, 12)
    month = nas / "CAM-A" / "2026" / "09"
    copy = tmp_path / "outside"
    shutil.copytree(month, copy)
    shutil.rmtree(month)
    month.symlink_to(copy)
    result = backend.delete_days(days)
    assert not result.deleted and not result.already_gone and len(result.refused) == 48
    assert len(list(copy.rglob("*.mp4"))) == 48 and month.is_symlink()


def test_a_hold_written_after_the_listing_is_honoured(tmp_path, fresh_workers):  # noqa: F811
    backend = nas_with_days(tmp_path, 12, fresh_workers)
    days = listed(backend, 12)
    keep = days[3].keys[1]
    backend.set_hold("HOLD-LATE", [keep])
    result = backend.delete_days(days)
    assert (tmp_path / keep).exists()
    assert result.refused == {keep: "under a hold on the storage"}
    assert len(result.deleted) == 47 and keep not in result.deleted


def test_a_name_turned_folder_is_refused_not_a_traceback(tmp_path, fresh_workers):  # noqa: F811
    backend = nas_with_days(tmp_path, 12, fresh_workers)
    days = listed(backend, 12)
    odd = tmp_path / days[0].keys[0]
    odd.unlink()
    odd.mkdir()
    (odd / "inside.mp4").write_bytes(b"")
    result = backend.delete_days(days)
    assert (odd / "inside.mp4").exists()
    assert set(result.refused) == {days[0].keys[0]} and len(result.deleted) == 47
