"""The decision service's HTTP API, as a plain ASGI application (served by uvicorn, server.py).

Served, and nothing else (every other path is a JSON 404, see /openapi.json):

    POST, GET ?input=  /v1/data/cctv/authz            {"allow", "decision"}
                       /v1/data/cctv/authz/allow      bool
                       /v1/data/cctv/authz/decision   {"allow", "reason", "request"?}
    GET /v1/forward-auth   the viewing point: a reverse proxy asks (forward_auth.py)
    GET /health[?bundles][&plugins], /health/live, /health/ready, /openapi.json   (HEAD too)

Answers have OPA's Data API shape: {"result", "decision_id", "warning"?, "metrics"?}; errors
are {"code", "message"} for every status. "now" is the server's clock: a caller's input.now is
ignored and the audit entry says so. Each answer is sent only after its audit entry is durable,
and its decision_id is that entry's. Before anything else a request must pass guards.py (Host,
Origin, a JSON POST), and a decision needs a clock that did not go back (clock.py); each of
those refusals is audit-logged ("refused", command "serve") before it is answered.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, NoReturn
from urllib.parse import parse_qs

from cctv_policy.audit.log import AuditError
from cctv_policy.authz.body import HttpError, decoded, given_input, question_of
from cctv_policy.authz.clock import ClockSteppedBack, ServeClock
from cctv_policy.authz.commit import GroupCommitter
from cctv_policy.authz.decide import AuthzDecision
from cctv_policy.authz.decision_ids import new_decision_id
from cctv_policy.authz.forward_auth import FORWARD_AUTH_PATH, ForwardAuth, ForwardAuthSettings
from cctv_policy.authz.openapi import openapi_document
from cctv_policy.authz.reload import ServeState
from cctv_policy.engine.base import EngineError
from cctv_policy.httpserve.guards import (
    HostRule,
    Refusal,
    content_type_refusal,
    origin_refusal,
)
from cctv_policy.httpserve.limits import Limits
from cctv_policy.output import printable

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

DATA_PATHS = {
    "/v1/data/cctv/authz": "package",
    "/v1/data/cctv/authz/allow": "allow",
    "/v1/data/cctv/authz/decision": "decision",
}
HEALTH_PATHS = ("/health", "/health/live", "/health/ready")
OPENAPI_PATH = "/openapi.json"
OPEN_PATHS = frozenset(HEALTH_PATHS)  # probes need no token; they say only "ok" or "degraded"
DATA_METHODS = ("GET", "HEAD", "POST")
READ_METHODS = ("GET", "HEAD")
AUDIT_PROBE_SECONDS = 5.0
INPUT_MISSING = {"code": "api_usage_warning", "message": "'input' key missing from the request"}


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[bytes, bytes]
    client: str
    scheme: str = "http"
    body_done: bool = False
    raw_headers: list[tuple[bytes, bytes]] = field(default_factory=list)  # duplicates kept

    @classmethod
    def of(cls, scope: Scope) -> Request:
        raw_query = scope.get("query_string", b"")
        query = parse_qs(raw_query.decode("latin-1"), keep_blank_values=True) if raw_query else {}
        headers: dict[bytes, bytes] = {}
        for name, value in scope.get("headers", []):
            headers[name.lower()] = value
        client = scope.get("client") or ("unknown", 0)
        scheme = str(scope.get("scheme", "http"))
        return cls(
            scope["method"],
            scope["path"],
            query,
            headers,
            str(client[0]),
            scheme,
            raw_headers=scope.get("headers", []),
        )

    def flag(self, name: str) -> bool:
        """OPA's boolean parameters: present with no value, or "true"."""
        values = self.query.get(name)
        return values is not None and values[-1].lower() in ("", "true")

    @property
    def has_body(self) -> bool:
        return b"transfer-encoding" in self.headers or self.headers.get(
            b"content-length", b"0"
        ).strip() not in (b"0", b"")


@dataclass
class Answer:
    status: int
    document: Any
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    close: bool = False


def error_document(code: str, message: str) -> dict[str, str]:
    return {"code": code, "message": message}


class DecisionApp:
    def __init__(
        self,
        state: ServeState,
        committer: GroupCommitter,
        clock: ServeClock,
        limits: Limits,
        tokens: tuple[bytes, ...] = (),
        hosts: HostRule | None = None,
        forward_auth: ForwardAuthSettings | None = None,
    ) -> None:
        self.state = state
        self.committer = committer
        self.clock = clock
        self.limits = limits
        self.tokens = tokens
        self.hosts = hosts or HostRule.for_binding("127.0.0.1", ())
        self.forward_auth = ForwardAuth(self, forward_auth or ForwardAuthSettings())
        # Whether the audit log can be written at all (set by the server; None when it can).
        self.audit_problem: Callable[[], str | None] = lambda: None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        request = Request.of(scope)
        try:
            answer = await self._handle(request, receive)
        except HttpError as exc:
            answer = Answer(
                exc.status, error_document(exc.code, exc.message), list(exc.headers), exc.close
            )
        except Exception:  # noqa: BLE001 - a caller gets JSON, never a traceback
            answer = Answer(
                500,
                error_document(
                    "internal_error", "internal error; no decision was made, so access is denied"
                ),
                close=True,
            )
        if request.has_body and not request.body_done:
            answer.close = True  # unread bytes must never be taken for the next request
        await _send(send, answer, pretty=request.flag("pretty"))

    async def _handle(self, request: Request, receive: Receive) -> Answer:
        host = request.headers.get(b"host", b"").decode("latin-1")
        # A proxy's forward-auth request carries the viewer's browser headers (Origin, ...):
        # they say nothing about who asks here, which is the proxy's address and token.
        viewing = request.path == FORWARD_AUTH_PATH
        refusal = self.hosts.refusal(host) or (
            None
            if viewing
            else origin_refusal(
                request.headers.get(b"origin"),
                request.headers.get(b"sec-fetch-site"),
                request.scheme,
                host,
            )
        )
        if refusal is not None:
            await self._refuse(request, refusal)
        if viewing:
            await self._read_body(request, receive)
            verdict = await self.forward_auth.answer(request, self._token_given(request))
            return Answer(verdict.status, verdict.document, verdict.headers)
        if self.tokens and request.path not in OPEN_PATHS:
            self._authenticate(request)
        kind = DATA_PATHS.get(request.path)
        if kind is not None:
            self._allow_methods(request, DATA_METHODS)
            return await self._data(request, receive, kind)
        if request.path in HEALTH_PATHS or request.path == OPENAPI_PATH:
            self._allow_methods(request, READ_METHODS)
            await self._read_body(request, receive)
            if request.path == OPENAPI_PATH:
                return Answer(200, openapi_document())
            return await self._health(request)
        await self._read_body(request, receive)
        raise HttpError(
            404,
            "resource_not_found",
            f"{printable(request.path)[:200]} is not served here; the decision API "
            "is /v1/data/cctv/authz[/allow|/decision] (see /openapi.json)",
        )

    async def _refuse(self, request: Request, refusal: Refusal) -> NoReturn:
        """Audit-log the refusal (it stands whether or not it could be logged), then raise it."""
        details = {
            "command": "serve",
            "caller": f"http:{request.client}",
            "path": printable(request.path)[:200],
            "status": refusal.status,
            "reason": refusal.message,
        }
        with contextlib.suppress(AuditError):
            await self.committer.submit_async("refused", details)
        raise HttpError(refusal.status, refusal.code, refusal.message)

    def _token_given(self, request: Request) -> bool:
        scheme, _, given = request.headers.get(b"authorization", b"").partition(b" ")
        matched = False
        for token in self.tokens:  # every token compared, in constant time
            matched |= hmac.compare_digest(given.strip(), token)
        return scheme.lower() == b"bearer" and matched

    def _authenticate(self, request: Request) -> None:
        if not self._token_given(request):
            raise HttpError(
                401,
                "unauthorized",
                "a valid bearer token is required (Authorization: Bearer <token>)",
                close=request.has_body,
                headers=((b"www-authenticate", b'Bearer realm="cctv-policy"'),),
            )

    @staticmethod
    def _allow_methods(request: Request, allowed: tuple[str, ...]) -> None:
        if request.method not in allowed:
            raise HttpError(
                405,
                "invalid_operation",
                f"{printable(request.method)[:20]} is not allowed on "
                f"{request.path}; use {', '.join(allowed)}",
                headers=((b"allow", ", ".join(allowed).encode()),),
            )

    async def _read_body(self, request: Request, receive: Receive) -> bytes:
        """The whole body, or an error that closes the connection; gzip is unpacked within the
        same limit. (A body that does not arrive in time is the server's to cut off: see
        server.py.)"""
        limit = self.limits.max_body
        length = request.headers.get(b"content-length")
        if length is not None and int(length) > limit:  # the parser let only digits through
            raise HttpError(
                413,
                "invalid_parameter",
                f"request body too large (limit {limit} bytes)",
                close=True,
            )
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise HttpError(400, "invalid_parameter", "client went away", close=True)
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise HttpError(
                    413,
                    "invalid_parameter",
                    f"request body too large (limit {limit} bytes)",
                    close=True,
                )
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        request.body_done = True
        return decoded(b"".join(chunks), request.headers.get(b"content-encoding"), limit)

    async def _health(self, request: Request) -> Answer:
        problem = None
        if request.path == "/health/live":
            problem = None if self.committer.alive else "the audit log writer stopped"
        elif request.path == "/health/ready":
            problem = self.state.degraded or await self._audit_problem()
        else:
            if request.flag("bundles") or request.flag("bundle"):
                problem = self.state.degraded
            if problem is None and request.flag("plugins"):
                problem = await self._audit_problem()
        if problem:
            return Answer(500, {"error": problem})
        return Answer(200, {})

    async def _audit_problem(self) -> str | None:
        if not self.committer.alive:
            return "the audit log writer stopped; no decision can be logged"
        problem = self.audit_problem()
        if problem is None and self.committer.last_error is not None:
            # The last write failed: only a write can show it works again, and that write is
            # worth keeping (it records when decisions became possible again).
            try:
                await asyncio.wait_for(
                    self.committer.submit_async(
                        "serve_audit_log_writable_again", {"after": self.committer.last_error}
                    ),
                    AUDIT_PROBE_SECONDS,
                )
            except (AuditError, TimeoutError):
                problem = "the audit log cannot be written; every decision is refused until it can"
        return problem

    async def _data(self, request: Request, receive: Receive, kind: str) -> Answer:
        started = time.perf_counter_ns()
        metrics: dict[str, int] = {}
        if request.method == "POST" and request.has_body:  # (a browser's bodiless POST: Origin)
            refusal = content_type_refusal(request.headers.get(b"content-type"))
            if refusal is not None:
                await self._refuse(request, refusal)
        body = await self._read_body(request, receive)
        parse_started = time.perf_counter_ns()
        given, missing = given_input(request.method, request.query, body)
        try:
            now = self.clock.now()
        except ClockSteppedBack as exc:
            await self._refuse(request, Refusal(503, "clock_stepped_back", str(exc)))
        q = None if missing else question_of(given, now)
        metrics["timer_rego_input_parse_ns"] = time.perf_counter_ns() - parse_started
        snapshot = self.state.snapshot
        eval_started = time.perf_counter_ns()
        if q is None:
            decision = AuthzDecision(allow=False, reason="no input: the policy's default deny")
        else:
            work = snapshot.authorizer.allows if kind == "allow" else snapshot.authorizer.evaluate
            try:
                # On the event loop: the Go evaluation releases the GIL (the audit writer runs
                # meanwhile), the engine takes one query at a time anyway, and a hop to a worker
                # thread and back cost more than it overlapped (bench/authz_bench.py).
                decision = work(q)
            except EngineError as exc:
                raise HttpError(
                    500, "internal_error", f"{exc}; no decision, so access is denied"
                ) from exc
        metrics["timer_rego_query_eval_ns"] = time.perf_counter_ns() - eval_started
        metrics["counter_server_query_cache_hit"] = 1
        metrics["timer_server_handler_ns"] = time.perf_counter_ns() - started
        decision_id = new_decision_id()
        details: dict[str, Any] = {
            "decision_id": decision_id,
            "caller": f"http:{request.client}",
            "path": request.path,
            "principal": q and q["principal"],
            "camera": q and q["camera"],
            "footage_at": q and q["at"],
            "now": q["now"] if q else None,
            "replay": self.clock.injected,
            "allow": decision.allow,
            "request": decision.request,
            "registry_revision": snapshot.revision.digest,
            "registry_commit": snapshot.revision.commit,
        }
        if snapshot.withdrawn:  # approvals taken back while the registry cannot be reloaded
            details["withdrawn_approvals"] = len(snapshot.withdrawn)
        if missing:
            details["input_missing"] = True
        if isinstance(given, dict) and "now" in given:
            details["input_now_ignored"] = printable(str(given["now"]))[:64]
        try:
            await self.committer.submit_async("authorize", details)
        except AuditError as exc:
            raise HttpError(
                500,
                "internal_error",
                f"the decision could not be audit-logged "
                f"({exc}); there is no decision, so access is denied",
            ) from exc
        document: dict[str, Any] = {"decision_id": decision_id}
        result = _result(kind, decision, missing)
        if result is not None:
            document["result"] = result
        if missing and request.method == "POST":
            document["warning"] = INPUT_MISSING
        if request.flag("metrics"):
            document["metrics"] = metrics
        return Answer(200, document)


def _result(kind: str, decision: AuthzDecision, missing: bool) -> Any:
    if kind == "allow":
        return decision.allow
    if missing:  # without input the policy's decision is undefined; only allow defaults
        return None if kind == "decision" else {"allow": False}
    shown = decision.model_dump(exclude_none=True)
    return shown if kind == "decision" else {"allow": decision.allow, "decision": shown}


async def _send(send: Send, answer: Answer, pretty: bool) -> None:
    text = json.dumps(answer.document, indent=2 if pretty else None) + "\n"
    payload = text.encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
        *answer.headers,
    ]
    if answer.close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": answer.status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
