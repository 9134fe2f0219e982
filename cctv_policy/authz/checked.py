"""The registry check that serve's snapshots are built from: the child process `python -m
cctv_policy.authz.checked` that validate.py starts, doing what reload.py's SnapshotLoader did
in-process before, and answering on its standard output."""

from __future__ import annotations

import gc
import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from cctv_policy.authz.backing import backing
from cctv_policy.authz.lean import lean_registry_data, scope_to_json
from cctv_policy.authz.registry_state import next_validity_change, revision
from cctv_policy.authz.url_schemes import viewed_targets, viewed_to_json
from cctv_policy.authz.validate import KNOWN_ERRORS, CheckRequest
from cctv_policy.registry.approvals import valid_approvals
from cctv_policy.registry.loader import load_registry
from cctv_policy.rulebook.evaluation import APPROVED_SCOPES, Evaluation
from cctv_policy.rulebook.gate import require_enforceable


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
        "viewed": viewed_to_json(viewed_targets(registry)),
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


def main() -> None:
    """The child: one CheckRequest as JSON on stdin; its answer on stdout (see the module)."""
    request = CheckRequest(**json.loads(sys.stdin.buffer.read()))
    out = sys.stdout.buffer
    try:
        facts, data = checked_snapshot(request)
    except tuple(KNOWN_ERRORS.values()) as exc:
        kind = next(c.__name__ for c in type(exc).__mro__ if KNOWN_ERRORS.get(c.__name__) is c)
        error = {"type": kind, "message": str(exc)}
        out.write(json.dumps({"error": error}).encode() + b"\n")
        return
    out.write(json.dumps(facts).encode() + b"\n")
    out.write(data)


if __name__ == "__main__":
    main()
