"""Silent cameras (R2, R12) as the rule book finds them: data.cctv.devices over the registry
and what storage showed of each camera's newest footage (`footage_newest` in the input), so
`check`, `plan`, `notify` and the inspection report judge alike."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from cctv_policy.engine.base import EngineError
from cctv_policy.registry.types import format_utc
from cctv_policy.rulebook.evaluation import Evaluation

SILENT = "CAMERA_SILENT"
DEVICES_ENTRYPOINT = "cctv/devices/violations"


@dataclass(frozen=True)
class Silent:
    """A camera the rule book finds silent, with its message."""

    camera: str
    message: str


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
