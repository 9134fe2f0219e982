"""A lean `serve` (issue #29): the server holds only what a decision reads, and the registry is
checked in a child process that hands back only that.

Before, serve's embedded OPA held the whole policy input (every person, camera and request
with its purpose, reports, holds, ...) and the check ran in the server's own process, so its
peak memory was that of the rule book over the whole registry (1.3 GiB for 10,000 approvals,
bench/authz_bench.py). The lean data must answer every question exactly as the whole registry
does, and a check that dies or answers garbage must serve nothing new (fail closed)."""

from __future__ import annotations

import itertools
import shutil
from datetime import timedelta
from pathlib import Path

import pytest

from cctv_policy.authz import validate
from cctv_policy.authz.decide import (
    DATA_PATH,
    DECISION_ENTRYPOINT,
    Authorizer,
    question,
    registry_data,
)
from cctv_policy.authz.reload import RegistryWatcher, ServeState, SnapshotLoader
from cctv_policy.engine import EngineError
from cctv_policy.engine.embedded import EmbeddedEngine
from cctv_policy.registry.loader import load_registry
from cctv_policy.registry.types import parse_rfc3339
from cctv_policy.rulebook.evaluation import Evaluation
from cctv_policy.rulebook.gate import RegistryNotEnforceable
from testing.serving import ALLOWED, SERVE_NOW
from tests.conftest import DEMO_REGISTRY

LEAN_KEYS = {
    "valid_approvals",
    "approved_scopes",
    "decisions",
    "by_recipient",
    "by_recipient_camera",
}


def _served_data(authorizer: Authorizer) -> dict[str, object]:
    rows = authorizer._engine.query(f"x := data.{DATA_PATH}")
    assert len(rows) == 1
    value = rows[0]["x"]
    assert isinstance(value, dict)
    return value


def test_the_server_engine_holds_only_what_a_decision_reads():
    snapshot = SnapshotLoader(DEMO_REGISTRY).load(SERVE_NOW)
    served = _served_data(snapshot.authorizer)
    assert set(served) == LEAN_KEYS, f"serve's engine holds {sorted(set(served) - LEAN_KEYS)}"
    # no request that is not validly approved is in the indexes the allow path reads
    valid = set(served["valid_approvals"])  # type: ignore[arg-type]
    cameras = served["by_recipient_camera"]
    assert isinstance(cameras, dict)
    indexed = {rid for per in cameras.values() for ids in per.values() for rid in ids}
    assert indexed <= valid
    assert set(served["decisions"]) == valid  # type: ignore[arg-type]


@pytest.mark.slow
def test_lean_data_answers_as_the_whole_registry(embedded_engine, policies):
    """Every person of the demo registry, every camera, footage times around every approved
    window, at several moments: the same answer (allow, request and reason) from both."""
    registry = load_registry(DEMO_REGISTRY)
    evaluation = Evaluation(registry, embedded_engine, SERVE_NOW, policies.version)
    lean = Authorizer(evaluation, policies)
    whole = EmbeddedEngine(policies.without_tests())
    try:
        whole.add_data({DATA_PATH: registry_data(evaluation)})
        scopes = lean.approvals.values()
        recipients = sorted({person for scope in scopes for person in scope.recipients})
        others = sorted(set(registry.people) - set(recipients))[:1]
        people = [*recipients, *others, "nobody.here"]
        granted = sorted({camera for scope in scopes for camera in scope.cameras})
        cameras = [*granted, *sorted(set(registry.cameras) - set(granted))[:1]]
        times = sorted(
            {
                moment
                for scope in scopes
                for edge in (scope.start, scope.end)
                for moment in (edge - timedelta(seconds=1), edge, edge + timedelta(hours=1))
            }
        )
        nows = [SERVE_NOW - timedelta(days=30), SERVE_NOW, SERVE_NOW + timedelta(days=30)]
        asked = 0
        for person, camera, at, now in itertools.product(people, cameras, times, nows):
            q = question(person, camera, at, now)
            assert lean._engine.evaluate(DECISION_ENTRYPOINT, q) == whole.evaluate(
                DECISION_ENTRYPOINT, q
            ), q
            asked += 1
        assert asked > 100
    finally:
        whole.close()


def test_a_refused_registry_crosses_from_the_child_as_it_was_raised(tmp_path: Path):
    registry = Path(shutil.copytree(DEMO_REGISTRY, tmp_path / "registry"))
    (registry / "decisions" / "REQ-2026-0042.yaml").write_text("request: [unclosed\n")
    with pytest.raises(RegistryNotEnforceable, match="input error"):
        SnapshotLoader(registry).load(SERVE_NOW)


@pytest.mark.parametrize(
    "child",
    [
        "import os; os._exit(9)",  # killed, out of memory, ...
        "print('not json')",
        "print('{\"policy_version\": 1}')",
        'import sys; sys.stdin.read(); print(\'{"error": {"type": "SystemExit"}}\')',
    ],
    ids=["dies", "garbage", "wrong-version", "unknown-error"],
)
def test_a_check_that_dies_or_answers_garbage_serves_nothing_new(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, child: str
):
    registry = Path(shutil.copytree(DEMO_REGISTRY, tmp_path / "registry"))
    loader = SnapshotLoader(registry)
    state = ServeState(loader.load(SERVE_NOW))
    events: list[str] = []
    watcher = RegistryWatcher(state, loader, 1, lambda: SERVE_NOW, lambda e, **_: events.append(e))
    q = question("t.wang", "CAM-LIB-01", parse_rfc3339(ALLOWED["at"]), SERVE_NOW)
    assert state.snapshot.authorizer.evaluate(q).allow
    # a revocation arrives, but the check of the new registry cannot be had
    decision = registry / "decisions" / "REQ-2026-0042.yaml"
    decision.write_text(decision.read_text().replace("decision: approved", "decision: rejected"))
    monkeypatch.setattr(validate, "CHILD_ARGS", ("-c", child))
    with pytest.raises(EngineError):
        loader.load(SERVE_NOW)
    assert not watcher.poll()
    assert events == ["serve_registry_refused"]
    assert state.degraded is not None
    assert not state.snapshot.authorizer.evaluate(q).allow, "the revoked approval still allows"
