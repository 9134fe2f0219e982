"""`decision-log-ingest` over HTTP: an ASGI application on the shared uvicorn server
(cctv_policy.httpserve), with the rules of `serve`.

Only POST /logs is served, and only to a caller with a bearer token of the token file, under a
Host name the server answers to, and never to a browser (a request with Origin or Sec-Fetch-*
is refused before its body is read: a web page must not write the audit log). A batch is
answered 200 once every event of it is durable, kept or recorded as refused; 503 when the audit
log cannot be written (OPA keeps the batch and retries)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from cctv_policy.audit.log import AuditError, AuditLog
from cctv_policy.bundle.decision_logs import (
    LOGS_PATH,
    BadBatch,
    BatchTooLarge,
    ingest,
    read_batch,
    record_refused_batch,
)
from cctv_policy.httpserve.guards import HostRule, bearer_token, from_a_browser, token_id
from cctv_policy.httpserve.limits import Limits

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


@dataclass(frozen=True)
class IngestConfig:
    audit: AuditLog
    tokens: tuple[bytes, ...]  # at least one: the ingest never runs without
    hosts: HostRule  # the Host names it answers to
    limits: Limits


class Refusal(Exception):
    def __init__(self, status: int, code: str, message: str, *extra: tuple[bytes, bytes]) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.extra = status, code, message, extra


class IngestApp:
    def __init__(self, config: IngestConfig) -> None:
        if not config.tokens:
            raise ValueError("decision-log-ingest needs at least one bearer token")
        self.config = config

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        headers = {name.lower(): value for name, value in scope.get("headers", [])}
        state = {"body_read": False}
        try:
            status, document = await self._handle(scope, headers, receive, state)
            extra: tuple[tuple[bytes, bytes], ...] = ()
        except Refusal as refusal:
            status, extra = refusal.status, refusal.extra
            document = {"code": refusal.code, "message": refusal.message}
        except Exception:  # noqa: BLE001 - JSON, never a traceback; OPA retries the batch
            status, extra = 500, ()
            document = {"code": "internal_error", "message": "internal error; nothing acknowledged"}
        has_body = b"transfer-encoding" in headers or headers.get(b"content-length", b"0") != b"0"
        await _send(send, status, document, extra, close=has_body and not state["body_read"])

    async def _handle(
        self, scope: Scope, headers: dict[bytes, bytes], receive: Receive, state: dict[str, bool]
    ) -> tuple[int, dict[str, Any]]:
        if from_a_browser(headers):
            raise Refusal(403, "forbidden", "browsers may not write the audit log")
        wrong_host = self.config.hosts.refusal(headers.get(b"host", b"").decode("latin-1"))
        if wrong_host is not None:
            raise Refusal(wrong_host.status, wrong_host.code, wrong_host.message)
        if scope["path"].rstrip("/") != LOGS_PATH:
            raise Refusal(404, "resource_not_found", f"decision logs are POSTed to {LOGS_PATH}")
        if scope["method"] != "POST":
            raise Refusal(405, "invalid_operation", "use POST", (b"allow", b"POST"))
        token = bearer_token(headers, self.config.tokens)
        if token is None:
            raise Refusal(
                401,
                "unauthorized",
                "a valid bearer token is required (Authorization: Bearer <token>)",
                (b"www-authenticate", b'Bearer realm="cctv-policy"'),
            )
        body = await _read_body(headers, receive, self.config.limits.max_body)
        state["body_read"] = True
        encoding = headers.get(b"content-encoding", b"").decode("latin-1")
        client = scope.get("client") or ("unknown", 0)
        provenance = {"asserted_by": token_id(token), "peer": str(client[0])}
        audit = self.config.audit
        try:
            try:
                events = await asyncio.to_thread(read_batch, body, encoding)
            except BatchTooLarge as exc:
                await asyncio.to_thread(record_refused_batch, audit, body, str(exc), provenance)
                return 200, {"message": f"{exc}: recorded as refused", "kept": 0}
            kept, refused = await asyncio.to_thread(ingest, audit, events, provenance)
        except BadBatch as exc:
            raise Refusal(400, "invalid_parameter", str(exc)) from None
        except AuditError as exc:  # not acknowledged: OPA keeps the batch and retries
            raise Refusal(503, "audit_log_unavailable", str(exc)) from None
        return 200, {"message": f"{kept} decision(s) appended, {refused} refused", "kept": kept}


async def _read_body(headers: dict[bytes, bytes], receive: Receive, limit: int) -> bytes:
    """The whole body, at most `limit` bytes (the parser let only digits through as a
    Content-Length; a body that does not arrive in time is the server's to cut off)."""
    length = headers.get(b"content-length")
    if length is not None and int(length) > limit:
        raise Refusal(413, "invalid_parameter", f"a batch may be at most {limit} bytes")
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise Refusal(400, "invalid_parameter", "client went away")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise Refusal(413, "invalid_parameter", f"a batch may be at most {limit} bytes")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _send(
    send: Send,
    status: int,
    document: dict[str, Any],
    extra: tuple[tuple[bytes, bytes], ...],
    close: bool,
) -> None:
    payload = json.dumps(document).encode() + b"\n"
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
        *extra,
    ]
    if close:  # unread bytes must never be taken for the next request
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})
