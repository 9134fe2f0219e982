"""One enforcement run, end to end, for the CLI and for tests: decide, plan, apply."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from cctv_policy.audit.log import AuditLog
from cctv_policy.enforce.apply import ApplyReport, apply_plan
from cctv_policy.enforce.clock import ClockDisagrees, ClockVerdict, assess_clock
from cctv_policy.enforce.models import Action, Plan, Scope
from cctv_policy.enforce.planner import PlanContext, make_plan
from cctv_policy.enforce.read_ahead import start_reading
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
    scope: Scope | None = None,
    progress: Callable[[str, int], None] = lambda label, n: None,
    workers: DayWorkers | None = None,
) -> Prepared:
    """The plan of one run over one evaluation (registry, rule book, now) and one scope of
    storage; `workers`: the run's worker processes, owned by the caller (None: none). The
    backends are made once, before the rule book runs, so that reading can start. Raises
    RegistryNotEnforceable (input errors), EngineError (fail closed) or TargetError (storage
    not usable; after the registry's own errors)."""
    scope = scope or Scope()
    registry, now = evaluation.registry, evaluation.now
    early = _backends_early(registry, scope, workers)
    ahead = start_reading(registry, early[0], now, scope) if isinstance(early, tuple) else {}
    require_enforceable(evaluation, also=(ENFORCE_ENTRYPOINT,))
    assert registry.config is not None  # a registry without config is not enforceable
    unknown = sorted((scope.cameras or set()) - set(registry.cameras))
    if unknown:
        raise TargetError(f"--camera {', '.join(unknown)}: not in cameras.yaml")
    decision = enforcement_decision(evaluation)
    floor = SafetyFloor(registry, now)
    if isinstance(early, Exception):
        raise early
    backends, skipped = early or _make_backends(registry, scope, workers)
    lifecycle = _lifecycle_targets(registry, backends)
    ctx = PlanContext(registry, decision, floor, now, progress, read_ahead=ahead, scope=scope)
    plan = make_plan(ctx, backends, evaluation.policy_version, evaluation.input_hash)
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


Made = tuple[dict[str, Backend], dict[str, str]]


def _make_backends(registry: LoadedRegistry, scope: Scope, workers: DayWorkers | None) -> Made:
    return make_backends(registry, scope.target, scope.root_overrides, workers)


def _backends_early(
    registry: LoadedRegistry, scope: Scope, workers: DayWorkers | None
) -> Made | Exception | None:
    """The backends, made before the rule book has run so that reading can start, or what
    making them raised (raised after the rule book, whose errors come first); None when the
    registry cannot be read (the rule book's gate refuses it)."""
    if not registry.core_readable:
        return None
    try:
        return _make_backends(registry, scope, workers)
    except Exception as exc:  # noqa: BLE001 - raised after the gate
        return exc


def _lifecycle_targets(registry: LoadedRegistry, backends: dict[str, Backend]) -> list[str]:
    """The targets whose bucket expires footage itself; each must have Object Lock."""
    lifecycle = [t for t in backends if registry.targets[t].lifecycle_offload]
    for target_id in lifecycle:
        if not backends[target_id].object_lock:
            raise TargetError(
                f"target {target_id} asks for lifecycle_offload, but its bucket has no Object "
                "Lock: the bucket's lifecycle engine would delete held footage too. Enable "
                "Object Lock (on a new bucket) or set lifecycle_offload: false"
            )
    return lifecycle


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
