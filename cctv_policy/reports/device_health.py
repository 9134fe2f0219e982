"""Device health from storage (R12): is each camera still recording, and where did it stop?

Read cheaply: a camera's newest footage comes from its newest day folder; the largest gap
needs the inspected period's day folders. Whether a camera is silent is the rule book's call
(rulebook/devices.py): the facts read here go into its input as `footage_newest`, so
`check`, `plan` and the inspection report judge alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from storage_backends.base import Backend
from storage_backends.listing import newest_end, segments_in


@dataclass(frozen=True)
class Gap:
    """A stretch of the inspected period in which a camera recorded nothing."""

    start: datetime
    end: datetime

    @property
    def hours(self) -> float:
        return (self.end - self.start).total_seconds() / 3600


@dataclass(frozen=True)
class DeviceHealth:
    camera: str
    newest: datetime | None  # end of the newest segment; None: no footage at all
    largest_gap: Gap | None  # None: recording without a break in the period


def read_device_health(
    backend: Backend, camera: str, period: tuple[datetime, datetime]
) -> DeviceHealth:
    newest = newest_end(backend, camera, backend.list_days(camera))
    return DeviceHealth(camera, newest, largest_gap(backend, camera, period))


def largest_gap(backend: Backend, camera: str, period: tuple[datetime, datetime]) -> Gap | None:
    """The longest break between two recordings in the period (an outage that ended; one
    still going on is the newest footage's age); None when recording never broke."""
    start, end = period
    segments = sorted(segments_in(backend, camera, start, end), key=lambda s: s.start)
    widest: Gap | None = None
    if segments:
        covered_until = segments[0].end
        for segment in segments[1:]:
            widest = _wider(widest, covered_until, segment.start)
            covered_until = max(covered_until, segment.end)
    return widest


def _wider(widest: Gap | None, start: datetime, end: datetime) -> Gap | None:
    # A segment boundary a few seconds off is not a gap: recorders roll files over.
    if end - start <= timedelta(minutes=1):
        return widest
    if widest is None or end - start > widest.end - widest.start:
        return Gap(start, end)
    return widest


def newest_footage(
    backends: Mapping[str, Backend], camera_targets: Mapping[str, str]
) -> tuple[list[str], dict[str, datetime]]:
    """The cameras whose storage is reachable, and the end of each one's newest footage (a
    camera without footage is read but has no entry): what silent_cameras judges."""
    cameras_read: list[str] = []
    newest: dict[str, datetime] = {}
    for camera, target in sorted(camera_targets.items()):
        backend = backends.get(target)
        if backend is None:
            continue
        cameras_read.append(camera)
        end = newest_end(backend, camera, backend.list_days(camera))
        if end is not None:
            newest[camera] = end
    return cameras_read, newest
