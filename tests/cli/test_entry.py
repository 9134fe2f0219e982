"""`cctv-policy serve` runs with the Go collector setting the README gives (GOGC=400), set before
the embedded OPA loads; an operator's own setting wins, and other commands are left alone."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import DEMO_REGISTRY

CLI = str(Path(sys.executable).with_name("cctv-policy"))


def environment_of(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes()
    return dict(item.split("=", 1) for item in raw.decode().split("\0") if "=" in item)


def serving_environment(tmp_path: Path, env: dict[str, str]) -> dict[str, str]:
    process = subprocess.Popen(
        [
            CLI,
            "serve",
            "--registry",
            str(DEMO_REGISTRY),
            "--port",
            "0",
            "--audit-log",
            str(tmp_path / "audit.jsonl"),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + 60
        for line in process.stdout:
            if "serving decisions on" in line:
                break
            assert time.monotonic() < deadline, "serve did not start"
        else:
            pytest.fail("serve exited before serving")
        return environment_of(process.pid)  # the same process after the exec
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="reads /proc")
def test_serve_runs_with_gogc_400(tmp_path: Path):
    env = {k: v for k, v in os.environ.items() if k != "GOGC"}
    assert serving_environment(tmp_path, env).get("GOGC") == "400"


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="reads /proc")
def test_an_operators_gogc_is_kept(tmp_path: Path):
    env = {**os.environ, "GOGC": "150"}
    assert serving_environment(tmp_path, env).get("GOGC") == "150"


def test_other_commands_are_not_restarted():
    env = {k: v for k, v in os.environ.items() if k != "GOGC"}
    script = (
        "import os, sys; from cctv_policy.cli import entry; "
        "entry.restart_with_go_settings(['cctv-policy', 'check']); "
        "print(os.environ.get('GOGC'))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "None"
