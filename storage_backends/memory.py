"""An in-memory backend: the same Protocol over a dict, for fast planner tests (never proof
that real storage enforces anything).

Thread-safe like the real backends: the enforcer deletes from worker threads while its main
thread lists the next days, so every reading works on a snapshot of the keys taken under one
lock, and every change is made under it."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Sequence
from datetime import date
from typing import BinaryIO

from storage_backends.base import (
    DayListing,
    DeleteResult,
    EntryKind,
    GrantSpec,
    NoLifecycle,
    Segment,
    StateProblem,
    TopEntry,
    UnparsableKey,
    day_listing,
    segment_of,
)
from storage_backends.layout import Layout


class MemoryBackend(NoLifecycle):
    def __init__(self, target_id: str, layout: Layout, keys: Iterable[str] = ()) -> None:
        self.target_id = target_id
        self.layout = layout
        self.objects: dict[str, int] = {k: 1 for k in keys}
        self.holds: dict[str, set[str]] = {}
        self.granted: dict[str, GrantSpec] = {}
        self.state_problems: list[StateProblem] = []
        self._lock = threading.Lock()

    def _keys(self) -> list[str]:
        """The keys at one moment (iterating the dict itself races with deleting threads)."""
        with self._lock:
            return list(self.objects)

    def check_state(self) -> None:
        pass

    def top_level(self) -> list[TopEntry]:
        names: dict[str, EntryKind] = {
            key.split("/", 1)[0]: "dir" if "/" in key else "file" for key in self._keys()
        }
        return [TopEntry(name, kind) for name, kind in sorted(names.items())]

    def list_days(self, camera: str) -> list[date] | None:
        depth = self.layout.day_depth(camera)
        if depth is None:  # like a real store: the day folders, not the segments' dates
            return None
        days = set()
        for key in self._keys():
            parts = key.split("/")
            if parts[0] == camera and len(parts) > depth:
                day = self.layout.parse_day_prefix(camera, "/".join(parts[:depth]) + "/")
                if day is not None:
                    days.add(day)
        return sorted(days)

    def list_segments(
        self, camera: str, day: date | None = None
    ) -> Iterator[Segment | UnparsableKey]:
        prefix = self.layout.day_prefix(camera, day) if day else f"{camera}/"
        with self._lock:
            sizes = dict(self.objects)
        for key in sorted(k for k in sizes if k.startswith(prefix or f"{camera}/")):
            segment = segment_of(self.layout, key, camera, sizes[key])
            yield segment or UnparsableKey(key, "does not match the layout")

    def list_day(self, camera: str, day: date) -> DayListing | None:
        prefix = self.layout.day_prefix(camera, day)
        if prefix is None:
            return None
        inside = [k[len(prefix) :] for k in self._keys() if k.startswith(prefix)]
        return day_listing(self.layout, camera, prefix, [(n, "/" not in n) for n in inside])

    works_beside = False

    def list_many(self, wanted: Sequence[tuple[str, date]]) -> list[DayListing | None]:
        return [self.list_day(camera, day) for camera, day in wanted]

    def open(self, key: str) -> BinaryIO:
        import io

        size = self.objects.get(key)
        if size is None:
            raise FileNotFoundError(key)
        return io.BytesIO(b"x" * size)

    def delete_days(self, days: Sequence[DayListing]) -> DeleteResult:
        return self.delete([key for day in days for key in day.keys])

    def delete(self, keys: Iterable[str]) -> DeleteResult:
        result = DeleteResult(requests=1)
        with self._lock:
            held = set().union(*self.holds.values()) if self.holds else set()
            for key in keys:
                if key in held:
                    result.refused[key] = "held"
                elif self.objects.pop(key, None) is None:
                    result.already_gone.append(key)
                else:
                    result.deleted.append(key)
        return result

    def set_hold(self, hold_id: str, keys: Iterable[str]) -> None:
        with self._lock:
            self.holds.setdefault(hold_id, set()).update(keys)

    def refresh_holds(self) -> int:
        return 0  # a hold here is a manifest the backend itself honours

    def clear_hold(self, hold_id: str) -> None:
        with self._lock:
            self.holds.pop(hold_id, None)

    def held_keys(self) -> dict[str, set[str]]:
        with self._lock:
            return {k: set(v) for k, v in self.holds.items()}

    def create_grant(self, grant: GrantSpec) -> None:
        self.granted[grant.grant_id] = grant

    def revoke_grant(self, grant_id: str) -> None:
        self.granted.pop(grant_id, None)

    def grants(self) -> set[str]:
        return set(self.granted)
