"""One enforcement run, end to end, for the CLI and for tests: decide, plan, apply."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from cctv_policy.audit.log import AuditLog
from cctv_policy.enforce.apply import ApplyReport, apply_plan
from cctv_policy.enforce.clock import ClockDisagrees, ClockVerdict, assess_clock
from cctv_policy.enforce.planner import (
    Action,
    Plan,
    PlanContext,
    ReadAhead,
    Shard,
    make_plan,
    read_ahead,
)
from cctv_policy.enforce.safety import SafetyFloor
from cctv_policy.registry.loader import LoadedRegistry
from cctv_policy.rulebook.enforcement import ENFORCE_ENTRYPOINT, enforcement_decision
from cctv_policy.rulebook.evaluation import Evaluation
from cctv_policy.rulebook.gate import require_enforceable
from cctv_policy.targets import TargetError, make_backends, s3_backend
from storage_backends.base import Backend
from storage_backends.day_workers import DayWorkers

# Actions that only ever keep more or give less: applied whether a reviewed plan lists them or
# not (a plan reviewed yesterday cannot know about today's hold or today's invalid approval).
PROTECTIVE = ("hold", "revoke")


@dataclass
class Prepared:
    plan: Plan
    floor: SafetyFloor
    backends: dict[str, Backend]
    skipped_targets: dict[str, str]
    lifecycle_targets: list[str]
    clock_tolerance: timedelta
    camera_targets: dict[str, str]
    registry: LoadedRegistry


def prepare(
    evaluation: Evaluation,
    target: str | None = None,
    root_overrides: dict[str, Path] | None = None,
    shard: Shard = Shard(),
    cameras: set[str] | None = None,
    progress: Callable[[str, int], None] = lambda label, n: None,
) -> Prepared:
    """The plan of one run over one evaluation (registry, rule book, now). Raises
    RegistryNotEnforceable (input errors), EngineError (fail closed) or TargetError (storage
    not usable)."""
    DayWorkers.share_cores(shard.count)  # every run says how many share the machine's cores
    registry, now = evaluation.registry, evaluation.now
    early = _backends_early(registry, target, root_overrides)
    ahead = _read_ahead(registry, early[0], now, shard, cameras) if early else {}
    require_enforceable(evaluation, also=(ENFORCE_ENTRYPOINT,))
    assert registry.config is not None  # a registry without config is not enforceable
    unknown = sorted((cameras or set()) - set(registry.cameras))
    if unknown:
        raise TargetError(f"--camera {', '.join(unknown)}: not in cameras.yaml")
    decision = enforcement_decision(evaluation)
    floor = SafetyFloor(registry, now)
    backends, skipped = early or make_backends(registry, target, root_overrides)
    lifecycle = [t for t in backends if registry.targets[t].lifecycle_offload]
    for target_id in lifecycle:
        if not backends[target_id].object_lock:
            raise TargetError(
                f"target {target_id} asks for lifecycle_offload, but its bucket has no Object "
                "Lock: the bucket's lifecycle engine would delete held footage too. Enable "
                "Object Lock (on a new bucket) or set lifecycle_offload: false"
            )
    ctx = PlanContext(registry, decision, floor, now, progress, read_ahead=ahead)
    plan = make_plan(
        ctx, backends, evaluation.policy_version, evaluation.input_hash, shard, cameras
    )
    return Prepared(
        plan,
        floor,
        backends,
        skipped,
        lifecycle,
        timedelta(hours=registry.config.clock_tolerance_hours),
        registry.camera_targets,
        registry,
    )


def _backends_early(
    registry: LoadedRegistry, target: str | None, root_overrides: dict[str, Path] | None
) -> tuple[dict[str, Backend], dict[str, str]] | None:
    """The backends, made before the rule book has run so that reading can start; None when
    they cannot be made (the error is raised after the rule book, whose errors come first)."""
    if not registry.core_readable:
        return None
    try:
        return make_backends(registry, target, root_overrides)
    except Exception:  # noqa: BLE001 - made again after the gate, which raises it then
        return None


def _read_ahead(
    registry: LoadedRegistry,
    backends: dict[str, Backend],
    now: datetime,
    shard: Shard,
    cameras: set[str] | None,
) -> dict[str, ReadAhead]:
    """Start reading day folders while the rule book decides (see ReadAhead); nothing when
    the registry has no retention to go by (the gate refuses it next)."""
    if registry.config is None:
        return {}
    cutoff = now - timedelta(days=registry.config.retention_days)
    return read_ahead(registry, backends, cutoff, shard, cameras)


def restrict_to_reviewed(fresh: Plan, reviewed: Plan) -> Plan:
    """Apply what was reviewed and is still valid now (the intersection of both plans), plus
    every protective action of the fresh plan."""

    def ident(a: Action) -> tuple[str, str, str | None, str | None, str | None]:
        return (a.action, a.target, a.key, a.hold, a.grant)

    allowed = {ident(a) for a in reviewed.actions}
    kept = [a for a in fresh.actions if a.action in PROTECTIVE or ident(a) in allowed]
    return fresh.model_copy(update={"actions": kept})


def run_apply(
    prepared: Prepared, audit: AuditLog, progress: Callable[[int], None] = lambda n: None
) -> ApplyReport:
    """Check the clock against the evidence, then carry out the plan. A clock the evidence
    does not vouch for lets only holds and revokes happen, then raises ClockDisagrees; a
    camera whose footage runs into the future keeps all its footage (report.clock_suspect),
    the rest goes ahead. Raises ClockDisagrees or AuditError."""
    verdict = check_apply_clock(prepared, audit)
    audit.policy_version = prepared.plan.policy_version
    plan = _within_clock(prepared.plan, verdict, audit)
    started = "apply_protective_only" if verdict.refused else "apply_started"
    report = apply_plan(plan, prepared.backends, audit, prepared.floor, progress, started=started)
    report.clock_suspect = dict(verdict.suspect)
    if verdict.refused:
        raise ClockDisagrees(
            f"{verdict.refused}. Only holds and revokes were applied (they keep more or give "
            "less); nothing was deleted, released or granted"
        )
    for target_id in prepared.lifecycle_targets:
        backend = prepared.backends[target_id]
        cameras = sorted(c for c, t in prepared.camera_targets.items() if t == target_id)
        others = sorted(c for c, t in prepared.camera_targets.items() if t != target_id)
        audit.append(
            "lifecycle_sync",
            target=target_id,
            retention_days=prepared.plan.retention_days,
            cameras=len(cameras),
        )
        backend.sync_lifecycle(prepared.plan.retention_days, cameras, others)
    return report


def _within_clock(plan: Plan, verdict: ClockVerdict, audit: AuditLog) -> Plan:
    """The actions the clock verdict allows, the refusal logged first."""
    if verdict.refused:
        audit.append("clock_refused", now=plan.now, reason=verdict.refused)
        kept = [a for a in plan.actions if a.action in PROTECTIVE]
    elif verdict.suspect:
        audit.append("clock_suspect", now=plan.now, cameras=verdict.suspect)
        kept = [
            a
            for a in plan.actions
            if not (a.action in ("delete", "delete-day") and a.camera in verdict.suspect)
        ]
    else:
        return plan
    return plan.model_copy(update={"actions": kept})


def check_apply_clock(prepared: Prepared, audit: AuditLog) -> ClockVerdict:
    """The clock against the newest footage on each target the plan acts on and against the
    last apply in the audit log."""
    plan = prepared.plan
    acting = {a.target for a in plan.actions}
    last = audit.last_entry("apply_started")
    last_now = datetime.fromisoformat(str(last["now"])) if last and last.get("now") else None
    evidence: dict[str, dict[str, datetime]] = {}
    for camera, end in plan.newest_footage.items():
        target = prepared.camera_targets.get(camera)
        if target in acting:
            evidence.setdefault(target, {})[camera] = end
    return assess_clock(plan.now, evidence, last_now, prepared.clock_tolerance)


def suspend_offload(registry: LoadedRegistry, audit: AuditLog) -> list[str]:
    """When a run is refused, the buckets that expire footage on their own are told to stop
    (their lifecycle rules disabled): a refused run cannot place the holds a new protection
    needs, and the bucket must not delete meanwhile. The next run that is not refused enables
    them again. Best effort: returns what was done, per target, for the refusal message."""
    done = []
    for target in registry.targets.values():
        if target.kind != "s3" or not target.lifecycle_offload:
            continue
        try:
            backend = s3_backend(target)
            count = backend.suspend_lifecycle()
            audit.record_refusal("lifecycle_suspended", target=target.id, rules=count)
            done.append(f"{target.id}: lifecycle rules disabled ({count})")
        except Exception as exc:  # noqa: BLE001 - botocore raises many types; keep refusing
            done.append(
                f"{target.id}: lifecycle rules could NOT be disabled ({exc}); the "
                "bucket may go on expiring footage"
            )
    return done
