"""A real decision service (uvicorn on a loopback port, the demo registry, a real audit log) for
tests, and the small raw-socket client the wire-level tests use."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from cctv_policy.authz.clock import ServeClock
from cctv_policy.authz.http import Limits
from cctv_policy.authz.service import DecisionService, ServeOptions
from cctv_policy.registry.types import parse_rfc3339

DEMO_REGISTRY = Path(__file__).resolve().parents[1] / "registry"

# Inside REQ-2026-0042's use period, for footage inside its window (t.wang, CAM-LIB-01).
SERVE_NOW = parse_rfc3339("2026-11-22T10:00:00+08:00")
ALLOWED = {"principal": "t.wang", "camera": "CAM-LIB-01", "at": "2026-11-18T14:30:00+08:00"}
ALLOW_PATH = "/v1/data/cctv/authz/allow"


def frozen_clock(moment: datetime = SERVE_NOW) -> ServeClock:
    """A clock at one moment, where no time passes (the monotonic clock stands still too)."""
    return ServeClock(wall=lambda: moment, monotonic=lambda: 0.0)


@contextmanager
def serving(
    audit_log: Path,
    registry: Path = DEMO_REGISTRY,
    clock: ServeClock | None = None,
    **options: Any,
) -> Iterator[DecisionService]:
    """A service on `clock` (SERVE_NOW, frozen, unless given): injected, as only tests can."""
    service = DecisionService(
        ServeOptions(registry_dir=registry, audit_log=audit_log, port=0, **options),
        clock=clock or frozen_clock(),
    ).start_in_thread()
    try:
        yield service
    finally:
        service.stop()


def quick_limits(**changes: Any) -> Limits:
    return Limits(**{"header_timeout": 1.0, "body_timeout": 1.0, "idle_timeout": 1.0, **changes})


def audit_entries(path: Path, event: str = "authorize") -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [
        entry for entry in map(json.loads, path.read_text().splitlines()) if entry["event"] == event
    ]


def request_bytes(method: str, path: str, body: bytes = b"", **headers: str | None) -> bytes:
    """A request with `Host: 127.0.0.1` and, on a POST, `Content-Type: application/json`,
    unless given (None: no such header)."""
    named = {name.replace("_", "-"): value for name, value in headers.items()}
    named.setdefault("Host", "127.0.0.1")
    if method == "POST":
        named.setdefault("Content-Type", "application/json")
    lines = [f"{method} {path} HTTP/1.1"]
    if body and "Content-Length" not in named and "Transfer-Encoding" not in named:
        lines.append(f"Content-Length: {len(body)}")
    lines += [f"{name}: {value}" for name, value in named.items() if value is not None]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


class RawConnection:
    """One TCP connection; reads responses framed by Content-Length."""

    def __init__(self, port: int, timeout: float = 5) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buffer = b""

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def response(self) -> tuple[int, dict[str, str], Any]:
        """(status, headers, JSON body); raises ConnectionError when the server closed."""
        while b"\r\n\r\n" not in self.buffer:
            self._fill()
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        status_line, *lines = head.decode("latin-1").split("\r\n")
        headers = {
            name.lower(): value.strip()
            for name, _, value in (line.partition(":") for line in lines)
        }
        length = int(headers.get("content-length", "0"))
        while len(self.buffer) < length:
            self._fill()
        body, self.buffer = self.buffer[:length], self.buffer[length:]
        return int(status_line.split()[1]), headers, json.loads(body) if body else None

    def closed_by_server(self) -> bool:
        """True when the server closes the connection (EOF) with nothing more to say."""
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return True
                self.buffer += chunk
        except ConnectionResetError:
            return True
        except TimeoutError:
            return False

    def _fill(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed by the server")
        self.buffer += chunk

    def close(self) -> None:
        self.sock.close()
