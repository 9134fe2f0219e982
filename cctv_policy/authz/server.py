"""`cctv-policy serve`: the authz decision over HTTP in the shape of OPA's v1 Data API, so VMS
integrations written for OPA work unchanged.

    POST /v1/data/cctv/authz/allow     {"input": {principal, camera, at, now?}} -> {"result": bool}
    POST /v1/data/cctv/authz/decision  same input -> {"result": {allow, reason, request?}}
    GET  /health                       -> {}

"now" is always the server's clock: a caller's input.now is ignored and logged as ignored.
Anything malformed is a 400 with OPA's error shape; an evaluation or audit failure is a 500
and never an allow.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from cctv_policy.audit.log import AuditError
from cctv_policy.authz.decide import Authorizer, question
from cctv_policy.engine.base import EngineError
from cctv_policy.registry.types import parse_rfc3339

ROUTES = {"/v1/data/cctv/authz/allow": "allow", "/v1/data/cctv/authz/decision": "decision"}
MAX_BODY = 64 * 1024


class JsonHandler(BaseHTTPRequestHandler):
    """Keep-alive JSON replies, quiet (the audit log is the log)."""

    protocol_version = "HTTP/1.1"
    # Headers and body go out as two writes; with Nagle on, the body waits for the client's
    # delayed ACK (~40 ms on Linux) on every keep-alive call.
    disable_nagle_algorithm = True

    def log_message(self, *args: Any) -> None:
        pass

    def _reply(self, status: int, document: Any) -> None:
        payload = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


def system_clock() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


class _Handler(JsonHandler):
    authorizer: Authorizer
    clock: Callable[[], datetime]

    def _error(self, status: int, code: str, message: str) -> None:
        self._reply(status, {"code": code, "message": message})

    def do_GET(self) -> None:
        if self.path == "/health":
            return self._reply(200, {})
        self._error(404, "resource_not_found", f"{self.path} is not served here")

    def do_POST(self) -> None:
        route = ROUTES.get(self.path.split("?")[0])
        if route is None:
            return self._error(
                404,
                "resource_not_found",
                f"{self.path}: POST /v1/data/cctv/authz/allow or .../decision",
            )
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            return self._error(400, "invalid_parameter", "request body too large")
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
            data = body.get("input")
            q = _question(data, self.clock())
        except (ValueError, TypeError, KeyError, AttributeError, OverflowError) as exc:
            return self._error(400, "invalid_parameter", f"bad input: {exc}")
        caller = f"http:{self.client_address[0]}"
        if isinstance(data, dict) and "now" in data:
            caller += " (input.now ignored)"
        try:
            decision = self.authorizer.decide(q, caller=caller)
        except (EngineError, AuditError) as exc:
            return self._error(500, "internal_error", str(exc))
        self._reply(
            200,
            {
                "result": decision.allow
                if route == "allow"
                else decision.model_dump(exclude_none=True)
            },
        )


def _question(data: Any, now: datetime) -> dict[str, str]:
    if not isinstance(data, dict):
        raise ValueError('expected {"input": {"principal", "camera", "at"}}')
    principal, camera = str(data["principal"]), str(data["camera"])
    at = parse_rfc3339(data["at"])
    return question(principal, camera, at, now)


def make_server(
    authorizer: Authorizer, host: str, port: int, clock: Callable[[], datetime] = system_clock
) -> ThreadingHTTPServer:
    """`clock` is the server's own; only a test or an operator's start-up flag fixes it."""
    handler = type("Handler", (_Handler,), {"authorizer": authorizer, "clock": staticmethod(clock)})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server
