"""The safety floor: Python's own reading of the registry, whatever the policy says.

A segment may be deleted only if it is older than config.retention_days AND no approved or
pending request and no security-office hold (as read here, independently of Rego) covers it.
The floor is deliberately more conservative than the policy: it ignores report dates (an
approved request protects until use end + report_due_days + grace, even if reported) so that a
policy bug can only make the enforcer keep more, never delete more.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from cctv_policy.registry.loader import LoadedRegistry
from storage_backends.base import Segment


@dataclass(frozen=True)
class FloorWindow:
    reason: str
    cameras: frozenset[str]
    start: datetime
    end: datetime
    until: datetime


class SafetyFloor:
    def __init__(self, registry: LoadedRegistry, now: datetime) -> None:
        assert registry.config is not None
        self.now = now
        config = registry.config
        self.cutoff = now - timedelta(days=config.retention_days)
        self.windows = list(_floor_windows(registry, now))
        self._by_camera: dict[str, list[FloorWindow]] = {}
        for window in self.windows:
            for camera in window.cameras:
                self._by_camera.setdefault(camera, []).append(window)

    def blocks_delete(self, segment: Segment) -> str | None:
        """Why this segment must not be deleted, or None if the floor allows it."""
        end = segment.end
        if not end < self.cutoff:
            return f"younger than the retention period (ends {end.isoformat()})"
        for window in self._by_camera.get(segment.camera, ()):
            if segment.start < window.end and window.start < end and self.now < window.until:
                return f"protected by {window.reason} until {window.until.isoformat()}"
        return None


def _floor_windows(registry: LoadedRegistry, now: datetime):
    assert registry.config is not None
    config = registry.config
    tail = timedelta(days=config.report_due_days + config.report_grace_days)
    for request_id, request in registry.requests.items():
        decision = registry.decisions.get(request_id)
        if decision is not None and decision.decision == "rejected":
            continue
        # Approved or pending: the whole requested window (a decision may only narrow it).
        ends = max(request.use.ends, decision.scope.ends) if decision and decision.scope.ends \
            else request.use.ends
        yield FloorWindow(f"request {request_id}", frozenset(request.footage.cameras),
                          request.footage.from_, request.footage.to, ends + tail)
    for hold_id, hold in registry.holds.items():  # any hold, even one the policy rejects
        yield FloorWindow(f"hold {hold_id}", frozenset(hold.cameras), hold.from_, hold.to,
                          hold.until)
