"""A real nginx in front of the viewing point for tests: basic auth names the viewer,
`auth_request` asks serve's GET /v1/forward-auth, a footage tree is served as files and a
stand-in recorder (Frigate's and MediaMTX's URL shapes) is proxied to.

nginx runs in the foreground as one process (`daemon off; master_process off;`, so it reads
what the test user can read), under a temporary prefix, on a free loopback port, and is
stopped by the context manager. The configuration is the one README's "The viewing point"
documents.
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

PASSWORD = "watch-me"
NGINX_CONF = """
daemon off;
master_process off;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log info;
events {{ worker_connections 64; }}
http {{
  access_log {prefix}/access.log;
  client_body_temp_path {prefix}/body;
  proxy_temp_path {prefix}/proxy;
  fastcgi_temp_path {prefix}/fastcgi;
  uwsgi_temp_path {prefix}/uwsgi;
  scgi_temp_path {prefix}/scgi;
  server {{
    listen 127.0.0.1:{port};
    auth_basic "cctv recordings";
    auth_basic_user_file {prefix}/htpasswd;

    # The footage tree, as files (url_scheme: files on nas-main).
    location /recordings/ {{
      auth_request /_auth/nas-main;
      alias {tree}/;
      disable_symlinks on;
    }}
    # A recorder's web API behind the proxy (url_scheme: frigate, mediamtx-playback).
    location /api/ {{ auth_request /_auth/nvr-frigate; proxy_pass http://127.0.0.1:{upstream}; }}
    location /vod/ {{ auth_request /_auth/nvr-frigate; proxy_pass http://127.0.0.1:{upstream}; }}
    location = /get {{ auth_request /_auth/nvr-mediamtx; proxy_pass http://127.0.0.1:{upstream}; }}
    location = /list {{ auth_request /_auth/nvr-mediamtx; proxy_pass http://127.0.0.1:{upstream}; }}

    location ~ ^/_auth/(?<target>[a-z0-9-]+)$ {{
      internal;
      proxy_pass http://127.0.0.1:{serve}/v1/forward-auth?target=$target;
      proxy_pass_request_body off;
      proxy_set_header Content-Length "";
      proxy_set_header Authorization "Bearer {token}";
      proxy_set_header X-Original-URI $request_uri;
      proxy_set_header X-Original-Method $request_method;
      proxy_set_header X-Remote-User $remote_user;
    }}
  }}
}}
"""


class NginxUnavailable(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def htpasswd(users: list[str]) -> str:
    lines = []
    for user in users:
        done = subprocess.run(
            ["openssl", "passwd", "-apr1", PASSWORD], capture_output=True, text=True, check=True
        )
        lines.append(f"{user}:{done.stdout.strip()}\n")
    return "".join(lines)


@contextlib.contextmanager
def nginx_in_front(
    prefix: Path, tree: Path, serve_port: int, upstream_port: int, token: str, users: list[str]
) -> Iterator[int]:
    """nginx on a free port (its number is yielded) until the block ends."""
    binary = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/sbin")
    if binary is None:
        raise NginxUnavailable("nginx is not installed (Debian package nginx)")
    prefix.mkdir(parents=True, exist_ok=True)
    (prefix / "htpasswd").write_text(htpasswd(users))
    port = free_port()
    config = prefix / "nginx.conf"
    config.write_text(
        NGINX_CONF.format(
            prefix=prefix,
            port=port,
            tree=tree,
            serve=serve_port,
            upstream=upstream_port,
            token=token,
        )
    )
    process = subprocess.Popen(
        [binary, "-p", str(prefix), "-c", str(config), "-e", str(prefix / "error.log")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_listening(port, process, prefix)
        yield port
    finally:
        process.send_signal(signal.SIGQUIT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_listening(port: int, process: subprocess.Popen[bytes], prefix: Path) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log = (prefix / "error.log").read_text(errors="replace")[-2000:]
            raise NginxUnavailable(f"nginx exited ({process.returncode}): {log}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise NginxUnavailable("nginx did not start listening within 10 s")


class _Recorder(BaseHTTPRequestHandler):
    """Answers every GET with the path it was asked for: what the viewer would be shown."""

    def do_GET(self) -> None:
        body = f"recorder: {self.path}\n".encode()
        self.server.seen.append(self.path)  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return


@contextlib.contextmanager
def stand_in_recorder() -> Iterator[ThreadingHTTPServer]:
    """A stand-in for Frigate's and MediaMTX's playback servers on 127.0.0.1:0."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    server.seen = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
