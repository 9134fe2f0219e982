"""`cctv-policy serve`'s HTTP server: the decision API (http.py) on the shared uvicorn server
(cctv_policy.httpserve: deadlines, a connection bound counted from accept, TLS 1.2 AEAD / 1.3)."""

from __future__ import annotations

from cctv_policy.authz.http import DecisionApp, Limits
from cctv_policy.httpserve.runner import HttpServer
from cctv_policy.httpserve.tls import TlsFiles, is_loopback

__all__ = ["DecisionServer", "TlsFiles", "is_loopback"]


class DecisionServer(HttpServer):
    """uvicorn serving one DecisionApp."""

    def __init__(
        self, app: DecisionApp, host: str, port: int, limits: Limits, tls: TlsFiles | None = None
    ) -> None:
        super().__init__(app, host, port, limits, tls)
