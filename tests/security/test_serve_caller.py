"""The audit log names the peer that asked: a local client cannot write another caller into it
with forwarding headers. (uvicorn trusts X-Forwarded-For from 127.0.0.1 by default: before this
test, a question sent with X-Forwarded-For: 203.0.113.9 was logged as asked by 203.0.113.9.)"""

from __future__ import annotations

import json

from testing.serving import (
    ALLOW_PATH,
    ALLOWED,
    RawConnection,
    audit_entries,
    request_bytes,
    serving,
)


def test_forwarding_headers_do_not_forge_the_caller(tmp_path):
    with serving(tmp_path / "audit.jsonl") as service:
        conn = RawConnection(service.server.port)
        body = json.dumps({"input": ALLOWED}).encode()
        conn.send(
            request_bytes(
                "POST",
                ALLOW_PATH,
                body,
                **{"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"},
            )
        )
        status, _, _ = conn.response()
        conn.close()
        assert status == 200
        (entry,) = audit_entries(service.options.audit_log)
    assert entry["caller"].startswith("http:127.0.0.1"), entry["caller"]
    assert "203.0.113.9" not in json.dumps(entry)
