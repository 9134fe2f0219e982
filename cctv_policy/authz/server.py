"""`cctv-policy serve`: the decision API (http.py) on uvicorn's HTTP/1.1 server (httptools, the
llhttp parser of Node.js), with the limits a network-facing service needs.

uvicorn frames every request by its Content-Length or chunked encoding and rejects malformed ones
(a negative or non-numeric Content-Length, both Content-Length and Transfer-Encoding); the app
reads each body within one limit or answers and closes the connection. This module adds what
uvicorn leaves open: a JSON body on the parser's own 400, a deadline for a request head and then
one for its body (a client trickling either is cut off with a 408), an idle deadline from the
moment a connection opens, and a bound on open connections.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from cctv_policy.authz.http import DecisionApp, Limits


class JsonHandler(BaseHTTPRequestHandler):
    """Keep-alive JSON replies on http.server. The decision service no longer uses it; the test
    suite's stand-in OPA server (tests/engine/data_api_stub.py) does."""

    protocol_version = "HTTP/1.1"
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


@dataclass(frozen=True)
class TlsFiles:
    cert: Path
    key: Path

    def check(self) -> None:
        """Raise ssl.SSLError or OSError now, not when the first client connects."""
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.key)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _raw_json_response(status: bytes, message: str) -> bytes:
    body = json.dumps({"code": "invalid_parameter", "message": message}).encode() + b"\n"
    return (
        b"HTTP/1.1 "
        + status
        + b"\r\ncontent-type: application/json\r\ncontent-length: "
        + str(len(body)).encode()
        + b"\r\nconnection: close\r\n\r\n"
        + body
    )


def _protocol(limits: Limits) -> type[HttpToolsProtocol]:
    class GuardedProtocol(HttpToolsProtocol):
        _timer: asyncio.TimerHandle | None = None  # the head's, then the body's deadline

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            if len(self.connections) > limits.max_connections:
                transport.write(
                    _raw_json_response(
                        b"503 Service Unavailable", "too many open connections; try again"
                    )
                )
                transport.close()
                return
            # uvicorn arms its idle timer only after a first response: a silent client would
            # hold its connection for ever.
            self.timeout_keep_alive_task = self.loop.call_later(
                self.timeout_keep_alive, self.timeout_keep_alive_handler
            )

        def data_received(self, data: bytes) -> None:
            super().data_received(data)  # (which cancels the idle deadline)
            if (
                self._timer is None
                and self.timeout_keep_alive_task is None
                and (self.cycle is None or self.cycle.response_complete)
                and not self.transport.is_closing()
            ):
                # Bytes that began no request (blank lines before a request line) and no
                # request running: the connection is still waiting for a request head.
                self._arm(limits.header_timeout, "request head")

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self._arm(limits.header_timeout, "request head")

        def on_headers_complete(self) -> None:
            super().on_headers_complete()
            self._arm(limits.body_timeout, "request body")  # cancelled once it is all in

        def on_message_complete(self) -> None:
            self._cancel_timer()
            super().on_message_complete()

        def connection_lost(self, exc: Exception | None) -> None:
            self._cancel_timer()
            super().connection_lost(exc)

        def send_400_response(self, msg: str) -> None:
            self.transport.write(
                _raw_json_response(
                    b"400 Bad Request",
                    "malformed HTTP request (request line, header, "
                    "Content-Length or chunk framing); the connection is closed",
                )
            )
            self.transport.close()

        def _arm(self, seconds: float, what: str) -> None:
            self._cancel_timer()
            self._timer = self.loop.call_later(seconds, self._too_slow, seconds, what)

        def _too_slow(self, seconds: float, what: str) -> None:
            self._timer = None
            if not self.transport.is_closing():
                self.transport.write(
                    _raw_json_response(
                        b"408 Request Timeout",
                        f"{what} not received within {seconds:g} s; the connection is closed",
                    )
                )
                self.transport.close()

        def _cancel_timer(self) -> None:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None

    return GuardedProtocol


class DecisionServer:
    """uvicorn serving one DecisionApp on a socket bound up front (so port 0 works and a busy
    port is reported before anything starts)."""

    def __init__(
        self, app: DecisionApp, host: str, port: int, limits: Limits, tls: TlsFiles | None = None
    ) -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.socket = socket.create_server(
            (host.strip("[]"), port), family=family, backlog=limits.max_connections
        )
        self.host = host
        self.port: int = self.socket.getsockname()[1]
        self.scheme = "https" if tls else "http"
        config = uvicorn.Config(
            app,
            http=_protocol(limits),
            loop="uvloop",
            lifespan="off",
            log_config=None,
            log_level="critical",
            access_log=False,
            server_header=False,
            # The caller in the audit log is the peer that connected: a header cannot name
            # another one (uvicorn would believe X-Forwarded-For from 127.0.0.1).
            proxy_headers=False,
            timeout_keep_alive=limits.idle_timeout,  # type: ignore[arg-type]  # a float works
            timeout_graceful_shutdown=5,
            ssl_certfile=str(tls.cert) if tls else None,
            ssl_keyfile=str(tls.key) if tls else None,
        )
        self.server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"

    def serve_forever(self) -> None:
        """Until SIGINT or SIGTERM (in the main thread) or stop()."""
        try:
            self.server.run(sockets=[self.socket])
        finally:
            self.socket.close()

    def start_in_thread(self, timeout: float = 30) -> DecisionServer:
        self._thread = threading.Thread(
            target=self.serve_forever, name="decision-server", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the decision server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=30)
