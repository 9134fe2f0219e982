"""The safety floor: Python's own reading of the registry, whatever the policy says.

A segment may be deleted only if it is older than config.retention_days AND no approved or
pending request and no security-office hold (as read here, independently of Rego) covers it.
Only a valid rejection (registry/approvals.py: rejection_in_force) ends a request's
protection; a rejection by someone outside the security office, stale, or otherwise broken
leaves the request pending.
The floor is deliberately more conservative than the policy: it ignores report dates (an
approved request protects until use end + report_due_days + grace, even if reported) so that a
policy bug can only make the enforcer keep more, never delete more.

A grant may be made only for a request that passes the approval floor (registry/approvals.py),
to the viewing station, inside the approved cameras x window and use period: a policy bug can
only make the enforcer grant less, never more.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from cctv_policy.registry.approvals import ApprovedScope, rejection_in_force, valid_approvals
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
        self.viewing_station = config.viewing_station
        self._people = set(registry.people)
        self.approvals: dict[str, ApprovedScope] = valid_approvals(registry)
        self.windows = list(_floor_windows(registry, now))
        self._by_camera: dict[str, list[FloorWindow]] = {}
        for window in self.windows:
            for camera in window.cameras:
                self._by_camera.setdefault(camera, []).append(window)

    def blocks_delete(self, segment: Segment) -> str | None:
        """Why this segment must not be deleted, or None if the floor allows it."""
        return self.blocks_span(segment.camera, segment.earliest_start, segment.end)

    def blocks_span(self, camera: str, start: datetime, end: datetime) -> str | None:
        """Why footage of `camera` lying within [start, end) must not be deleted (a segment,
        or a whole day folder), or None if the floor allows it."""
        if not end < self.cutoff:
            return f"younger than the retention period (ends {end.isoformat()})"
        for window in self._by_camera.get(camera, ()):
            if start < window.end and window.start < end and self.now < window.until:
                return f"protected by {window.reason} until {window.until.isoformat()}"
        return None

    def blocks_grant(
        self,
        request: str,
        recipient: str,
        cameras: Iterable[str],
        start: datetime,
        end: datetime,
        starts: datetime,
        ends: datetime,
    ) -> str | None:
        """Why this grant must not be made, or None if the floor allows it."""
        scope = self.approvals.get(request)
        if scope is None:
            return f"{request} has no valid approval"
        if recipient != self.viewing_station:
            return f"grants go only to the viewing station {self.viewing_station}, not {recipient}"
        if recipient in self._people:
            return f"the viewing station {recipient} is a person in people.yaml: no grant"
        outside = sorted(set(cameras) - set(scope.cameras))
        if outside:
            return f"cameras {', '.join(outside)} are not approved for {request}"
        if start < scope.start or end > scope.end:
            return f"the footage window is wider than {request}'s approval"
        if starts < scope.use_starts or ends > scope.use_ends:
            return f"the access period is longer than {request}'s use period"
        if not scope.in_use_period(self.now):
            return f"{request} is not in its use period"
        return None


def _floor_windows(registry: LoadedRegistry, now: datetime) -> Iterator[FloorWindow]:
    assert registry.config is not None
    config = registry.config
    tail = timedelta(days=config.report_due_days + config.report_grace_days)
    for request_id, request in registry.requests.items():
        decision = registry.decisions.get(request_id)
        if rejection_in_force(registry, request_id, now):
            continue  # a valid rejection of this very request; any other leaves it pending
        # Approved or pending: the whole requested window, and whatever a decision's scope
        # names besides (a widening decision is invalid, but keeping more is the safe side).
        cameras, start, end = (
            set(request.footage.cameras),
            request.footage.from_,
            request.footage.to,
        )
        ends = request.use.ends
        if decision is not None:
            scope = decision.scope
            cameras |= set(scope.cameras or ())
            start, end = min(start, scope.from_ or start), max(end, scope.to or end)
            ends = max(ends, scope.ends or ends)
        yield FloorWindow(f"request {request_id}", frozenset(cameras), start, end, ends + tail)
    for hold_id, hold in registry.holds.items():  # any hold, even one the policy rejects
        yield FloorWindow(
            f"hold {hold_id}", frozenset(hold.cameras), hold.from_, hold.to, hold.until
        )
