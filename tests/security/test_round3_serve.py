"""Third round against `serve` (#26).

- A revocation waited for a clean registry: while any other file had an input error, reload kept
  the last good snapshot whole, and with it the approval the officer had just revoked.
- The clock was checked against the audit log only at start: a step back while running re-opened
  ended use periods, and the hidden `--fixed-clock` gave real ALLOWs from a production command
  line.
- DNS rebinding: a page on evil.example that resolves to 127.0.0.1 reaches the loopback server
  with `Host: evil.example`; and a browser sends a cross-origin "simple request" (a text/plain
  POST, a GET) without asking first.
- A token file others can read.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import requests

from testing.serving import (
    ALLOW_PATH,
    ALLOWED,
    audit_entries,
    serving,
)
from tests.conftest import DEMO_REGISTRY

INTERVAL = 0.3
# REQ-2026-0040's approval, in use at SERVE_NOW too: it has nothing to do with REQ-2026-0042.
UNRELATED = {"principal": "q.xu", "camera": "CAM-LAB-02", "at": "2026-11-16T10:00:00Z"}


def wait_until(condition: Callable[[], bool], seconds: float = 20) -> None:
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < seconds, "not within the time allowed"
        time.sleep(0.05)


def allowed(url: str, question: dict[str, str] = ALLOWED) -> bool:
    answer = requests.post(url + ALLOW_PATH, json={"input": question}, timeout=10)
    assert answer.status_code == 200, answer.text
    return bool(answer.json()["result"])


def ready(url: str) -> bool:
    return requests.get(url + "/health/ready", timeout=10).status_code == 200


# 1. A revocation takes effect while another, unrelated file is broken.


def _reject(registry: Path) -> None:
    decision = registry / "decisions" / "REQ-2026-0042.yaml"
    decision.write_text(decision.read_text().replace("decision: approved", "decision: rejected"))


def _remove(registry: Path) -> None:
    (registry / "decisions" / "REQ-2026-0042.yaml").unlink()


def _edit_request(registry: Path) -> None:
    request = registry / "requests" / "REQ-2026-0042.yaml"
    request.write_text(request.read_text().replace("library racks", "library racks and more"))


def _make_unreadable(registry: Path) -> None:
    decision = registry / "decisions" / "REQ-2026-0042.yaml"
    decision.unlink()
    decision.mkdir()  # (a mode of 0 does not stop root, who runs these tests in CI)


REVOCATIONS = {
    "rejected": _reject,
    "removed": _remove,
    "request edited": _edit_request,
    "unreadable": _make_unreadable,
}


def _break_cameras(registry: Path) -> None:
    cameras = registry / "cameras.yaml"
    cameras.write_text(cameras.read_text() + "\n  - {id: [broken\n")


@pytest.mark.parametrize("revocation", sorted(REVOCATIONS))
def test_a_revocation_is_served_while_another_file_is_broken(tmp_path: Path, revocation: str):
    registry = Path(shutil.copytree(DEMO_REGISTRY, tmp_path / "registry"))
    audit = tmp_path / "audit.jsonl"
    with serving(audit, registry, reload_interval=INTERVAL) as service:
        assert allowed(service.url) and allowed(service.url, UNRELATED)
        _break_cameras(registry)
        REVOCATIONS[revocation](registry)
        wait_until(lambda: not ready(service.url))
        wait_until(lambda: not allowed(service.url), seconds=INTERVAL + 10)
        assert allowed(service.url, UNRELATED), "an unchanged approval keeps answering"
        refused = audit_entries(audit, "serve_registry_refused")[-1]
        assert refused["withdrawn_approvals"] == ["REQ-2026-0042"]
        decision = requests.post(
            service.url + "/v1/data/cctv/authz/decision", json={"input": ALLOWED}, timeout=10
        ).json()["result"]
        assert not decision["allow"]


def test_a_new_approval_waits_for_a_clean_registry(tmp_path: Path):
    registry = Path(shutil.copytree(DEMO_REGISTRY, tmp_path / "registry"))
    decision = registry / "decisions" / "REQ-2026-0042.yaml"
    approval = decision.read_bytes()
    decision.unlink()
    audit = tmp_path / "audit.jsonl"
    with serving(audit, registry, reload_interval=INTERVAL) as service:
        assert not allowed(service.url)
        cameras = registry / "cameras.yaml"
        good_cameras = cameras.read_text()
        _break_cameras(registry)
        decision.write_bytes(approval)
        wait_until(lambda: not ready(service.url))
        time.sleep(3 * INTERVAL)
        assert not allowed(service.url), "an approval was taken from a registry with errors"
        cameras.write_text(good_cameras)
        wait_until(lambda: ready(service.url))
        assert allowed(service.url)
