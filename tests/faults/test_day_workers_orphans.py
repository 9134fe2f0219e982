"""Worker processes must not outlive an enforcer that is killed (SIGKILL from the OOM killer,
a cron timeout): they and their fork server would sit there forever, one set per killed run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

SCRIPT = textwrap.dedent(
    """
    import sys, time
    from datetime import UTC, date, datetime, timedelta
    from pathlib import Path
    from storage_backends.day_workers import DayWorkers
    from storage_backends.filesystem import FilesystemBackend
    from storage_backends.layout import Layout

    def main():
        layout = Layout("{camera}/{start:%Y/%m/%d}/{start:%Y%m%dT%H%M%SZ}_{seconds}s.mp4")
        root = Path(sys.argv[1])
        start = datetime(2026, 9, 1, tzinfo=UTC)
        for i in range(48):
            path = root / layout.key("CAM-A", start + timedelta(hours=6 * i), 3600)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"")
        workers = DayWorkers()
        backend = FilesystemBackend("nas", root, layout, workers)
        backend.list_many([("CAM-A", date(2026, 9, 1) + timedelta(days=i)) for i in range(12)])
        print(" ".join(map(str, workers._pool._processes)), flush=True)
        time.sleep(60)

    if __name__ == "__main__":
        main()
    """
)


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc")
def test_workers_exit_when_the_enforcer_is_killed(tmp_path):
    script = tmp_path / "enforcer.py"
    script.write_text(SCRIPT)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    enforcer = subprocess.Popen(
        [sys.executable, str(script), str(tmp_path / "nas")], stdout=subprocess.PIPE, env=env
    )
    workers: list[int] = []
    try:
        assert enforcer.stdout is not None
        workers = [int(pid) for pid in enforcer.stdout.readline().split()]
        assert workers, "the enforcer started no workers"
        enforcer.kill()
        enforcer.wait()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(alive(pid) for pid in workers):
            time.sleep(0.1)
        left = [pid for pid in workers if alive(pid)]
        assert not left, f"worker processes {left} outlived the killed enforcer"
    finally:
        if enforcer.poll() is None:
            enforcer.kill()
            enforcer.wait()
        for pid in workers:  # only the processes this test started
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
