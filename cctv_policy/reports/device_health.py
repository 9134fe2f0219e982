"""Device health from storage (R12): is each camera still recording, and where did it stop?

Read cheaply: a camera's newest footage comes from its newest day folder; the largest gap
needs the inspected period's day folders. Whether a camera is silent is the rule book's call
(data.cctv.devices, CAMERA_SILENT): the facts read here go into its input as
`footage_newest`, so `check`, `plan` and the inspection report judge alike.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from cctv_policy.engine.base import EngineError
from cctv_policy.evaluation import Evaluation
from cctv_policy.registry.types import format_utc
from storage_backends.base import Backend
from storage_backends.listing import newest_end, segments_in

SILENT = "CAMERA_SILENT"
DEVICES_ENTRYPOINT = "cctv/devices/violations"


@dataclass(frozen=True)
class Silent:
    """A camera the rule book finds silent, with its message."""

    camera: str
    message: str


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


def footage_newest(
    cameras_read: Iterable[str], newest: Mapping[str, datetime]
) -> dict[str, str | None]:
    """The policy input's `footage_newest`: every camera whose storage was read, with the end
    of its newest footage, or None when it has none."""
    return {c: format_utc(newest[c]) if c in newest else None for c in sorted(cameras_read)}


def silent_cameras(
    evaluation: Evaluation, cameras_read: Iterable[str], newest: Mapping[str, datetime]
) -> list[Silent]:
    """The rule book's CAMERA_SILENT findings over what storage showed, by camera."""
    document = {**evaluation.input, "footage_newest": footage_newest(cameras_read, newest)}
    raw = evaluation.engine.evaluate(DEVICES_ENTRYPOINT, document)
    if not isinstance(raw, list):
        raise EngineError(f"data.cctv.devices.violations returned {type(raw).__name__}")
    found = [Silent(v["id"], v["message"]) for v in raw if v.get("code") == SILENT]
    return sorted(found, key=lambda s: s.camera)


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
