"""The registry check that serve's snapshots are built from, as the child process runs it
(validate.py): what reload.py's SnapshotLoader did in-process before."""

from __future__ import annotations

import gc
import json
from datetime import datetime
from pathlib import Path
from typing import Any

from cctv_policy.authz.backing import backing
from cctv_policy.authz.lean import lean_registry_data, scope_to_json
from cctv_policy.authz.reload import next_validity_change, revision
from cctv_policy.authz.validate import CheckRequest
from cctv_policy.evaluation import APPROVED_SCOPES, Evaluation
from cctv_policy.gate import require_enforceable
from cctv_policy.registry.approvals import valid_approvals
from cctv_policy.registry.loader import load_registry


def checked_snapshot(request: CheckRequest) -> tuple[dict[str, Any], bytes]:
    """(facts: policy version, revision, recheck time, backing digests, the floor's scopes;
    the engine's lean data as JSON). Raises what the enforcement gate raises."""
    gc.disable()  # a short-lived process that makes millions of objects and no cycles
    registry_dir, now = Path(request.registry_dir), datetime.fromisoformat(request.now)
    choice = request.choice()
    policies = choice.policies()
    # Read before loading: a file changed meanwhile differs from what is remembered, so it
    # is withdrawn, never kept, if a later reload is refused.
    read, files = revision(registry_dir)
    registry = load_registry(registry_dir)
    engine = choice.engine(policies)
    try:
        evaluation = Evaluation(registry, engine, now, policies.version, policies)
        require_enforceable(evaluation, also=(APPROVED_SCOPES,), one_query=True)
        data = lean_registry_data(evaluation)
    finally:
        engine.close()
    floor = valid_approvals(registry)
    recheck_at = next_validity_change(registry, now)
    facts = {
        "policy_version": policies.version,
        "revision": {"digest": read.digest, "commit": read.commit},
        "recheck_at": None if recheck_at is None else recheck_at.isoformat(),
        "backing": backing(files, floor),
        "floor": [scope_to_json(scope) for scope in floor.values()],
        "peak_rss_mib": peak_rss_mib(),
    }
    return facts, json.dumps(data, separators=(",", ":")).encode()


def peak_rss_mib() -> int | None:
    """This process's peak memory so far (Linux), for the audit log and the bench."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) // 1024
    except (OSError, ValueError, IndexError):
        pass
    return None
