"""One enforcement run, end to end, for the CLI and for tests: load, decide, plan, apply."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cctv_policy.audit.log import AuditLog
from cctv_policy.enforce.apply import ApplyReport, apply_plan
from cctv_policy.enforce.decision import decide
from cctv_policy.enforce.planner import Plan, PlanContext, Shard, make_plan
from cctv_policy.enforce.safety import SafetyFloor
from cctv_policy.enforce.targets import make_backends
from cctv_policy.engine.base import Engine
from cctv_policy.registry.loader import LoadedRegistry
from storage_backends.base import Backend


class RegistryNotEnforceable(Exception):
    """The registry has input errors: nothing is enforced from a registry that cannot be read."""


@dataclass
class Prepared:
    plan: Plan
    floor: SafetyFloor
    backends: dict[str, Backend]
    skipped_targets: dict[str, str]
    lifecycle_targets: list[str]


def prepare(registry: LoadedRegistry, engine: Engine, now: datetime, policy_version: str,
            target: str | None = None, root_overrides: dict[str, Path] | None = None,
            shard: Shard = Shard(), cameras: set[str] | None = None,
            progress: Callable[[str, int], None] = lambda label, n: None) -> Prepared:
    if registry.issues or not registry.core_readable:
        first = registry.issues[0] if registry.issues else None
        where = f" (first: {first.file}:{first.line} {first.code})" if first else ""
        raise RegistryNotEnforceable(
            f"the registry has {len(registry.issues)} input error(s){where}; run "
            "`cctv-policy check` and fix them: nothing is enforced from a registry that "
            "cannot be read")
    decision, digest = decide(registry, engine, now)
    floor = SafetyFloor(registry, now)
    backends, skipped = make_backends(registry, target, root_overrides)
    ctx = PlanContext(registry, decision, floor, now, progress)
    plan = make_plan(ctx, backends, policy_version, digest, shard, cameras)
    lifecycle = [t for t in backends if registry.targets[t].lifecycle_offload
                 and hasattr(backends[t], "sync_lifecycle")]
    return Prepared(plan, floor, backends, skipped, lifecycle)


def restrict_to_reviewed(fresh: Plan, reviewed: Plan) -> Plan:
    """Apply only what was reviewed and is still valid now: the intersection of both plans."""
    def ident(a):  # noqa: ANN001, ANN202
        return (a.action, a.target, a.key, a.hold, a.grant)

    allowed = {ident(a) for a in reviewed.actions}
    return fresh.model_copy(update={"actions": [a for a in fresh.actions if ident(a) in allowed]})


def run_apply(prepared: Prepared, audit: AuditLog,
              progress: Callable[[int], None] = lambda n: None) -> ApplyReport:
    audit.policy_version = prepared.plan.policy_version
    report = apply_plan(prepared.plan, prepared.backends, audit, prepared.floor, progress)
    for target_id in prepared.lifecycle_targets:
        backend = prepared.backends[target_id]
        audit.append("lifecycle_sync", target=target_id, retention_days=prepared.plan.retention_days)
        backend.sync_lifecycle(prepared.plan.retention_days)  # type: ignore[attr-defined]
    return report
