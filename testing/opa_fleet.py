"""Pieces of an OPA fleet for tests: OPA's configuration file (bundle service with S3 request
signing, decision logs to our ingest endpoint) and a `cctv-policy decision-log-ingest`
process."""

from __future__ import annotations

import json
import os
import re
import select
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def decision_log_config(ingest_url: str, token: str) -> dict[str, Any]:
    """OPA config: send every decision to our ingest endpoint, at most a second later."""
    return {
        "services": {
            "audit": {"url": ingest_url, "credentials": {"bearer": {"token": token}}},
        },
        "decision_logs": {
            "service": "audit",
            "reporting": {"min_delay_seconds": 1, "max_delay_seconds": 1},
        },
        "labels": {"campus": "north"},
    }


def s3_bundle_config(
    endpoint: str, bucket: str, resource: str, key_id: str, public_pem: str, polling_seconds: int
) -> dict[str, Any]:
    """OPA config: poll a signed bundle from S3 (path-style URL, SigV4 signing with the
    AWS_* credentials of OPA's environment)."""
    return {
        "services": {
            "campus-s3": {
                "url": f"{endpoint}/{bucket}",
                "credentials": {"s3_signing": {"environment_credentials": {}}},
            },
        },
        "bundles": {
            "cctv": {
                "service": "campus-s3",
                "resource": resource,
                "polling": {
                    "min_delay_seconds": polling_seconds,
                    "max_delay_seconds": polling_seconds,
                },
                "signing": {"keyid": key_id},
            },
        },
        "keys": {key_id: {"algorithm": "RS256", "key": public_pem}},
    }


def merged(*configs: dict[str, Any]) -> dict[str, Any]:
    """Configs side by side (their `services` joined)."""
    result: dict[str, Any] = {}
    for config in configs:
        for name, value in config.items():
            if name == "services":
                result.setdefault("services", {}).update(value)
            else:
                result[name] = value
    return result


def write_config(path: Path, config: dict[str, Any]) -> Path:
    path.write_text(json.dumps(config, indent=1))  # JSON is YAML, which OPA reads
    return path


@dataclass
class IngestProcess:
    """`cctv-policy decision-log-ingest` as its own process, as a school would run it: on a
    loopback port of its own choosing (read from its start message), with a private token file
    beside the audit log."""

    audit_log: Path
    token: str
    port: int = 0
    extra_args: tuple[str, ...] = ()
    scheme: str = "http"
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    @property
    def token_file(self) -> Path:
        return self.audit_log.with_name("ingest-tokens")

    def start(self) -> IngestProcess:
        self.audit_log.parent.mkdir(parents=True, exist_ok=True)
        self.token_file.write_text(f"# the OPA fleet\n{self.token}\n")
        self.token_file.chmod(0o600)
        env = {k: v for k, v in os.environ.items() if k != "CCTV_DECISION_LOG_TOKEN"}
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "cctv_policy.cli",
                "decision-log-ingest",
                "--port",
                "0",
                "--audit-log",
                str(self.audit_log),
                "--token-file",
                str(self.token_file),
                *self.extra_args,
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        assert self.process.stderr is not None
        ready, _, _ = select.select([self.process.stderr], [], [], 30)
        line = self.process.stderr.readline().decode() if ready else ""
        found = re.search(r"receiving decision logs on \w+://[^ ]+:(\d+)/logs", line)
        if found is None:
            self.stop()
            raise RuntimeError(f"decision-log-ingest did not start: {line!r}")
        self.port = int(found.group(1))
        return self

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        self.process.wait(timeout=10)
        if self.process.stderr is not None:
            self.process.stderr.close()
        self.process = None


def audit_entries(path: Path, event: str) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    lines = path.read_text().splitlines()
    return [entry for entry in map(json.loads, lines) if entry.get("event") == event]


def wait_for(condition: Any, seconds: float, what: str, step: float = 0.2) -> float:
    """Poll `condition()` until it is truthy; the seconds it took. Fails after `seconds`."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if condition():
            return time.monotonic() - started
        time.sleep(step)
    raise AssertionError(f"{what}: not within {seconds:.0f} s")
