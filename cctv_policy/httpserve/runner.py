"""One ASGI application on uvicorn, on a socket bound up front (so port 0 works and a busy port
is reported before anything starts), with the limits of protocol.py."""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import uvicorn

from cctv_policy.httpserve.limits import Limits
from cctv_policy.httpserve.protocol import guarded_protocol
from cctv_policy.httpserve.tls import TlsFiles


class HttpServer:
    def __init__(
        self, app: Any, host: str, port: int, limits: Limits, tls: TlsFiles | None = None
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
            http=guarded_protocol(limits, tls.context() if tls else None),
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

    def start_in_thread(self, timeout: float = 30) -> HttpServer:
        self._thread = threading.Thread(target=self.serve_forever, name="http-server", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the HTTP server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=30)
