"""OPA's decision logs into our hash-chained audit log (R9 for a fleet of OPA servers).

An OPA server configured with `decision_logs.service` POSTs batches of decisions to
`<service url>/logs`: a gzip'd JSON array of events (OPA's EventV1: decision_id, labels,
bundles with their revisions, path, input, result, timestamp, ...). Each batch is appended to
the audit log in one group commit, one `opa_decision` line per event, and acknowledged only
after it is written and synced: OPA keeps a batch and sends it again on any non-2xx answer, so
a decision is never acknowledged without being in the log.

When a bearer token is configured, a request without it is refused (401) and logs nothing.
"""

from __future__ import annotations

import hmac
import json
import zlib
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from cctv_policy.audit.log import AuditError, AuditLog

EVENT = "opa_decision"
LOGS_PATH = "/logs"
MAX_BODY_BYTES = 8 << 20  # compressed, per batch
MAX_JSON_BYTES = 64 << 20  # decompressed, per batch


class BadBatch(ValueError):
    """The body is not a gzip'd JSON array of decision events."""


def read_batch(body: bytes, content_encoding: str) -> list[dict[str, Any]]:
    """The events of one upload; gunzips (bounded) when the body says it is gzip'd."""
    if content_encoding.strip().lower() == "gzip":
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            body = inflater.decompress(body, MAX_JSON_BYTES)
        except zlib.error as exc:
            raise BadBatch(f"the body is not valid gzip: {exc}") from exc
        if inflater.unconsumed_tail:
            raise BadBatch(f"the batch is larger than {MAX_JSON_BYTES} bytes uncompressed")
    try:
        events = json.loads(body)
    except ValueError as exc:
        raise BadBatch(f"the body is not JSON: {exc}") from exc
    if not isinstance(events, list) or not all(
        isinstance(e, dict) and isinstance(e.get("decision_id"), str) for e in events
    ):
        raise BadBatch("the body is not a JSON array of decision events with a decision_id")
    return events


def audit_details(event: dict[str, Any]) -> dict[str, Any]:
    """What the audit log keeps of one OPA decision event."""
    labels = _mapping(event.get("labels"))
    bundles = _mapping(event.get("bundles"))
    return {
        "decision_id": event["decision_id"],
        "opa_instance": labels.get("id"),
        "opa_labels": labels,
        "bundle_revisions": {
            str(name): info.get("revision") if isinstance(info, dict) else None
            for name, info in bundles.items()
        },
        "path": event.get("path"),
        "query": event.get("query"),
        "input": event.get("input"),
        "result": event.get("result"),
        "error": event.get("error"),
        "requested_by": event.get("requested_by"),
        "decided_at": event.get("timestamp"),
    }


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def ingest(audit: AuditLog, events: list[dict[str, Any]]) -> int:
    """Append the events in one group commit; raises AuditError if they cannot be written."""
    audit.append_many([(EVENT, audit_details(event)) for event in events])
    return len(events)


@dataclass(frozen=True)
class IngestConfig:
    audit: AuditLog
    token: str | None = None  # a bearer token OPA must send (services.*.credentials.bearer)


class _IngestHandler(BaseHTTPRequestHandler):
    config: IngestConfig
    server_version = "cctv-policy-decision-log-ingest"

    def log_message(self, format: str, *args: Any) -> None:
        return None  # the audit log is the record; no request log on stderr

    def _answer(self, status: int, message: str) -> None:
        body = json.dumps({"message": message}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _authorized(self) -> bool:
        if self.config.token is None:
            return True
        sent = self.headers.get("Authorization", "")
        return hmac.compare_digest(sent.encode(), f"Bearer {self.config.token}".encode())

    def do_POST(self) -> None:  # the name http.server dispatches to
        if self.path.split("?")[0].rstrip("/") != LOGS_PATH:
            return self._answer(404, f"decision logs are POSTed to {LOGS_PATH}")
        if not self._authorized():
            return self._answer(401, "a valid bearer token is required")
        length = int(self.headers.get("Content-Length") or 0)
        if length <= 0 or length > MAX_BODY_BYTES:
            return self._answer(413 if length else 400, "a batch needs a body of at most 8 MiB")
        try:
            events = read_batch(self.rfile.read(length), self.headers.get("Content-Encoding", ""))
            count = ingest(self.config.audit, events)
        except BadBatch as exc:
            return self._answer(400, str(exc))
        except AuditError as exc:  # not acknowledged: OPA keeps the batch and retries
            return self._answer(503, str(exc))
        return self._answer(200, f"{count} decision(s) appended to the audit log")


def make_server(host: str, port: int, config: IngestConfig) -> ThreadingHTTPServer:
    handler = type("IngestHandler", (_IngestHandler,), {"config": config})
    return ThreadingHTTPServer((host, port), handler)
