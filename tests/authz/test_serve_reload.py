"""Live reload: `serve` watches a git registry, swaps in a merged approval within the poll
interval, refuses a broken registry (the last good one keeps answering, readiness drops, the
audit log says why), and rebuilds when the clock reaches a future-dated decision."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import requests

from cctv_policy.authz.decide import question
from cctv_policy.authz.reload import RegistryWatcher, ServeState, SnapshotLoader
from cctv_policy.registry.types import parse_rfc3339
from testing.helpers import campus_repo, git
from testing.serving import ALLOW_PATH, ALLOWED, SERVE_NOW, audit_entries, serving
from tests.conftest import DEMO_REGISTRY

INTERVAL = 0.3
DECISION = "registry/decisions/REQ-2026-0042.yaml"


def wait_until(condition: Callable[[], bool], seconds: float = 20) -> float:
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < seconds, "not within the time allowed"
        time.sleep(0.05)
    return time.monotonic() - started


def allowed(url: str) -> bool:
    return requests.post(url + ALLOW_PATH, json={"input": ALLOWED}, timeout=10).json()["result"]


def ready(url: str) -> bool:
    return requests.get(url + "/health/ready", timeout=10).status_code == 200


def campus_without_the_approval(tmp_path: Path) -> Path:
    """The demo campus in git, REQ-2026-0042's approval on a branch not merged yet."""
    root = campus_repo(tmp_path / "campus", DEMO_REGISTRY)
    git(root, "rm", "-q", DECISION)
    git(root, "commit", "-q", "-m", "not decided yet", person="h.liu")
    git(root, "checkout", "-q", "-b", "approval")
    git(root, "checkout", "HEAD~1", "--", DECISION)
    git(root, "commit", "-q", "-m", "approve REQ-2026-0042", person="h.liu")
    git(root, "checkout", "-q", "main")
    return root


def test_a_merged_approval_is_served_within_the_poll_interval(tmp_path: Path):
    root = campus_without_the_approval(tmp_path)
    audit = tmp_path / "audit.jsonl"
    with serving(audit, root / "registry", reload_interval=INTERVAL) as service:
        assert not allowed(service.url)
        git(root, "merge", "-q", "--no-ff", "-m", "merge the approval", "approval", person="h.liu")
        head = git(root, "rev-parse", "HEAD").strip()
        took = wait_until(lambda: allowed(service.url))
        assert took < INTERVAL + 10  # a poll, then one load and check of the demo registry
        last = audit_entries(audit)[-1]
        assert last["allow"] and last["registry_commit"] == head
        reloaded = audit_entries(audit, "serve_registry_reloaded")
        assert reloaded and reloaded[-1]["registry_commit"] == head


def test_a_broken_registry_is_refused_and_the_last_good_one_answers(tmp_path: Path):
    root = campus_repo(tmp_path / "campus", DEMO_REGISTRY)
    audit = tmp_path / "audit.jsonl"
    with serving(audit, root / "registry", reload_interval=INTERVAL) as service:
        good = audit_entries(audit, "serve_started")[-1]["registry_revision"]
        assert allowed(service.url) and ready(service.url)
        cameras = root / "registry" / "cameras.yaml"
        cameras.write_text(cameras.read_text() + "\n  - {id: [broken\n")
        git(root, "commit", "-q", "-am", "a typo", person="h.liu")
        wait_until(lambda: not ready(service.url))
        health = requests.get(service.url + "/health/ready", timeout=10).json()
        assert "still answering from" in health["error"]
        assert requests.get(service.url + "/health?bundles", timeout=10).status_code == 500
        assert requests.get(service.url + "/health/live", timeout=10).status_code == 200
        assert allowed(service.url)  # the last good registry answers
        assert audit_entries(audit)[-1]["registry_revision"] == good
        refused = audit_entries(audit, "serve_registry_refused")
        assert len(refused) == 1 and "input error" in refused[0]["reason"]
        git(root, "revert", "--no-edit", "HEAD", person="h.liu")
        wait_until(lambda: ready(service.url))
        assert allowed(service.url)


def test_a_future_dated_decision_counts_once_the_clock_gets_there(tmp_path: Path):
    registry = tmp_path / "registry"
    shutil.copytree(DEMO_REGISTRY, registry)
    decision = registry / "decisions" / "REQ-2026-0042.yaml"
    decision.write_text(
        decision.read_text().replace(
            "decided_at: 2026-11-20T15:00:00+08:00", "decided_at: 2026-11-22T13:00:00+08:00"
        )
    )
    clock = [SERVE_NOW]
    loader = SnapshotLoader(registry)
    state = ServeState(loader.load(clock[0]))
    watcher = RegistryWatcher(state, loader, 1, lambda: clock[0], lambda *a, **k: None)
    q = question("t.wang", "CAM-LIB-01", parse_rfc3339(ALLOWED["at"]), SERVE_NOW)
    assert not state.snapshot.authorizer.evaluate(q).allow  # more than an hour ahead: invalid
    assert state.snapshot.recheck_at == parse_rfc3339("2026-11-22T12:00:00+08:00")
    clock[0] = SERVE_NOW + timedelta(hours=1)
    watcher.poll()
    assert not state.snapshot.authorizer.evaluate({**q, "now": "2026-11-22T03:00:00Z"}).allow
    clock[0] = SERVE_NOW + timedelta(hours=2)
    watcher.poll()
    assert state.snapshot.recheck_at is not None and state.snapshot.recheck_at > clock[0]
    assert state.snapshot.authorizer.evaluate({**q, "now": "2026-11-22T04:00:00Z"}).allow
