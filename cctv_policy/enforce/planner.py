"""Turn the enforcement decision and what is on storage into a plan of actions.

Listing is by camera and by day prefix: only days that can hold expired footage (day <= the
retention cutoff's day) and days inside an active grant are listed, so the cost of a run grows
with what is expired, not with everything stored.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, PrivateAttr

from cctv_policy.enforce.safety import SafetyFloor
from cctv_policy.registry.loader import LoadedRegistry
from cctv_policy.rulebook.enforcement import EnforcementDecision, GrantDecision, Protection
from storage_backends.base import Backend, DayListing, Segment, UnparsableKey
from storage_backends.layout import Layout
from storage_backends.listing import newest_end, segments_in, unmanaged_entries

ActionKind = Literal["delete", "delete-day", "hold", "release", "grant", "revoke"]


class Action(BaseModel):
    model_config = ConfigDict(frozen=True)

    action: ActionKind
    target: str
    camera: str | None = None
    key: str | None = None
    rule: str
    request: str | None = None
    hold: str | None = None
    grant: str | None = None
    recipient: str | None = None
    keys: tuple[str, ...] = ()
    starts: datetime | None = None
    ends: datetime | None = None
    # grant: the approved cameras x window the keys were chosen from (re-checked at apply).
    cameras: tuple[str, ...] = ()
    window_from: datetime | None = None
    window_to: datetime | None = None
    # delete-day: a whole camera-day folder (key is its prefix), its file count and the SHA-256
    # of its names, one per line (what the reviewer of the plan saw).
    day: date | None = None
    count: int = 0
    digest: str | None = None


class Skipped(BaseModel):
    target: str
    key: str
    reason: str


class Plan(BaseModel):
    now: datetime
    policy_version: str
    input_hash: str
    retention_days: int
    actions: list[Action] = []
    unparsable: list[Skipped] = []
    blocked_by_floor: list[Skipped] = []
    grants_refused: list[Skipped] = []
    # Entries at the top of a target that are not footage of a camera of that target.
    unmanaged: list[Skipped] = []
    # Grants and revokes are planned by unsharded runs over all cameras (and shard 0/N) only.
    grants_planned: bool = False
    # camera -> end of its newest segment (the clock gate's evidence, device health).
    newest_footage: dict[str, datetime] = {}
    # The cameras whose storage this run read: one missing from newest_footage has no footage.
    cameras_read: list[str] = []
    listed_segments: int = 0

    # The listings behind the delete-day actions, for apply in the same run (not serialized).
    _listings: dict[tuple[str, str], DayListing] = PrivateAttr(default_factory=dict)

    def remember(self, target: str, listing: DayListing) -> None:
        self._listings[(target, listing.prefix)] = listing

    def listing_of(self, action: Action) -> DayListing | None:
        return self._listings.get((action.target, action.key or ""))

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for a in self.actions:
            out[a.action] = out.get(a.action, 0) + 1
        return out


@dataclass(frozen=True)
class Shard:
    """--shard I/N: this run handles the cameras whose stable index modulo N is I."""

    index: int = 0
    count: int = 1

    def owns(self, camera: str, position: int) -> bool:
        return position % self.count == self.index

    @property
    def owns_grants(self) -> bool:
        """Grants span cameras: only the first shard plans them, for every camera."""
        return self.index == 0


@dataclass
class ReadAhead:
    """One target's day folders, read while the rule book still decides. Which days can hold
    expired footage follows from the clock and config.yaml's retention alone (the floor's
    cutoff, never earlier than the policy's), and reading changes nothing, so planning need
    not wait for the decision to start reading (bench/sweep_bench.py, 2 cores: the reading
    then mostly overlaps the rule book). The planner takes what it needs from here and reads
    the rest itself; if reading ahead failed, it reads everything itself."""

    days: dict[str, list[date] | None]
    wanted: list[tuple[str, date]]
    listings: Future[list[DayListing | None]]

    def take(self) -> dict[tuple[str, date], DayListing | None]:
        try:
            return dict(zip(self.wanted, self.listings.result(), strict=True))
        except Exception:  # noqa: BLE001 - any failure: planning reads the days itself
            return {}


def read_ahead(
    registry: LoadedRegistry,
    backends: dict[str, Backend],
    cutoff: datetime,
    shard: Shard = Shard(),
    cameras: set[str] | None = None,
) -> dict[str, ReadAhead]:
    """Start reading, in the background, each target's day folders that can hold footage
    older than `cutoff` (config.yaml's retention) and each camera's newest day (the clock
    gate's evidence)."""
    ahead = {}
    for target_id, backend in backends.items():
        if not backend.works_beside:
            continue  # reading in this process would only take turns with the rule book
        mine = _cameras_of(registry, target_id, shard, cameras)[1]
        try:
            days = {camera: backend.list_days(camera) for camera in mine}
        except Exception:  # noqa: BLE001 - planning reads again, after the gate, and says why
            continue
        wanted = [
            (camera, day)
            for camera in mine
            for day in _days_to_list(days[camera], cutoff, [], backend.layout)
            if day is not None
        ]
        ahead[target_id] = ReadAhead(days, wanted, _in_background(backend.list_many, wanted))
    return ahead


def _in_background(
    work: Callable[[list[tuple[str, date]]], list[DayListing | None]],
    wanted: list[tuple[str, date]],
) -> Future[list[DayListing | None]]:
    """work(wanted) in a daemon thread: a run refused meanwhile does not wait for it."""
    future: Future[list[DayListing | None]] = Future()

    def run() -> None:
        try:
            future.set_result(work(wanted))
        except BaseException as exc:  # noqa: BLE001 - handed to whoever takes the result
            future.set_exception(exc)

    threading.Thread(target=run, name="read-ahead", daemon=True).start()
    return future


@dataclass
class PlanContext:
    registry: LoadedRegistry
    decision: EnforcementDecision
    floor: SafetyFloor
    now: datetime
    progress: Callable[[str, int], None] = field(default=lambda label, n: None)
    # Plan a whole expired, untouched camera-day as one delete-day action (off: every segment
    # is planned on its own; the property test compares both).
    whole_days: bool = True
    # Per target, the day folders read ahead while the rule book decided (see ReadAhead).
    read_ahead: dict[str, ReadAhead] = field(default_factory=dict)


@dataclass
class _TargetWork:
    backend: Backend
    on_target: list[str]
    mine: list[str]
    held: dict[str, set[str]]
    no_deletes: str | None
    # Per camera, the day folders retention planning reads (None: the camera is listed whole),
    # and those folders, read together up front (on a NAS: by worker processes).
    to_read: dict[str, list[date | None]]
    listings: dict[tuple[str, date], DayListing | None]


def make_plan(
    ctx: PlanContext,
    backends: dict[str, Backend],
    policy_version: str,
    input_hash: str,
    shard: Shard = Shard(),
    cameras: set[str] | None = None,
) -> Plan:
    """First every camera's newest footage (the clock gate's evidence), then retention,
    releases and grants, target by target."""
    plan = Plan(
        now=ctx.now,
        policy_version=policy_version,
        input_hash=input_hash,
        retention_days=ctx.decision.retention_days,
    )
    work = [_read_target(ctx, backend, plan, shard, cameras) for backend in backends.values()]
    for target in work:
        for camera in target.mine:
            _plan_retention(ctx, target, camera, plan)
            ctx.progress(camera, 1)
        _plan_releases(ctx, target.backend, plan, target.held)
        if shard.owns_grants and cameras is None:
            plan.grants_planned = True
            _plan_grants(ctx, target.backend, plan, set(target.on_target))
            plan.unmanaged += [
                Skipped(target=u.target, key=u.key, reason=u.reason)
                for u in unmanaged_entries(target.backend, ctx.registry.camera_targets)
            ]
    return plan


def _read_target(
    ctx: PlanContext, backend: Backend, plan: Plan, shard: Shard, cameras: set[str] | None
) -> _TargetWork:
    """The target's state (holds, problems), its cameras' day folders and newest footage."""
    on_target, mine = _cameras_of(ctx.registry, backend.target_id, shard, cameras)
    ahead = ctx.read_ahead.get(backend.target_id)
    backend.state_problems.clear()
    backend.check_state()
    held = backend.held_keys()  # read once per target: on S3 it is a listing plus GETs
    damaged = [p.where for p in backend.state_problems if p.blocks_deletes]
    no_deletes = (
        f"the state folder has entries whose holds cannot be read "
        f"({', '.join(damaged[:3])}): nothing is deleted on {backend.target_id}"
        if damaged
        else None
    )
    days = {camera: ahead.days[camera] if ahead else backend.list_days(camera) for camera in mine}
    cutoff = _cutoff(ctx)
    to_read = {
        camera: _days_to_list(days[camera], cutoff, _active(ctx, camera), backend.layout)
        for camera in mine
    }
    wanted = [
        (camera, day)
        for camera, camera_days in to_read.items()
        for day in camera_days
        if day is not None and ctx.whole_days
    ]
    listings = ahead.take() if ahead else {}
    missing = [day for day in wanted if day not in listings]
    listings.update(zip(missing, backend.list_many(missing), strict=True))
    plan.cameras_read += mine
    for camera in mine:
        newest = newest_end(backend, camera, days[camera], listings)
        if newest is not None:
            plan.newest_footage[camera] = newest
    return _TargetWork(backend, on_target, mine, held, no_deletes, to_read, listings)


def _cameras_of(
    registry: LoadedRegistry, target_id: str, shard: Shard, cameras: set[str] | None
) -> tuple[list[str], list[str]]:
    """The cameras stored on a target, and those of them this run plans (its shard, and
    --camera)."""
    all_cameras = sorted(registry.cameras)
    on_target = [c for c in all_cameras if registry.cameras[c].storage == target_id]
    mine = [
        c
        for i, c in enumerate(all_cameras)
        if c in on_target and shard.owns(c, i) and (cameras is None or c in cameras)
    ]
    return on_target, mine


def _active(ctx: PlanContext, camera: str) -> list[Protection]:
    """The protections in force now that name this camera."""
    return [p for p in ctx.decision.protections if p.until > ctx.now and camera in p.cameras]


def _cutoff(ctx: PlanContext) -> datetime:
    policy_cutoff = ctx.now - timedelta(days=ctx.decision.retention_days)
    # Whatever the policy says, never earlier-than-config retention (the floor checks again).
    return min(policy_cutoff, ctx.floor.cutoff)


def _plan_retention(ctx: PlanContext, target: _TargetWork, camera: str, plan: Plan) -> None:
    """Holds for protected footage of any age, and deletes for expired unprotected footage:
    whole days where nothing inside can differ, else segment by segment."""
    backend, held, no_deletes = target.backend, target.held, target.no_deletes
    cutoff = _cutoff(ctx)
    active = _active(ctx, camera)
    held_all = set().union(*held.values()) if held else set()
    for day in target.to_read[camera]:
        listing = target.listings.get((camera, day)) if day is not None else None
        whole = _whole_day(
            ctx, backend, camera, day, listing, cutoff, active, held_all, no_deletes, plan
        )
        if whole is not None:
            if whole.action is not None:
                plan.actions.append(whole.action)
            continue
        for item in backend.list_segments(camera, day):
            if isinstance(item, UnparsableKey):
                plan.unparsable.append(
                    Skipped(target=backend.target_id, key=item.key, reason=item.reason)
                )
                continue
            plan.listed_segments += 1
            action = _segment_action(
                ctx, backend, item, active, held, held_all, cutoff, no_deletes, plan
            )
            if action is not None:
                plan.actions.append(action)


@dataclass(frozen=True)
class _WholeDay:
    """A camera-day settled from one listing: deleted whole, or nothing to do."""

    action: Action | None


def _whole_day(
    ctx: PlanContext,
    backend: Backend,
    camera: str,
    day: date | None,
    listing: DayListing | None,
    cutoff: datetime,
    active: list[Protection],
    held_all: set[str],
    no_deletes: str | None,
    plan: Plan,
) -> _WholeDay | None:
    """Settle a camera-day folder from one listing, without a segment-by-segment pass: one
    delete-day action when all of it ended before the cutoff and no protection, floor window,
    hold or grant touches it; nothing when none of it has expired and nothing protects it.
    None otherwise (and for days with odd entries or a clock change): the day is planned
    segment by segment, where each of those is handled and reported."""
    if day is None or not ctx.whole_days:
        return None
    bounds = backend.layout.day_bounds(day)
    if bounds is None or listing is None or listing.odd:
        return None
    if not listing.names:
        return _WholeDay(None)
    start = bounds[0]
    first_end = start + timedelta(seconds=listing.first_end)
    end = start + timedelta(seconds=listing.last_end)
    plan.listed_segments += len(listing.names)
    if any(p.covers(camera, start, end) for p in active):
        pass  # some of it is protected: holds are planned segment by segment
    elif not first_end < cutoff:
        return _WholeDay(None)  # none of it has expired
    elif (
        end < cutoff
        and not no_deletes
        and not any(g.covers(camera, start, end) for g in ctx.decision.grants)
        and ctx.floor.blocks_span(camera, start, end) is None
        and not listing.held_by(held_all)
    ):
        plan.remember(backend.target_id, listing)
        action = Action(
            action="delete-day",
            target=backend.target_id,
            camera=camera,
            key=listing.prefix,
            rule="R3_RETENTION",
            day=day,
            count=len(listing.names),
            digest=listing.digest,
        )
        return _WholeDay(action)
    plan.listed_segments -= len(listing.names)  # counted again segment by segment
    return None


def _segment_action(
    ctx: PlanContext,
    backend: Backend,
    item: Segment,
    active: list[Protection],
    held: dict[str, set[str]],
    held_all: set[str],
    cutoff: datetime,
    no_deletes: str | None,
    plan: Plan,
) -> Action | None:
    """Hold it (protected, at any age), delete it (expired, unprotected, the floor agrees), or
    leave it."""
    protection = _covering(active, item)
    if protection is not None:
        if item.key in held.get(protection.id, set()):
            return None
        return Action(
            action="hold",
            target=backend.target_id,
            camera=item.camera,
            key=item.key,
            rule=protection.rule,
            request=protection.request,
            hold=protection.id,
        )
    if not item.end < cutoff or item.key in held_all:
        return None  # young; or held by an ended protection: released first, deleted next run
    blocked = no_deletes or ctx.floor.blocks_delete(item)
    if blocked:
        plan.blocked_by_floor.append(
            Skipped(target=backend.target_id, key=item.key, reason=blocked)
        )
        return None
    return Action(
        action="delete",
        target=backend.target_id,
        camera=item.camera,
        key=item.key,
        rule="R3_RETENTION",
    )


def _days_to_list(
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


def _covering(protections: Iterable[Protection], segment: Segment) -> Protection | None:
    for p in protections:
        if p.covers(segment.camera, segment.earliest_start, segment.end):
            return p
    return None


def _plan_releases(
    ctx: PlanContext, backend: Backend, plan: Plan, held: dict[str, set[str]]
) -> None:
    active = {p.id for p in ctx.decision.protections if p.until > ctx.now}
    for hold_id in sorted(held):
        if hold_id not in active:
            plan.actions.append(
                Action(
                    action="release",
                    target=backend.target_id,
                    rule="PROTECTION_ENDED",
                    hold=hold_id,
                )
            )


def _plan_grants(ctx: PlanContext, backend: Backend, plan: Plan, cameras: set[str]) -> None:
    """Grants the policy wants and the floor allows; every other existing grant is revoked."""
    existing = backend.grants()
    wanted: dict[str, GrantDecision] = {}
    for grant in ctx.decision.grants:
        if not (set(grant.cameras) & cameras and grant.starts <= ctx.now < grant.ends):
            continue
        refused = ctx.floor.blocks_grant(
            grant.request,
            grant.recipient,
            grant.cameras,
            grant.from_,
            grant.to,
            grant.starts,
            grant.ends,
        )
        if refused:
            plan.grants_refused.append(
                Skipped(target=backend.target_id, key=grant.id, reason=refused)
            )
            continue
        wanted[_grant_id(grant)] = grant
    for grant_id, grant in sorted(wanted.items()):
        if grant_id in existing:
            continue
        keys = tuple(sorted(_segments_in(backend, grant, cameras)))
        plan.actions.append(
            Action(
                action="grant",
                target=backend.target_id,
                rule=grant.rule,
                request=grant.request,
                grant=grant_id,
                recipient=grant.recipient,
                keys=keys,
                starts=grant.starts,
                ends=grant.ends,
                cameras=tuple(sorted(set(grant.cameras) & cameras)),
                window_from=grant.from_,
                window_to=grant.to,
            )
        )
    for grant_id in sorted(existing - set(wanted)):
        request = grant_id.split("--", 1)[0]
        scope = ctx.floor.approvals.get(request)
        rule = (
            "USE_PERIOD_ENDED"
            if scope and not scope.in_use_period(ctx.now)
            else "NO_VALID_APPROVAL"
        )
        plan.actions.append(
            Action(
                action="revoke",
                target=backend.target_id,
                rule=rule,
                grant=grant_id,
                request=request,
            )
        )


def _grant_id(grant: GrantDecision) -> str:
    """The policy's grant id plus a digest of what it gives: when an approval is narrowed or
    decided again, the old grant no longer matches, so it is revoked and the new one made."""
    scope = json.dumps(
        [
            grant.request,
            grant.recipient,
            sorted(grant.cameras),
            grant.from_.isoformat(),
            grant.to.isoformat(),
            grant.starts.isoformat(),
            grant.ends.isoformat(),
        ],
        separators=(",", ":"),
    )
    return f"{grant.id}--{hashlib.sha256(scope.encode()).hexdigest()[:10]}"


def _segments_in(backend: Backend, grant: GrantDecision, cameras: set[str]) -> set[str]:
    return {
        s.key
        for camera in sorted(set(grant.cameras) & cameras)
        for s in segments_in(backend, camera, grant.from_, grant.to)
    }
