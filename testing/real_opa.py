"""The real `opa` binary (tools/opa, built by scripts/build_tools.sh) and `opa run --server`
processes for tests, on free ports of 127.0.0.1.

`opa_binary()` runs scripts/build_tools.sh once per test session: a no-op when the pinned
binary is up to date, a build from source otherwise. There is no fallback and no skip: a
machine without Go fails the tests that need OPA with the reason.
"""

from __future__ import annotations

import functools
import json
import os
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

REPO = Path(__file__).resolve().parents[1]
OPA = REPO / ".tools" / "bin" / "opa"


class OpaUnavailable(Exception):
    pass


@functools.cache
def opa_binary() -> Path:
    """The pinned opa binary, built first if its pin changed (scripts/build_tools.sh)."""
    result = subprocess.run(
        ["bash", str(REPO / "scripts" / "build_tools.sh")],
        capture_output=True,
        text=True,
        timeout=1800,
    )
    if result.returncode != 0 or not OPA.is_file():
        raise OpaUnavailable(
            f"scripts/build_tools.sh could not build {OPA}: {result.stderr.strip()[-2000:]}"
        )
    return OPA


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class OpaServer:
    """One `opa run --server` process. `args` come after `run --server --addr ...`."""

    args: list[str]
    env: dict[str, str] = field(default_factory=dict)
    port: int = 0
    process: subprocess.Popen[bytes] | None = None
    log_path: Path = field(default_factory=lambda: Path(tempfile.mkstemp(suffix=".opa.log")[1]))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30) -> OpaServer:
        self.port = free_port()
        command = [str(opa_binary()), "run", "--server", "--addr", f"127.0.0.1:{self.port}"]
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [*command, *self.args],
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, **self.env},
            )
        self._wait_healthy(timeout)
        return self

    def _wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise OpaUnavailable(f"opa exited with {self.process.returncode}: {self.log()}")
            try:
                if requests.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        self.stop()
        raise OpaUnavailable(f"opa did not become healthy in {timeout:.0f} s: {self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    def log_records(self) -> list[dict[str, Any]]:
        """OPA's JSON log lines (the default --log-format json)."""
        records = []
        for line in self.log_path.read_text(errors="replace").splitlines():
            try:
                records.append(json.loads(line))
            except ValueError:
                continue
        return records

    def decide(self, path: str, input: dict[str, Any]) -> Any:
        """POST /v1/data/<path>: the result, or None when undefined."""
        response = requests.post(f"{self.url}/v1/data/{path}", json={"input": input}, timeout=30)
        response.raise_for_status()
        return response.json().get("result")

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None
        self.log_path.unlink(missing_ok=True)
