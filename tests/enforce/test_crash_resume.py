"""apply killed at random points, then run again, ends exactly where an uninterrupted run ends,
with nothing protected lost and an audit log that still verifies."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from cctv_policy.cli.main import cli
from cctv_policy.demo import write_footage
from cctv_policy.registry import load_registry
from testing.helpers import DEMO_LAYOUT as LAYOUT
from tests.conftest import DEMO_REGISTRY, NOW


def tree(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def apply_argv(root: Path, audit: Path) -> list[str]:
    """A separate process applying at the demo's fixed clock (the CLI's apply runs on the
    system clock), so that it can be killed at any point."""
    script = (
        "import sys; from pathlib import Path; from testing.helpers import apply_at; "
        "from tests.conftest import DEMO_REGISTRY, NOW; "
        "apply_at(DEMO_REGISTRY, {'nas-main': Path(sys.argv[1])}, Path(sys.argv[2]), NOW)"
    )
    return [sys.executable, "-c", script, str(root), str(audit)]


@pytest.mark.slow
def test_killed_apply_converges_to_the_uninterrupted_result(tmp_path: Path):
    cameras = sorted(
        c.id for c in load_registry(DEMO_REGISTRY).cameras.values() if c.storage == "nas-main"
    )
    clean, crashed = tmp_path / "clean", tmp_path / "crashed"
    for root in (clean, crashed):
        write_footage(root, LAYOUT, cameras, NOW, days=40, segment_minutes=30)

    started = time.perf_counter()
    assert (
        subprocess.run(
            apply_argv(clean, tmp_path / "clean.jsonl"), stdout=subprocess.DEVNULL
        ).returncode
        == 0
    )
    clean_seconds = time.perf_counter() - started

    rng = random.Random(20261125)
    kills = 0
    for attempt in range(4):
        process = subprocess.Popen(
            apply_argv(crashed, tmp_path / "crashed.jsonl"),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        # somewhere in start-up or apply; later attempts have less left to do
        time.sleep(rng.uniform(0.15, 0.9) * clean_seconds / (attempt + 1))
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            kills += 1
        process.wait()
    final = subprocess.run(
        apply_argv(crashed, tmp_path / "crashed.jsonl"), stdout=subprocess.DEVNULL
    )
    assert final.returncode == 0
    assert kills >= 1, "no run was actually interrupted; the timing needs adjusting"

    assert tree(crashed) == tree(clean)
    held = "CAM-CAN-03/2026/10/18/20261018T170000Z_1800s.mp4"
    assert (crashed / held).exists()
    verify = CliRunner().invoke(
        cli, ["audit", "verify", "--audit-log", str(tmp_path / "crashed.jsonl")]
    )
    assert verify.exit_code == 0, verify.output
