"""Whole days reach the storage in batches of exactly DELETE_BATCH files (on S3 one
DeleteObjects each), every day logged before any of its files is handed over."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from cctv_policy.audit.log import AuditLog
from cctv_policy.enforce.apply import DELETE_BATCH, DayDeleter, _split
from cctv_policy.enforce.planner import Action
from cctv_policy.enforce.safety import SafetyFloor
from cctv_policy.registry.loader import LoadedRegistry
from cctv_policy.registry.models import Config
from storage_backends.base import DayListing, DeleteResult
from storage_backends.memory import MemoryBackend
from testing.helpers import DEMO_LAYOUT as LAYOUT

NOW = datetime(2026, 11, 25, tzinfo=UTC)


class CountingBackend(MemoryBackend):
    def __init__(self, keys: list[str]) -> None:
        super().__init__("nas", LAYOUT, keys)
        self.batches: list[int] = []

    def delete_days(self, days: Sequence[DayListing]) -> DeleteResult:
        self.batches.append(sum(len(day.names) for day in days))
        return super().delete_days(days)


def test_split_cuts_the_last_day() -> None:
    days = [DayListing("A/", ("1", "2", "3")), DayListing("B/", ("4", "5"))]
    head, rest = _split(days, 4)
    assert [d.names for d in head] == [("1", "2", "3"), ("4",)]
    assert [(d.prefix, d.names) for d in rest] == [("B/", ("5",))]


def test_days_go_to_storage_in_full_batches_after_they_are_logged(tmp_path: Path) -> None:
    per_day, days = 96, 40  # 3,840 files: three full batches and one of 840
    first = date(2026, 9, 1)
    keys = [
        LAYOUT.key(
            "CAM-A", datetime(d.year, d.month, d.day, tzinfo=UTC) + timedelta(minutes=15 * i), 900
        )
        for d in (first + timedelta(days=n) for n in range(days))
        for i in range(per_day)
    ]
    backend = CountingBackend(keys)
    registry = LoadedRegistry(
        root=tmp_path, config=Config(retention_days=30, allowed_purposes=["x"])
    )
    audit = AuditLog(tmp_path / "audit.jsonl")
    deleter = DayDeleter({"nas": backend}, audit, SafetyFloor(registry, NOW))
    for n in range(days):
        day = first + timedelta(days=n)
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
    report = deleter.finish()
    assert backend.batches == [DELETE_BATCH] * 3 + [per_day * days - 3 * DELETE_BATCH]
    assert report.done["delete"] == per_day * days and not backend.objects
    logged = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
    assert sum(len(r["keys"]) for r in logged if r["event"] == "delete_day") == per_day * days
