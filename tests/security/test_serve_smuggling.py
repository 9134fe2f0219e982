"""Request desync on the decision API, over raw sockets: bytes a response did not account for must
never be read as the next request, and malformed framing is refused with a JSON 400.

On the http.server-based serve these failed: a request hidden in a 404'd body was executed (and
allowed), Content-Length: -1 skipped the body limit, Content-Length: abc dropped the connection
with a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from testing.serving import (
    ALLOW_PATH,
    ALLOWED,
    RawConnection,
    audit_entries,
    request_bytes,
    serving,
)

HIDDEN = request_bytes("POST", ALLOW_PATH, json.dumps({"input": ALLOWED}).encode())


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    with serving(tmp_path_factory.mktemp("smuggling") / "audit.jsonl") as running:
        yield running


def _decisions(service) -> int:
    return len(audit_entries(service.options.audit_log))


@pytest.mark.parametrize(
    "method,path",
    [("POST", "/v1/data/other"), ("GET", "/nope"), ("PUT", ALLOW_PATH), ("POST", "/health")],
)
def test_a_request_hidden_in_a_refused_body_is_never_executed(service, method, path):
    before = _decisions(service)
    conn = RawConnection(service.server.port)
    conn.send(request_bytes(method, path, HIDDEN))
    status, _, body = conn.response()
    assert status in (404, 405) and body["code"] in ("resource_not_found", "invalid_operation")
    # Whatever the server does next (answer a follow-up, or close), the hidden request is not
    # a second answer and not a decision.
    conn.send(request_bytes("GET", "/health"))
    try:
        follow_status, _, follow = conn.response()
        assert follow_status == 200 and follow == {}
    except ConnectionError:
        pass
    conn.close()
    assert _decisions(service) == before


def test_keep_alive_goes_on_after_a_404_with_a_body(service):
    conn = RawConnection(service.server.port)
    conn.send(request_bytes("POST", "/v1/data/other", b'{"input": {}}'))
    assert conn.response()[0] == 404
    conn.send(request_bytes("POST", ALLOW_PATH, json.dumps({"input": ALLOWED}).encode()))
    status, _, body = conn.response()
    assert status == 200 and body["result"] is True
    conn.close()


@pytest.mark.parametrize("length", ["-1", "abc", "1e3", "0x10", "99999999999999999999999"])
def test_bad_content_length_is_a_json_400_and_the_connection_closes(service, length):
    conn = RawConnection(service.server.port)
    conn.send(request_bytes("POST", ALLOW_PATH, HIDDEN, Content_Length=length))
    status, headers, body = conn.response()
    assert status in (400, 413) and body["code"] == "invalid_parameter"
    assert headers["content-type"] == "application/json" and conn.closed_by_server()


def test_content_length_with_chunked_is_refused(service):
    before = _decisions(service)
    chunked = b"0\r\n\r\n" + HIDDEN
    conn = RawConnection(service.server.port)
    conn.send(
        request_bytes(
            "POST",
            ALLOW_PATH,
            chunked,
            Content_Length=str(len(chunked)),
            Transfer_Encoding="chunked",
        )
    )
    status, _, body = conn.response()
    assert status == 400 and body["code"] == "invalid_parameter" and conn.closed_by_server()
    assert _decisions(service) == before


def test_a_body_over_the_limit_is_refused_unread_and_the_connection_closed(service):
    before = _decisions(service)
    filler = b" " * (70 * 1024)
    conn = RawConnection(service.server.port)
    conn.send(request_bytes("POST", ALLOW_PATH, filler + HIDDEN))
    status, headers, body = conn.response()
    assert status == 413 and body["message"].startswith("request body too large")
    assert headers.get("connection") == "close" and conn.closed_by_server()
    assert _decisions(service) == before


def test_a_chunked_body_over_the_limit_is_refused(service):
    conn = RawConnection(service.server.port)
    chunk = b"x" * 16384
    conn.send(request_bytes("POST", ALLOW_PATH, b"", Transfer_Encoding="chunked"))
    try:
        for _ in range(8):
            conn.send(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
    except (BrokenPipeError, ConnectionResetError):
        pass  # the server may stop reading as soon as it is over the limit
    status, _, body = conn.response()
    assert status == 413 and body["code"] == "invalid_parameter" and conn.closed_by_server()


def test_pipelined_requests_are_answered_in_order(service):
    conn = RawConnection(service.server.port)
    body = json.dumps({"input": {**ALLOWED, "camera": "CAM-LIB-02"}}).encode()
    conn.send(
        request_bytes("POST", ALLOW_PATH, HIDDEN[HIDDEN.index(b"\r\n\r\n") + 4 :])
        + request_bytes("POST", ALLOW_PATH, body)
        + request_bytes("GET", "/health")
    )
    assert conn.response()[2]["result"] is True
    assert conn.response()[2]["result"] is False
    assert conn.response()[2] == {}
    conn.close()


def test_garbage_is_a_json_400(service, tmp_path: Path):
    conn = RawConnection(service.server.port)
    conn.send(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 not http\r\n\r\n")
    status, headers, body = conn.response()
    assert status == 400 and headers["content-type"] == "application/json" and body["message"]
