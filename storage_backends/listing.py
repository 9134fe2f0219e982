"""Listing helpers over any backend: footage in a window, the oldest segment, and what on a
target is not footage of its cameras. Used by planning, extraction and inspection alike."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from storage_backends.base import Backend, DayListing, Segment


@dataclass(frozen=True)
class Unmanaged:
    """An entry on a target that is not footage of one of its cameras: reported, never
    touched."""

    target: str
    key: str
    reason: str


def segments_in(backend: Backend, camera: str, start: datetime, end: datetime) -> list[Segment]:
    """Segments of a camera that overlap [start, end), listed day by day."""
    days = backend.list_days(camera)
    # A segment may start the day before; day folders may be in a local time zone.
    first, last = start.date() - timedelta(days=1), end.date() + timedelta(days=1)
    found = []
    for day in [None] if days is None else [d for d in days if first <= d <= last]:
        for item in backend.list_segments(camera, day):
            if isinstance(item, Segment) and item.start < end and start < item.end:
                found.append(item)
    return found


def oldest_segment(backend: Backend, camera: str) -> Segment | None:
    """The camera's oldest segment (from its first day folder), or None."""
    days = backend.list_days(camera)
    for day in [None] if days is None else days[:1]:
        found = [s for s in backend.list_segments(camera, day) if isinstance(s, Segment)]
        if found:
            return min(found, key=lambda s: s.start)
    return None


def newest_end(
    backend: Backend,
    camera: str,
    days: list[date] | None,
    listed: Mapping[tuple[str, date], DayListing | None] | None = None,
) -> datetime | None:
    """The end of the camera's newest segment: from the newest day folder that has any (an NVR
    may create tomorrow's folder ahead), looking back a week at most. `listed`: day folders
    already read."""
    if days is None:
        ends = [s.end for s in backend.list_segments(camera, None) if isinstance(s, Segment)]
        return max(ends) if ends else None
    for day in reversed(days[-7:]):
        newest = _newest_end_of_day(backend, camera, day, (listed or {}).get((camera, day)))
        if newest is not None:
            return newest
    return None


def _newest_end_of_day(
    backend: Backend, camera: str, day: date, listing: DayListing | None
) -> datetime | None:
    """The end of a day's newest segment: from one listing when it can be read whole."""
    bounds = backend.layout.day_bounds(day)
    if bounds is not None and listing is None:
        listing = backend.list_day(camera, day)
    if bounds is not None and listing is not None and not listing.odd:
        return bounds[0] + timedelta(seconds=listing.last_end) if listing.names else None
    ends = [s.end for s in backend.list_segments(camera, day) if isinstance(s, Segment)]
    return max(ends) if ends else None


def unmanaged_entries(backend: Backend, camera_targets: Mapping[str, str]) -> list[Unmanaged]:
    """Every top-level entry of a target is footage of one of its cameras (`camera_targets`:
    camera id -> target id), or reported (as is anything odd the backend met in its own state
    folder)."""
    found = [Unmanaged(backend.target_id, p.where, p.reason) for p in backend.state_problems]
    for entry in backend.top_level():
        home = camera_targets.get(entry.name)
        if entry.kind == "dir" and home == backend.target_id:
            continue
        if entry.kind == "symlink":
            why = "a symbolic link: never followed, never touched"
        elif entry.kind != "dir":
            why = "not a camera folder (a stray file or extraction package?)"
        elif home is not None:
            why = f"footage of {entry.name}, which cameras.yaml puts on {home}"
        else:
            why = "not a camera in cameras.yaml (removed or renamed?): kept, never deleted"
        found.append(Unmanaged(backend.target_id, entry.name, why))
    return found
