"""A stand-in OPA server for tests: OPA's REST API shape (PUT /v1/policies/<id>,
POST /v1/data/<path>) in front of the OPA Go library. It proves our HTTP adapter speaks the
protocol; the comparison against a real `opa run --server` is in test_opa_server.py."""

from __future__ import annotations

import json
import threading
from http.server import ThreadingHTTPServer

from opa_bindings import OpaEngine, OpaError, OpaUndefinedError

from cctv_policy.authz.server import JsonHandler


class _Handler(JsonHandler):
    engine: OpaEngine
    lock: threading.Lock

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length", 0)))

    def do_PUT(self) -> None:  # noqa: N802 - http.server naming
        if self.path.startswith("/v1/data/"):
            path = self.path.removeprefix("/v1/data/").replace("/", ".")
            with self.lock:
                self.engine.add_data(json.loads(self._body()), path)
            self.send_response(204)  # as OPA answers a data PUT
            self.end_headers()
            return None
        if not self.path.startswith("/v1/policies/"):
            return self._reply(404, {"code": "not_found"})
        with self.lock:
            try:
                self.engine.add_policy(
                    self.path.removeprefix("/v1/policies/"), self._body().decode()
                )
            except OpaError as exc:
                return self._reply(400, {"code": "invalid_parameter", "message": exc.message})
        self._reply(200, {})

    def do_POST(self) -> None:  # noqa: N802 - the name http.server dispatches to
        if not self.path.startswith("/v1/data/"):
            return self._reply(404, {"code": "not_found"})
        path = self.path.removeprefix("/v1/data/").split("?")[0].replace("/", ".")
        document = json.loads(self._body() or b"{}")
        with self.lock:
            try:
                value = self.engine.eval_document(path, document.get("input"))
            except OpaUndefinedError:
                return self._reply(200, {})
            except OpaError as exc:
                return self._reply(500, {"code": "internal_error", "message": exc.message})
        self._reply(200, {"result": value})


def start() -> tuple[ThreadingHTTPServer, str]:
    handler = type("Handler", (_Handler,), {"engine": OpaEngine(), "lock": threading.Lock()})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"
