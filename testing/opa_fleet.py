"""Pieces of an OPA fleet for tests: OPA's configuration file (bundle service with S3 request
signing, decision logs to our ingest endpoint) and a `cctv-policy decision-log-ingest`
process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from testing.real_opa import free_port


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
    """`cctv-policy decision-log-ingest` as its own process, as a school would run it."""

    audit_log: Path
    token: str
    port: int = 0
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> IngestProcess:
        self.port = free_port()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "cctv_policy.cli",
                "decision-log-ingest",
                "--port",
                str(self.port),
                "--audit-log",
                str(self.audit_log),
            ],
            env={**os.environ, "CCTV_DECISION_LOG_TOKEN": self.token},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                requests.get(self.url, timeout=1)
                return self
            except requests.RequestException:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("decision-log-ingest did not start listening in 30 s")

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        self.process.wait(timeout=10)
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
