"""Second round against `serve` on the wire.

- Bytes that begin no request (the blank lines HTTP lets a client send before a request line)
  cancelled the idle deadline and armed no other: one such line held a connection for ever, so
  a client could fill every connection slot with almost no traffic.
- Someone holding a shared lock on the audit log (anyone who may read it, or `audit verify` on
  a long log) stopped the whole server once a decision was asked for: the event loop waited
  for the lock, and with it health checks and every deadline. Decisions must wait; the rest
  of the server must not.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from pathlib import Path

import pytest
import requests

from testing.serving import (
    ALLOW_PATH,
    ALLOWED,
    RawConnection,
    audit_entries,
    quick_limits,
    request_bytes,
    serving,
)


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    audit = tmp_path_factory.mktemp("round2") / "audit.jsonl"
    with serving(audit, limits=quick_limits(max_connections=20)) as running:
        yield running


def closed_within(conn: RawConnection, seconds: float) -> bool:
    started = time.monotonic()
    return conn.closed_by_server() and time.monotonic() - started < seconds


def test_blank_lines_do_not_keep_a_connection_open(service):
    conn = RawConnection(service.server.port, timeout=4)
    conn.send(b"\r\n")
    assert closed_within(conn, 3.5)


def test_blank_lines_after_an_answer_do_not_keep_a_connection_open(service):
    conn = RawConnection(service.server.port, timeout=4)
    conn.send(request_bytes("GET", "/health"))
    assert conn.response()[0] == 200
    conn.send(b"\r\n")
    assert closed_within(conn, 3.5)


def test_a_reader_holding_the_audit_log_does_not_stop_the_server(tmp_path: Path):
    audit = tmp_path / "audit.jsonl"
    with serving(audit) as service:
        reader = os.open(audit, os.O_RDONLY)
        fcntl.flock(reader, fcntl.LOCK_SH)
        answers: list[requests.Response] = []
        asking = threading.Thread(
            target=lambda: answers.append(
                requests.post(service.url + ALLOW_PATH, json={"input": ALLOWED}, timeout=20)
            )
        )
        try:
            asking.start()
            time.sleep(0.3)  # the decision waits for the log
            started = time.monotonic()
            try:
                health = requests.get(service.url + "/health", timeout=3).status_code
            except requests.Timeout:
                health = None
            took = time.monotonic() - started
            assert not answers, "answered before its audit entry was written"
        finally:
            os.close(reader)
            asking.join(20)
        assert health == 200 and took < 2, "the server stood still while the log was read"
        assert answers and answers[0].json()["result"] is True
        assert audit_entries(audit)[-1]["decision_id"] == answers[0].json()["decision_id"]
