"""Slow, silent, greedy and failing cases on `serve`: every connection ends within its deadline,
the number of connections is bounded, and a decision that cannot be audit-logged is no decision.

The http.server-based serve had no socket timeout and a thread per connection: 200 idle
connections pinned 200 threads, and a client trickling a request head held one for ever."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import requests

from testing.serving import (
    ALLOW_PATH,
    ALLOWED,
    RawConnection,
    quick_limits,
    request_bytes,
    serving,
)


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    with serving(
        tmp_path_factory.mktemp("limits") / "audit.jsonl", limits=quick_limits(max_connections=20)
    ) as running:
        yield running


def test_a_trickled_request_head_is_cut_off(service):
    conn = RawConnection(service.server.port)
    started = time.monotonic()
    conn.send(b"POST /v1/data/cctv/authz/allow HTTP/1.1\r\nHost: x\r\n")
    try:
        for _ in range(10):
            time.sleep(0.2)
            conn.send(b"X-Slow: 1\r\n")
    except (BrokenPipeError, ConnectionResetError):
        pass
    status, _headers, body = conn.response()
    assert status == 408 and body["code"] == "invalid_parameter" and conn.closed_by_server()
    assert time.monotonic() - started < 3


def test_a_silent_connection_is_closed(service):
    conn = RawConnection(service.server.port)
    started = time.monotonic()
    assert conn.closed_by_server()
    assert time.monotonic() - started < 3


def test_an_idle_keep_alive_connection_is_closed(service):
    conn = RawConnection(service.server.port)
    conn.send(request_bytes("GET", "/health"))
    assert conn.response()[0] == 200
    started = time.monotonic()
    assert conn.closed_by_server()
    assert time.monotonic() - started < 3


def test_a_body_that_never_arrives_is_a_408(service):
    conn = RawConnection(service.server.port)
    conn.send(request_bytes("POST", ALLOW_PATH, b'{"input":', Content_Length="100"))
    status, _, body = conn.response()
    assert status == 408 and "body" in body["message"] and conn.closed_by_server()


def test_open_connections_are_bounded(service):
    held = [RawConnection(service.server.port) for _ in range(20)]
    try:
        extra = RawConnection(service.server.port)
        status, _, body = extra.response()
        assert status == 503 and body["message"].startswith("too many open connections")
    finally:
        for conn in held:
            conn.close()
    time.sleep(0.2)
    assert requests.get(service.url + "/health", timeout=5).status_code == 200


def test_no_decision_without_the_audit_log_and_readiness_says_so(tmp_path: Path):
    audit = tmp_path / "audit.jsonl"
    with serving(audit) as service:
        anchor = audit.with_name("audit.jsonl.head")
        good = anchor.read_bytes()
        anchor.write_text("not a head\n")  # the log refuses every append after this
        answer = requests.post(service.url + ALLOW_PATH, json={"input": ALLOWED}, timeout=10)
        assert answer.status_code == 500 and answer.json()["code"] == "internal_error"
        assert "result" not in answer.json() and "access is denied" in answer.json()["message"]
        assert requests.get(service.url + "/health/ready", timeout=10).status_code == 500
        assert requests.get(service.url + "/health?plugins", timeout=10).status_code == 500
        anchor.write_bytes(good)
        assert requests.get(service.url + "/health/ready", timeout=10).status_code == 200
        again = requests.post(service.url + ALLOW_PATH, json={"input": ALLOWED}, timeout=10)
        assert again.json()["result"] is True
    events = [json.loads(line)["event"] for line in audit.read_text().splitlines()]
    assert events[-2:] == ["serve_audit_log_writable_again", "authorize"]
