"""What one run reads: the cameras of a target it plans, and each camera's day folders."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from cctv_policy.enforce.models import Scope
from cctv_policy.registry.loader import LoadedRegistry
from cctv_policy.rulebook.enforcement import Protection
from storage_backends.layout import Layout


def cameras_of(
    registry: LoadedRegistry, target_id: str, scope: Scope
) -> tuple[list[str], list[str]]:
    """The cameras stored on a target, and those of them this run plans (its shard, and
    --camera)."""
    all_cameras = sorted(registry.cameras)
    on_target = [c for c in all_cameras if registry.cameras[c].storage == target_id]
    mine = [
        c
        for i, c in enumerate(all_cameras)
        if c in on_target
        and scope.shard.owns(c, i)
        and (scope.cameras is None or c in scope.cameras)
    ]
    return on_target, mine


def days_to_list(
    days: list[date] | None, cutoff: datetime, active: list[Protection], layout: Layout
) -> list[date | None]:
    """Days that can hold expired footage, days a protection covers (held at any age), and the
    newest day. None: the layout has no day level and the camera is listed whole."""
    if days is None:
        return [None]
    slack = timedelta(days=1)  # day folders may be in a local time zone
    # A local day ahead of UTC starts the UTC day before: it may hold expired footage.
    last_expired = (cutoff + slack).date() if layout.local_days else cutoff.date()
    wanted = {d for d in days if d <= last_expired}
    for protection in active:
        first, last = (protection.from_ - slack).date(), (protection.to + slack).date()
        wanted |= {d for d in days if first <= d <= last}
    if days:
        wanted.add(days[-1])
    return list(sorted(wanted))
