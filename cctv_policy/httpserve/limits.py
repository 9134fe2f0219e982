"""The limits of one HTTP server, for every path it serves."""

from __future__ import annotations

from pydantic import BaseModel


class Limits(BaseModel):
    """One set of limits for every path."""

    max_body: int = 64 * 1024  # bytes, before and after gzip
    body_timeout: float = 10.0  # seconds for the whole body, once the head is in
    header_timeout: float = 10.0  # seconds for a request head (and a TLS handshake)
    idle_timeout: float = 30.0  # seconds a kept-alive connection may wait for its next request
    max_connections: int = 256  # open TCP connections, counted from accept
