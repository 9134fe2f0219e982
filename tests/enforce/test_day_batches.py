"""Whole days reach the storage in batches of exactly DELETE_BATCH files (on S3 one
DeleteObjects each), every day logged before any of its files is handed over."""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from cctv_policy.audit.log import AuditLog
from cctv_policy.enforce.apply import DELETE_BATCH, DELETE_WORKERS, ApplyReport, DayDeleter, _split
from cctv_policy.enforce.models import Action
from cctv_policy.enforce.safety import SafetyFloor
from cctv_policy.registry.loader import LoadedRegistry
from cctv_policy.registry.models import Config
from storage_backends.base import DayListing, DeleteResult
from storage_backends.memory import MemoryBackend
from testing.helpers import DEMO_LAYOUT as LAYOUT

NOW = datetime(2026, 11, 25, tzinfo=UTC)


class CountingBackend(MemoryBackend):
    def __init__(self, keys: list[str], works_beside: bool = False) -> None:
        super().__init__("nas", LAYOUT, keys)
        self.works_beside = works_beside
        self.batches: list[int] = []
        self.busy = self.most_at_once = self.finished = 0
        self.expected = -(-len(keys) // DELETE_BATCH)
        self._changed = threading.Condition()

    def delete_days(self, days: Sequence[DayListing]) -> DeleteResult:
        with self._changed:
            self.busy += 1
            self.most_at_once = max(self.most_at_once, self.busy)
            self.batches.append(sum(len(day.names) for day in days))
            self._changed.notify_all()
            # Stay at work until as many batches as the deleter may hand over at once are
            # here (or all that are left), or a while has passed (a storage that works beside
            # gets them all).
            patience = 10 if self.works_beside else 0.05
            self._changed.wait_for(self._all_handed_over, timeout=patience)
            result = super().delete_days(days)
            self.busy -= 1
            self.finished += 1
            self._changed.notify_all()
            return result

    def _all_handed_over(self) -> bool:
        return self.busy >= min(DELETE_WORKERS, self.expected - self.finished)


FIRST = date(2026, 6, 1)
PER_DAY = 96


def expired_days(days: int) -> list[str]:
    return [
        LAYOUT.key(
            "CAM-A", datetime(d.year, d.month, d.day, tzinfo=UTC) + timedelta(minutes=15 * i), 900
        )
        for d in (FIRST + timedelta(days=n) for n in range(days))
        for i in range(PER_DAY)
    ]


def delete_every_day(tmp_path: Path, backend: CountingBackend, days: int) -> ApplyReport:
    registry = LoadedRegistry(
        root=tmp_path, config=Config(retention_days=30, allowed_purposes=["x"])
    )
    audit = AuditLog(tmp_path / "audit.jsonl")
    deleter = DayDeleter({"nas": backend}, audit, SafetyFloor(registry, NOW))
    for n in range(days):
        day = FIRST + timedelta(days=n)
        listing = backend.list_day("CAM-A", day)
        assert listing is not None
        deleter.take(
            Action(
                action="delete-day",
                target="nas",
                camera="CAM-A",
                key=listing.prefix,
                rule="R3_RETENTION",
                day=day,
                count=len(listing.names),
                digest=listing.digest,
            ),
            listing,
        )
    return deleter.finish()


def test_split_cuts_the_last_day() -> None:
    days = [DayListing("A/", ("1", "2", "3")), DayListing("B/", ("4", "5"))]
    head, rest = _split(days, 4)
    assert [d.names for d in head] == [("1", "2", "3"), ("4",)]
    assert [(d.prefix, d.names) for d in rest] == [("B/", ("5",))]


def test_days_go_to_storage_in_full_batches_after_they_are_logged(tmp_path: Path) -> None:
    days = 40  # 3,840 files: three full batches and one of 840
    backend = CountingBackend(expired_days(days))
    report = delete_every_day(tmp_path, backend, days)
    assert backend.batches == [DELETE_BATCH] * 3 + [PER_DAY * days - 3 * DELETE_BATCH]
    assert report.done["delete"] == PER_DAY * days and not backend.objects
    logged = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
    assert sum(len(r["keys"]) for r in logged if r["event"] == "delete_day") == PER_DAY * days


@pytest.mark.parametrize(("works_beside", "at_once"), [(False, 1), (True, DELETE_WORKERS)])
def test_a_storage_that_deletes_in_this_process_gets_one_batch_at_a_time(
    tmp_path: Path, works_beside: bool, at_once: int
) -> None:
    """Threads handing batches to a storage that unlinks in this process only fight over
    the interpreter after every unlink; one that works beside it (worker processes, S3)
    gets several at once."""
    days = 105  # 10,080 files: ten full batches, all handed over before the first is done
    backend = CountingBackend(expired_days(days), works_beside=works_beside)
    report = delete_every_day(tmp_path, backend, days)
    assert report.done["delete"] == PER_DAY * days and not backend.objects
    assert backend.most_at_once == at_once
