"""What every storage backend offers the enforcer, and the values it trades in."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cached_property
from typing import Any, BinaryIO, Literal, Protocol

from storage_backends.layout import Layout

EntryKind = Literal["dir", "file", "symlink"]


@dataclass(frozen=True, order=True)
class Segment:
    """One footage file or object. Times are UTC, taken from the key."""

    camera: str
    start: datetime
    seconds: int
    key: str
    size: int = 0  # 0 when the listing does not report sizes (filesystem)
    # Seconds by which the start may really be earlier (a local time that occurs twice).
    early: int = 0

    @property
    def end(self) -> datetime:
        return self.start + timedelta(seconds=self.seconds)

    @property
    def earliest_start(self) -> datetime:
        """The earliest instant the segment may start: what a protection must cover."""
        return self.start - timedelta(seconds=self.early) if self.early else self.start


def segment_of(layout: Layout, key: str, camera: str, size: int = 0) -> Segment | None:
    """The segment a key names, if it matches the layout and is footage of `camera`. Every
    backend lists through this, and apply re-reads keys through it, so a segment's times
    (and how much earlier an ambiguous local time may really be) come from one place."""
    parsed = layout.parse(key)
    if parsed is None or parsed[0] != camera:
        return None
    return Segment(parsed[0], parsed[1], parsed[2], key, size, layout.ambiguity(parsed[1]))


@dataclass(frozen=True)
class UnparsableKey:
    """A key under a camera prefix that does not match the layout: reported, never touched."""

    key: str
    reason: str


@dataclass(frozen=True)
class TopEntry:
    """One entry at the top of a target: a camera folder, or something to report."""

    name: str
    kind: EntryKind


@dataclass(frozen=True)
class StateProblem:
    """Something in the backend's own state (holds, grants) that was skipped, and why.
    `blocks_deletes`: what it held cannot be known, so nothing is deleted on this target."""

    where: str
    reason: str
    blocks_deletes: bool = False


@dataclass(frozen=True)
class DayListing:
    """One camera-day folder read in one listing: its segment names, or `odd` when it holds
    anything else (a sub-folder, a link, a name off the layout), which sends the day down the
    segment-by-segment path where each such entry is reported."""

    prefix: str  # the day's key prefix, e.g. CAM-A/2026/11/18/
    names: tuple[str, ...]  # sorted; keys are prefix + name
    # The earliest and the latest end of its segments, in seconds after the day's midnight.
    first_end: int = 0
    last_end: int = 0
    odd: bool = False

    @cached_property
    def keys(self) -> list[str]:
        return [self.prefix + name for name in self.names]

    def held_by(self, held: set[str]) -> bool:
        """Some of the day's footage is in `held` (its keys are built only if anything is)."""
        return bool(held) and not held.isdisjoint(self.keys)

    @cached_property
    def digest(self) -> str:
        """What a reviewer of the plan saw: SHA-256 of the names, one per line."""
        return hashlib.sha256("\n".join(self.names).encode()).hexdigest()


def day_listing(
    layout: Layout, camera: str, prefix: str, entries: Sequence[tuple[str, bool]]
) -> DayListing:
    """Classify a day folder's entries, (name, is a plain file), without building dates."""
    names = sorted(name for name, plain_file in entries if plain_file)
    odd = len(names) != len(entries)
    ends = layout.day_ends(prefix, names, camera)
    if ends is None:  # some name is not a segment: find which, one by one
        kept = [n for n in names if layout.offsets_of(prefix + n, camera) is not None]
        names, odd = kept, True
        ends = layout.day_ends(prefix, names, camera) or (0, 0)
    return DayListing(prefix, tuple(names), ends[0], ends[1], odd)


@dataclass
class DeleteResult:
    deleted: list[str] = field(default_factory=list)
    already_gone: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)  # key -> why (e.g. legal hold)
    requests: int = 0  # storage API calls made (for benchmarks)


@dataclass(frozen=True)
class GrantSpec:
    """Read access for one recipient to exact segments, for one approved request."""

    grant_id: str  # "<request>--<recipient>"
    request: str
    recipient: str
    keys: tuple[str, ...]
    starts: datetime
    ends: datetime


class LifecycleRefused(Exception):
    """Pushing retention down to the storage would not be safe (or not possible) here."""


class NoLifecycle:
    """For storage without a lifecycle engine or Object Lock (a NAS folder, the test double)."""

    target_id: str

    @property
    def object_lock(self) -> bool:
        return False

    def sync_lifecycle(
        self, retention_days: int, cameras: Sequence[str], other_cameras: Sequence[str] = ()
    ) -> list[dict[str, Any]]:
        raise LifecycleRefused(f"{self.target_id}: this storage has no lifecycle engine")


class Backend(Protocol):
    target_id: str
    layout: Layout
    state_problems: list[StateProblem]

    @property
    def works_beside(self) -> bool:
        """True when list_many and delete_days work outside this process's interpreter (worker
        processes, network waits): reading ahead then runs beside the rule book, and several
        batches of days are handed over at once. False: the work takes turns with this
        process's own, and a second thread would only wait for the interpreter."""
        ...

    def top_level(self) -> list[TopEntry]:
        """The entries at the top of the target (camera folders and anything else)."""
        ...

    def open(self, key: str) -> BinaryIO:
        """Read one segment (a key that does not match the layout is refused)."""
        ...

    def check_state(self) -> None:
        """Add to state_problems whatever in the backend's state area is not its own."""
        ...

    def list_days(self, camera: str) -> list[date] | None:
        """Days that hold footage of this camera (from the key hierarchy, cheap), or None
        when the layout has no day level and the camera must be listed whole."""
        ...

    def list_segments(
        self, camera: str, day: date | None = None
    ) -> Iterator[Segment | UnparsableKey]:
        """Segments of one camera, of one day when given (listing by prefix)."""
        ...

    def list_day(self, camera: str, day: date) -> DayListing | None:
        """One camera-day folder in one listing, or None when the layout has no day folder."""
        ...

    def list_many(self, wanted: Sequence[tuple[str, date]]) -> list[DayListing | None]:
        """list_day for each (camera, day), in order; a backend may read them concurrently."""
        ...

    def delete(self, keys: Iterable[str]) -> DeleteResult:
        """Delete a batch; a key already gone counts as success."""
        ...

    def delete_days(self, days: Sequence[DayListing]) -> DeleteResult:
        """Delete the listed files of whole day folders (each day checked by the caller); a
        file already gone counts as success, one under a hold on the storage is refused."""
        ...

    def set_hold(self, hold_id: str, keys: Iterable[str]) -> None: ...

    def clear_hold(self, hold_id: str) -> None: ...

    def refresh_holds(self) -> int:
        """Make sure held objects stay held and readable (S3: a lifecycle delete marker over
        a held object is removed); returns how many were made readable again."""
        ...

    def held_keys(self) -> dict[str, set[str]]:
        """hold id -> keys currently held on the storage itself."""
        ...

    def create_grant(self, grant: GrantSpec) -> None: ...

    def revoke_grant(self, grant_id: str) -> None: ...

    def grants(self) -> set[str]:
        """Ids of grants that currently exist on the storage."""
        ...

    @property
    def object_lock(self) -> bool:
        """The storage itself refuses to delete held footage (S3 Object Lock)."""
        ...

    def sync_lifecycle(
        self, retention_days: int, cameras: Sequence[str], other_cameras: Sequence[str] = ()
    ) -> list[dict[str, Any]]:
        """Let the storage expire this target's cameras' footage itself after retention; the
        rules it now has. Raises LifecycleRefused where that is not safe or not possible."""
        ...
