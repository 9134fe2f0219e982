"""Turn the enforcement decision and what is on storage into a plan of actions.

Listing is by camera and by day prefix: only days that can hold expired footage (day <= the
retention cutoff's day) and days inside an active grant are listed, so the cost of a run grows
with what is expired, not with everything stored. The plan's models are in models.py, the
reading started before the decision in read_ahead.py.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cached_property

from cctv_policy.enforce.models import Action, Plan, Scope, Skipped
from cctv_policy.enforce.read_ahead import ReadAhead
from cctv_policy.enforce.safety import SafetyFloor
from cctv_policy.enforce.selection import cameras_of, days_to_list
from cctv_policy.registry.loader import LoadedRegistry
from cctv_policy.rulebook.enforcement import EnforcementDecision, GrantDecision, Protection
from storage_backends.base import Backend, DayListing, Segment, UnparsableKey
from storage_backends.listing import newest_end, segments_in, unmanaged_entries


@dataclass
class PlanContext:
    """One run's planning context: the registry, the decision, the floor, now and what the
    run covers."""

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
    scope: Scope = field(default_factory=Scope)

    @cached_property
    def cutoff(self) -> datetime:
        policy_cutoff = self.now - timedelta(days=self.decision.retention_days)
        # Whatever the policy says, never earlier-than-config retention (the floor checks
        # again).
        return min(policy_cutoff, self.floor.cutoff)

    def active(self, camera: str) -> list[Protection]:
        """The protections in force now that name this camera."""
        return [p for p in self.decision.protections if p.until > self.now and camera in p.cameras]


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

    @cached_property
    def held_all(self) -> set[str]:
        return set().union(*self.held.values()) if self.held else set()


@dataclass
class _CameraPass:
    """Retention planning of one camera on one target, into one plan."""

    ctx: PlanContext
    target: _TargetWork
    camera: str
    active: list[Protection]
    plan: Plan

    @property
    def target_id(self) -> str:
        return self.target.backend.target_id


def make_plan(
    ctx: PlanContext, backends: dict[str, Backend], policy_version: str, input_hash: str
) -> Plan:
    """First every camera's newest footage (the clock gate's evidence), then retention,
    releases and grants, target by target."""
    plan = Plan(
        now=ctx.now,
        policy_version=policy_version,
        input_hash=input_hash,
        retention_days=ctx.decision.retention_days,
    )
    work = [_read_target(ctx, backend, plan) for backend in backends.values()]
    for target in work:
        for camera in target.mine:
            _plan_retention(_CameraPass(ctx, target, camera, ctx.active(camera), plan))
            ctx.progress(camera, 1)
        _plan_releases(ctx, target.backend, plan, target.held)
        if ctx.scope.shard.owns_grants and ctx.scope.cameras is None:
            plan.grants_planned = True
            _plan_grants(ctx, target.backend, plan, set(target.on_target))
            plan.unmanaged += [
                Skipped(target=u.target, key=u.key, reason=u.reason)
                for u in unmanaged_entries(target.backend, ctx.registry.camera_targets)
            ]
    return plan


def _read_target(ctx: PlanContext, backend: Backend, plan: Plan) -> _TargetWork:
    """The target's state (holds, problems), its cameras' day folders and newest footage."""
    on_target, mine = cameras_of(ctx.registry, backend.target_id, ctx.scope)
    ahead = ctx.read_ahead.get(backend.target_id)
    held, no_deletes = _target_state(backend)
    days = {camera: ahead.days[camera] if ahead else backend.list_days(camera) for camera in mine}
    to_read = {
        camera: days_to_list(days[camera], ctx.cutoff, ctx.active(camera), backend.layout)
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


def _target_state(backend: Backend) -> tuple[dict[str, set[str]], str | None]:
    """The target's holds (read once per target: on S3 a listing plus GETs), and why nothing
    may be deleted on it (None: deletes may go ahead)."""
    backend.state_problems.clear()
    backend.check_state()
    held = backend.held_keys()
    damaged = [p.where for p in backend.state_problems if p.blocks_deletes]
    no_deletes = (
        f"the state folder has entries whose holds cannot be read "
        f"({', '.join(damaged[:3])}): nothing is deleted on {backend.target_id}"
        if damaged
        else None
    )
    return held, no_deletes


def _plan_retention(run: _CameraPass) -> None:
    """Holds for protected footage of any age, and deletes for expired unprotected footage:
    whole days where nothing inside can differ, else segment by segment."""
    backend, plan = run.target.backend, run.plan
    for day in run.target.to_read[run.camera]:
        listing = run.target.listings.get((run.camera, day)) if day is not None else None
        whole = _whole_day(run, day, listing)
        if whole is not None:
            if whole.action is not None:
                plan.actions.append(whole.action)
            continue
        for item in backend.list_segments(run.camera, day):
            if isinstance(item, UnparsableKey):
                plan.unparsable.append(
                    Skipped(target=backend.target_id, key=item.key, reason=item.reason)
                )
                continue
            plan.listed_segments += 1
            action = _segment_action(run, item)
            if action is not None:
                plan.actions.append(action)


@dataclass(frozen=True)
class _WholeDay:
    """A camera-day settled from one listing: deleted whole, or nothing to do."""

    action: Action | None


def _whole_day(run: _CameraPass, day: date | None, listing: DayListing | None) -> _WholeDay | None:
    """Settle a camera-day folder from one listing, without a segment-by-segment pass: one
    delete-day action when all of it ended before the cutoff and no protection, floor window,
    hold or grant touches it; nothing when none of it has expired and nothing protects it.
    None otherwise (and for days with odd entries or a clock change): the day is planned
    segment by segment, where each of those is handled and reported."""
    ctx, camera, plan = run.ctx, run.camera, run.plan
    if day is None or not ctx.whole_days:
        return None
    bounds = run.target.backend.layout.day_bounds(day)
    if bounds is None or listing is None or listing.odd:
        return None
    if not listing.names:
        return _WholeDay(None)
    start = bounds[0]
    first_end = start + timedelta(seconds=listing.first_end)
    end = start + timedelta(seconds=listing.last_end)
    plan.listed_segments += len(listing.names)
    if any(p.covers(camera, start, end) for p in run.active):
        pass  # some of it is protected: holds are planned segment by segment
    elif not first_end < ctx.cutoff:
        return _WholeDay(None)  # none of it has expired
    elif (
        end < ctx.cutoff
        and not run.target.no_deletes
        and not any(g.covers(camera, start, end) for g in ctx.decision.grants)
        and ctx.floor.blocks_span(camera, start, end) is None
        and not listing.held_by(run.target.held_all)
    ):
        plan.remember(run.target_id, listing)
        action = Action(
            action="delete-day",
            target=run.target_id,
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


def _segment_action(run: _CameraPass, item: Segment) -> Action | None:
    """Hold it (protected, at any age), delete it (expired, unprotected, the floor agrees), or
    leave it."""
    protection = _covering(run.active, item)
    if protection is not None:
        if item.key in run.target.held.get(protection.id, set()):
            return None
        return Action(
            action="hold",
            target=run.target_id,
            camera=item.camera,
            key=item.key,
            rule=protection.rule,
            request=protection.request,
            hold=protection.id,
        )
    if not item.end < run.ctx.cutoff or item.key in run.target.held_all:
        return None  # young; or held by an ended protection: released first, deleted next run
    blocked = run.target.no_deletes or run.ctx.floor.blocks_delete(item)
    if blocked:
        run.plan.blocked_by_floor.append(
            Skipped(target=run.target_id, key=item.key, reason=blocked)
        )
        return None
    return Action(
        action="delete",
        target=run.target_id,
        camera=item.camera,
        key=item.key,
        rule="R3_RETENTION",
    )


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
