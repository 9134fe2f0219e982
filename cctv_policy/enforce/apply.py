"""Carry out a plan: holds first, deletes last, every step written to the audit log before it
happens. Idempotent ("already gone" is success), so a run killed at any point is finished by
running plan + apply again. Every delete is checked against the safety floor once more here."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

from cctv_policy.audit.log import AuditLog
from cctv_policy.enforce.models import Action, Plan
from cctv_policy.enforce.safety import SafetyFloor
from storage_backends.base import Backend, DayListing, DeleteResult, GrantSpec, segment_of

DELETE_BATCH = 1000
# Whole days are deleted by the storage while the next ones are checked and logged. Batches
# handed over at once: on a NAS each goes to a worker process (storage_backends/day_workers.py),
# and with two per process a worker never waits for the next (bench/sweep_bench.py, 2 cores:
# the delete phase took 0.85-0.95 s with 4 handed over at once, 1.0-1.1 s with 2); on S3 each
# is one DeleteObjects call. A storage that deletes in this process (one shard of several)
# gets one batch at a time: more threads would only fight over the interpreter after every
# unlink (one `apply --shard 0/2` alone: 2.06-2.10 CPU-seconds with 4, 1.51-1.52 with 1).
DELETE_WORKERS = 4
# Days are logged in groups that double (1,000 files, then 2,000, ... up to this many), so the
# storage starts early and a long sweep costs a few fsyncs instead of one per batch.
MAX_LOG_GROUP = 64_000
_ORDER = {"hold": 0, "revoke": 1, "grant": 2, "release": 3, "delete": 4, "delete-day": 5}


@dataclass
class ApplyReport:
    done: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    already_gone: int = 0
    refused: dict[str, str] = field(default_factory=dict)
    storage_requests: int = 0
    # camera -> why none of its footage was deleted (the clock gate: its footage runs ahead).
    clock_suspect: dict[str, str] = field(default_factory=dict)


def apply_plan(
    plan: Plan,
    backends: dict[str, Backend],
    audit: AuditLog,
    floor: SafetyFloor,
    progress: Callable[[int], None] = lambda n: None,
    started: str = "apply_started",
) -> ApplyReport:
    """Apply a plan. `started`: the event that opens the run in the audit log (a run whose
    clock was refused is not an `apply_started`: its clock is no evidence for the next
    run's)."""
    audit.append(started, now=plan.now, input_hash=plan.input_hash, planned=plan.counts())
    deleter = DayDeleter(backends, audit, floor)
    report = deleter.report
    actions = sorted(plan.actions, key=lambda a: (_ORDER[a.action], a.target, a.key or ""))
    holds, deletes, days = _grouped(actions)
    # Holds first, one storage call per hold (each call rewrites the hold's manifest).
    for (target, hold_id), group in holds.items():
        for action in group:
            audit.append("hold", **_details(action))
        backends[target].set_hold(hold_id, [a.key or "" for a in group])
        report.done["hold"] += len(group)
        progress(len(group))
    for action in actions:
        if action.action not in ("hold", "delete", "delete-day"):
            _apply_one(action, backends[action.target], audit, floor, report)
            progress(1)
    for target_id, backend in backends.items():
        restored = backend.refresh_holds()
        if restored:
            audit.append("holds_refreshed", target=target_id, readable_again=restored)
    for target, batch in deletes.items():
        backend = backends[target]
        for i in range(0, len(batch), DELETE_BATCH):
            chunk = batch[i : i + DELETE_BATCH]
            _delete_batch(chunk, backend, audit, floor, report)
            progress(len(chunk))
    for day_actions in days.values():
        for action in day_actions:
            deleter.take(action, plan.listing_of(action))
            progress(1)
    deleter.finish()
    audit.append(
        "apply_finished",
        done=dict(report.done),
        already_gone=report.already_gone,
        refused=len(report.refused),
    )
    audit.write_anchor()
    return report


def _grouped(
    actions: list[Action],
) -> tuple[dict[tuple[str, str], list[Action]], dict[str, list[Action]], dict[str, list[Action]]]:
    """The holds by (target, hold), the single deletes and the whole days by target."""
    holds: dict[tuple[str, str], list[Action]] = defaultdict(list)
    deletes: dict[str, list[Action]] = defaultdict(list)
    days: dict[str, list[Action]] = defaultdict(list)
    for action in actions:
        if action.action == "hold":
            holds[(action.target, action.hold or "")].append(action)
        elif action.action == "delete":
            deletes[action.target].append(action)
        elif action.action == "delete-day":
            days[action.target].append(action)
    return holds, deletes, days


def _details(action: Action) -> dict:
    return action.model_dump(mode="json", exclude_none=True, exclude_defaults=True)


def _apply_one(
    action: Action, backend: Backend, audit: AuditLog, floor: SafetyFloor, report: ApplyReport
) -> None:
    details = _details(action)
    if action.action == "release":
        assert action.hold is not None  # planned releases name their hold
        audit.append("release", **details)
        backend.clear_hold(action.hold)
    elif action.action == "grant":
        refused = _grant_refusal(action, backend, floor)
        if refused:
            audit.append("grant_refused", **details, reason=refused)
            report.refused[action.grant or ""] = f"safety floor: {refused}"
            return
        audit.append("grant", **details)
        backend.create_grant(grant_spec(action))
    elif action.action == "revoke":
        assert action.grant is not None  # planned revokes name their grant
        audit.append("revoke", **details)
        backend.revoke_grant(action.grant)
    report.done[action.action] += 1


def grant_spec(action: Action) -> GrantSpec:
    """What the storage is told to grant; a grant action always carries all of it."""
    if None in (action.grant, action.request, action.recipient, action.starts, action.ends):
        raise ValueError(f"grant action without its id, request, recipient or period: {action}")
    assert action.grant and action.request and action.recipient and action.starts and action.ends
    return GrantSpec(
        action.grant, action.request, action.recipient, action.keys, action.starts, action.ends
    )


def _grant_refusal(action: Action, backend: Backend, floor: SafetyFloor) -> str | None:
    """The floor's reason to refuse a grant, checked again on the very keys to be exported."""
    if (
        action.starts is None
        or action.ends is None
        or action.window_from is None
        or action.window_to is None
        or action.request is None
        or action.recipient is None
    ):
        return "the grant action is incomplete"
    refused = floor.blocks_grant(
        action.request,
        action.recipient,
        action.cameras,
        action.window_from,
        action.window_to,
        action.starts,
        action.ends,
    )
    if refused:
        return refused
    for key in action.keys:
        parsed = backend.layout.parse(key)
        if parsed is None or parsed[0] not in action.cameras:
            return f"{key} is not footage of an approved camera"
        _camera, start, seconds = parsed
        end = start + timedelta(seconds=seconds)
        if not (start < action.window_to and action.window_from < end):
            return f"{key} lies outside the approved footage window"
    return None


def _delete_batch(
    chunk: list[Action], backend: Backend, audit: AuditLog, floor: SafetyFloor, report: ApplyReport
) -> None:
    allowed, refused = [], {}
    for action in chunk:
        key = action.key or ""
        segment = segment_of(backend.layout, key, action.camera or "")
        if segment is None:
            refused[key] = "key does not match the layout or camera"
            continue
        why = floor.blocks_delete(segment)
        if why:
            refused[key] = f"safety floor: {why}"
            continue
        allowed.append(key)
    if refused:
        audit.append("delete_refused", target=backend.target_id, keys=refused)
        report.refused.update(refused)
    if not allowed:
        return
    audit.append("delete", target=backend.target_id, rule="R3_RETENTION", keys=allowed)
    result = backend.delete(allowed)
    report.done["delete"] += len(result.deleted)
    report.already_gone += len(result.already_gone)
    report.refused.update(result.refused)
    report.storage_requests += result.requests
    if result.refused:
        audit.append("delete_refused", target=backend.target_id, keys=result.refused)


class DayDeleter:
    """Deletes whole camera-days: each checked once against the floor and the storage's holds,
    logged with every name (one record per day, a group of days sharing one fsync) before its
    storage deletes it, in batches of exactly DELETE_BATCH files (a day may span two batches;
    on S3 one batch is one DeleteObjects). The storage works while the next days are checked
    and logged."""

    def __init__(self, backends: dict[str, Backend], audit: AuditLog, floor: SafetyFloor) -> None:
        self.backends, self.audit, self.floor = backends, audit, floor
        self.report = ApplyReport()
        self._held: dict[str, set[str]] = {}
        self._unlogged: dict[str, list[tuple[Action, DayListing]]] = defaultdict(list)
        self._queued: dict[str, list[DayListing]] = defaultdict(list)  # logged, not yet handed over
        self._pending: list[tuple[str, Future[DeleteResult]]] = []
        self._handed_over: dict[str, int] = defaultdict(int)  # files given to the storage
        beside = any(backend.works_beside for backend in backends.values())
        self._pool = ThreadPoolExecutor(max_workers=DELETE_WORKERS if beside else 1)

    def take(self, action: Action, listing: DayListing | None = None) -> None:
        """Check, log and hand one planned delete-day to its storage."""
        backend = self.backends[action.target]
        if action.target not in self._held:
            self._held[action.target] = set().union(*backend.held_keys().values())
        day, why = _day_now(action, listing, backend, self.floor, self._held[action.target])
        if day is None:
            self.audit.append("delete_refused", target=action.target, day=action.key, reason=why)
            self.report.refused[action.key or ""] = why
            return
        self._unlogged[action.target].append((action, day))
        self.report.done["delete-day"] += 1
        waiting = sum(len(d.names) for _, d in self._unlogged[action.target])
        if waiting + self._queued_files(action.target) >= self._log_group(action.target):
            self._flush(action.target, final=False)

    def finish(self) -> ApplyReport:
        """Hand over what is left, wait for the storage, and account for every file."""
        for target in list(self._unlogged) + list(self._queued):
            self._flush(target, final=True)
        for target, future in self._pending:
            _account(future.result(), self.backends[target], self.audit, self.report)
        self._pending.clear()
        self._pool.shutdown()
        return self.report

    def _log_group(self, target: str) -> int:
        return min(max(DELETE_BATCH, self._handed_over[target]), MAX_LOG_GROUP)

    def _queued_files(self, target: str) -> int:
        return sum(len(day.names) for day in self._queued[target])

    def _flush(self, target: str, final: bool) -> None:
        """Log the days not logged yet (one fsync), then hand over full batches (and, when
        final, the rest)."""
        unlogged = self._unlogged.pop(target, [])
        if unlogged:
            self.audit.append_many([("delete_day", _day_record(a, day)) for a, day in unlogged])
            self._queued[target] += [day for _, day in unlogged]
        while self._queued_files(target) >= DELETE_BATCH or (final and self._queued[target]):
            batch, self._queued[target] = _split(self._queued[target], DELETE_BATCH)
            future = self._pool.submit(self.backends[target].delete_days, batch)
            self._pending.append((target, future))
            self._handed_over[target] += sum(len(day.names) for day in batch)
        if not self._queued[target]:
            del self._queued[target]


def _split(days: list[DayListing], size: int) -> tuple[list[DayListing], list[DayListing]]:
    """The first `size` files of `days` (the last day cut if need be), and the rest."""
    head: list[DayListing] = []
    room = size
    for index, day in enumerate(days):
        if len(day.names) <= room:
            head.append(day)
            room -= len(day.names)
            continue
        head.append(replace(day, names=day.names[:room]))
        rest = replace(day, names=day.names[room:])
        return head, [rest, *days[index + 1 :]]
    return head, []


def _day_now(
    action: Action, listing: DayListing | None, backend: Backend, floor: SafetyFloor, held: set[str]
) -> tuple[DayListing | None, str]:
    """The day as this run's planner listed it (or listed now), if it may still be deleted
    whole; else why not. The floor is asked once for the whole day."""
    assert action.camera is not None and action.day is not None  # planned delete-days have both
    listing = listing or backend.list_day(action.camera, action.day)
    bounds = backend.layout.day_bounds(action.day)
    if listing is None or bounds is None or listing.odd:
        return None, "the day folder changed since the plan (plan again)"
    end = bounds[0] + timedelta(seconds=listing.last_end)
    why = floor.blocks_span(action.camera, bounds[0], end)
    if why:
        return None, f"safety floor: {why}"
    if listing.held_by(held):
        return None, "footage of this day is under a hold on the storage"
    return listing, ""


def _day_record(action: Action, listing: DayListing) -> dict[str, Any]:
    record = _details(action)
    record.update(count=len(listing.names), digest=listing.digest, keys=list(listing.names))
    if listing.digest != action.digest:
        record["planned"] = {"count": action.count, "digest": action.digest}
    return record


def _account(result: DeleteResult, backend: Backend, audit: AuditLog, report: ApplyReport) -> None:
    report.done["delete"] += len(result.deleted)
    report.already_gone += len(result.already_gone)
    report.refused.update(result.refused)
    report.storage_requests += result.requests
    if result.refused:
        audit.append("delete_refused", target=backend.target_id, keys=result.refused)
