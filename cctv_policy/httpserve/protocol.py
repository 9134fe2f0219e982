"""uvicorn's HTTP/1.1 protocol (httptools) with the deadlines and the bound a network-facing
server needs, counted from the moment a TCP connection is accepted.

uvicorn frames every request by its Content-Length or chunked encoding and rejects malformed ones
(a negative or non-numeric Content-Length, both Content-Length and Transfer-Encoding). This adds
what it leaves open: a JSON body on the parser's own 400, a deadline for the TLS handshake, then
one for a request head and one for its body (a client trickling either is cut off with a 408),
an idle deadline from the moment a connection is served, and a bound on open TCP connections.

TLS is put in here, not by uvicorn (whose TLS layer hands a connection over only after its
handshake): a connection counts against the bound from accept, and one that does not finish its
handshake within the head deadline is dropped (1,100 idle TCP connections used to exhaust the
server while never being counted, each kept for the default 60 s handshake timeout)."""

from __future__ import annotations

import asyncio
import json
import ssl

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvloop.loop import SSLProtocol  # type: ignore[attr-defined]  # (not in its stubs)

from cctv_policy.httpserve.limits import Limits


def raw_json_response(status: bytes, message: str) -> bytes:
    body = json.dumps({"code": "invalid_parameter", "message": message}).encode() + b"\n"
    return (
        b"HTTP/1.1 "
        + status
        + b"\r\ncontent-type: application/json\r\ncontent-length: "
        + str(len(body)).encode()
        + b"\r\nconnection: close\r\n\r\n"
        + body
    )


def guarded_protocol(limits: Limits, tls: ssl.SSLContext | None) -> type[HttpToolsProtocol]:
    """The protocol class for one server (the set of its open connections is its own)."""
    accepted: set[HttpToolsProtocol] = set()  # every open TCP connection, TLS or not

    class GuardedProtocol(HttpToolsProtocol):
        _timer: asyncio.TimerHandle | None = None  # the head's, then the body's deadline
        _serving = False  # uvicorn's connection_made has run (after any TLS handshake)
        _tls_layer: asyncio.BaseProtocol | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            if self._tls_layer is not None:  # again, from the TLS layer: the handshake is done
                self._serve(transport)
                return
            accepted.add(self)
            if len(accepted) > limits.max_connections:
                if tls is None:
                    transport.write(
                        raw_json_response(
                            b"503 Service Unavailable", "too many open connections; try again"
                        )
                    )
                transport.close()
                return
            if tls is None:
                self._serve(transport)
                return
            # The TLS layer goes in before the loop reads a byte (the loop starts reading when
            # this returns); it calls connection_made again once the handshake is done.
            handshake = self.loop.create_future()
            handshake.add_done_callback(self._handshake_done)
            self._tls_layer = SSLProtocol(
                self.loop, self, tls, handshake, True, None, True, limits.header_timeout
            )
            transport.set_protocol(self._tls_layer)
            self._tls_layer.connection_made(transport)

        def _handshake_done(self, handshake: asyncio.Future[None]) -> None:
            if handshake.cancelled() or handshake.exception() is not None:
                accepted.discard(self)  # failed or too slow: the layer closed the connection

        def _serve(self, transport: asyncio.BaseTransport) -> None:
            self._serving = True
            super().connection_made(transport)  # type: ignore[arg-type]
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
            accepted.discard(self)
            self._cancel_timer()
            if self._serving:
                super().connection_lost(exc)

        def send_400_response(self, msg: str) -> None:
            self.transport.write(
                raw_json_response(
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
                    raw_json_response(
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
