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

import json
import shutil
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import requests
from click.testing import CliRunner

from cctv_policy.authz.clock import ServeClock
from cctv_policy.cli.main import cli
from cctv_policy.httpserve.guards import HostRule
from cctv_policy.registry.types import parse_rfc3339
from testing.serving import (
    ALLOW_PATH,
    ALLOWED,
    RawConnection,
    audit_entries,
    request_bytes,
    serving,
)
from tests.conftest import DEMO_REGISTRY

INTERVAL = 0.3
# REQ-2026-0040's approval, in use at SERVE_NOW too: it has nothing to do with REQ-2026-0042.
UNRELATED = {"principal": "q.xu", "camera": "CAM-LAB-02", "at": "2026-11-16T10:00:00Z"}
REQ_0042_USE_ENDS = parse_rfc3339("2026-11-28T18:00:00+08:00")


def wait_until(condition: Callable[[], bool], seconds: float = 20) -> None:
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < seconds, "not within the time allowed"
        time.sleep(0.05)


def ask(url: str, question: dict[str, str], **headers: str) -> requests.Response:
    return requests.post(url + ALLOW_PATH, json={"input": question}, headers=headers, timeout=10)


def allowed(url: str, question: dict[str, str] = ALLOWED) -> bool:
    answer = ask(url, question)
    assert answer.status_code == 200, answer.text
    return bool(answer.json()["result"])


def ready(url: str) -> bool:
    return requests.get(url + "/health/ready", timeout=10).status_code == 200


def refusals(audit: Path) -> list[dict[str, Any]]:
    return [entry for entry in audit_entries(audit, "refused") if entry["command"] == "serve"]


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


# 2. The clock: a step back while running refuses decisions; no test clock on the command line.


def _stepping(wall: list[Any], ticks: list[float]) -> ServeClock:
    return ServeClock(wall=lambda: wall[0], monotonic=lambda: ticks[0])


def test_a_clock_stepped_back_does_not_reopen_an_ended_period(tmp_path: Path):
    audit = tmp_path / "audit.jsonl"
    wall, ticks = [REQ_0042_USE_ENDS + timedelta(minutes=1)], [1000.0]
    with serving(audit, clock=_stepping(wall, ticks)) as service:
        assert not allowed(service.url)  # the use period ended a minute ago
        decided = len(audit_entries(audit))
        ticks[0] += 1
        wall[0] = REQ_0042_USE_ENDS - timedelta(hours=1)  # someone steps the clock back
        answer = ask(service.url, ALLOWED)
        assert answer.status_code == 503, answer.text
        assert "clock" in answer.json()["message"]
        assert len(audit_entries(audit)) == decided, "a decision was made on that clock"
        assert "clock" in refusals(audit)[-1]["reason"]
        ticks[0] += 1
        wall[0] = REQ_0042_USE_ENDS + timedelta(minutes=1, seconds=2)  # put right
        assert not allowed(service.url)


def test_a_step_back_while_idle_is_seen_with_the_monotonic_clock(tmp_path: Path):
    audit = tmp_path / "audit.jsonl"
    wall, ticks = [REQ_0042_USE_ENDS - timedelta(hours=3)], [50.0]
    with serving(audit, clock=_stepping(wall, ticks)) as service:
        assert allowed(service.url)
        ticks[0] += 4 * 3600  # four quiet hours: the period has ended ...
        wall[0] = REQ_0042_USE_ENDS - timedelta(hours=1)  # ... but the clock lost three
        assert ask(service.url, ALLOWED).status_code == 503
        wall[0] = REQ_0042_USE_ENDS + timedelta(hours=1)  # the clock is set right
        assert not allowed(service.url)


def test_serve_has_no_fixed_clock_option(tmp_path: Path):
    result = CliRunner().invoke(
        cli,
        [
            "serve",
            "--registry",
            str(DEMO_REGISTRY),
            "--port",
            "0",
            "--audit-log",
            str(tmp_path / "audit.jsonl"),
            "--fixed-clock",
            "2026-11-22T10:00:00+08:00",
        ],
    )
    assert result.exit_code == 2 and "No such option '--fixed-clock'" in result.output


# 3. Host: a name that is not this server's is a rebinding page.


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    audit = tmp_path_factory.mktemp("round3") / "audit.jsonl"
    with serving(audit, allowed_hosts=("cctv-policy.school.lan",)) as running:
        yield running


def raw_answer(service, data: bytes) -> tuple[int, dict[str, Any]]:
    conn = RawConnection(service.server.port)
    try:
        conn.send(data)
        status, _, body = conn.response()
        return status, body
    finally:
        conn.close()


@pytest.mark.parametrize("host", ["evil.example", "evil.example:{port}", "localhost.evil.example"])
def test_a_rebinding_host_is_refused(service, host: str):
    before = len(audit_entries(service.options.audit_log))
    name = host.format(port=service.server.port)
    status, body = raw_answer(
        service,
        request_bytes("POST", ALLOW_PATH, json.dumps({"input": ALLOWED}).encode(), Host=name),
    )
    assert status == 421 and "Host" in body["message"]
    assert len(audit_entries(service.options.audit_log)) == before, "it was decided"
    assert name in refusals(service.options.audit_log)[-1]["reason"]


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1:{port}", "localhost:{port}", "LOCALHOST", "[::1]:{port}", "cctv-policy.school.lan"],
)
def test_this_servers_own_names_are_answered(service, host: str):
    status, body = raw_answer(
        service,
        request_bytes(
            "POST",
            ALLOW_PATH,
            json.dumps({"input": ALLOWED}).encode(),
            Host=host.format(port=service.server.port),
        ),
    )
    assert status == 200 and body["result"] is True


def test_a_request_without_host_is_refused(service):
    status, _ = raw_answer(service, b"GET /health HTTP/1.0\r\n\r\n")
    assert status == 400


def test_off_loopback_only_addresses_and_configured_names():
    rule = HostRule.for_binding("0.0.0.0", ("cctv-policy.school.lan",))
    assert rule.refusal("192.0.2.10:8181") is None
    assert rule.refusal("cctv-policy.school.lan") is None
    assert rule.refusal("evil.example") is not None
    assert rule.refusal("") is not None
    loopback = HostRule.for_binding("127.0.0.1", ())
    assert loopback.refusal("192.0.2.10") is not None  # cannot arrive on loopback
    assert loopback.refusal("localhost:8181") is None


# 4. Browser pages: JSON only, and no other origin.


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
def test_a_decision_post_must_be_json(service, content_type: str | None):
    before = len(audit_entries(service.options.audit_log))
    body = json.dumps({"input": ALLOWED}).encode()
    status, answer = raw_answer(
        service, request_bytes("POST", ALLOW_PATH, body, Content_Type=content_type)
    )
    assert status == 415 and "application/json" in answer["message"]
    assert len(audit_entries(service.options.audit_log)) == before
    assert "Content-Type" in refusals(service.options.audit_log)[-1]["reason"]


def test_json_with_a_charset_is_json(service):
    answer = requests.post(
        service.url + ALLOW_PATH,
        data=json.dumps({"input": ALLOWED}),
        headers={"Content-Type": "Application/JSON; charset=utf-8"},
        timeout=10,
    )
    assert answer.status_code == 200 and answer.json()["result"] is True


@pytest.mark.parametrize("origin", ["http://evil.example", "null", "http://127.0.0.1:1"])
def test_another_origin_is_refused(service, origin: str):
    before = len(audit_entries(service.options.audit_log))
    answer = ask(service.url, ALLOWED, Origin=origin)
    assert answer.status_code == 403 and "Origin" in answer.json()["message"]
    url = f"{service.url}{ALLOW_PATH}?input={quote(json.dumps(ALLOWED))}"
    assert requests.get(url, headers={"Origin": origin}, timeout=10).status_code == 403
    assert len(audit_entries(service.options.audit_log)) == before
    assert origin in refusals(service.options.audit_log)[-1]["reason"]


def test_a_cross_site_image_request_is_refused(service):
    url = f"{service.url}{ALLOW_PATH}?input={quote(json.dumps(ALLOWED))}"
    answer = requests.get(url, headers={"Sec-Fetch-Site": "cross-site"}, timeout=10)
    assert answer.status_code == 403


def test_the_servers_own_origin_is_answered(service):
    assert ask(service.url, ALLOWED, Origin=service.url).json()["result"] is True


# 5. A token file others can read.


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o620])
def test_a_token_file_others_can_read_or_write_is_refused(tmp_path: Path, mode: int):
    tokens = tmp_path / "tokens"
    tokens.write_text("6f1d0c2a9b8e47d3a5c4b3e2f1a09876\n")
    tokens.chmod(mode)
    audit = tmp_path / "audit.jsonl"
    result = CliRunner().invoke(
        cli,
        [
            "serve",
            "--registry",
            str(DEMO_REGISTRY),
            "--port",
            "0",
            "--token-file",
            str(tokens),
            "--audit-log",
            str(audit),
        ],
    )
    assert result.exit_code == 2 and "chmod 600" in result.output, result.output
    assert "Traceback" not in result.output
    assert "token file" in refusals(audit)[-1]["reason"]
