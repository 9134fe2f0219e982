"""Real video for tests: a synthetic camera with a clock, segments as ffmpeg's segment muxer
writes them, and a real nginx-rtmp recorder. Tests that need a tool skip saying so."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cctv_policy.video import (
    CLOCK_BITS,
    CLOCK_BLOCK,
    SYNTHETIC_FPS,
    SYNTHETIC_SIZE,
    VideoTools,
    clock_value,
    encode_args,
    find_font,
    find_tools,
    render_segments,
    synthetic_source,
)
from storage_backends.layout import Layout
from testing.helpers import DEMO_LAYOUT

RTMP_MODULE_CANDIDATES = (
    "/usr/lib/nginx/modules/ngx_rtmp_module.so",  # Debian libnginx-mod-rtmp
    "/usr/lib64/nginx/modules/ngx_rtmp_module.so",
)

requires_ffmpeg = pytest.mark.skipif(
    find_tools() is None or find_font() is None,
    reason="ffmpeg/ffprobe or the DejaVu font is not installed "
    "(Debian: apt-get install ffmpeg fonts-dejavu-core)",
)


def rtmp_module() -> str | None:
    return next((m for m in RTMP_MODULE_CANDIDATES if Path(m).is_file()), None)


requires_nginx_rtmp = pytest.mark.skipif(
    shutil.which("nginx") is None or rtmp_module() is None,
    reason="nginx with the RTMP module is not installed "
    "(Debian: apt-get install nginx libnginx-mod-rtmp)",
)


def tools() -> VideoTools:
    found = find_tools()
    if found is None:
        pytest.skip("ffmpeg/ffprobe not installed (Debian: apt-get install ffmpeg)")
    return found


def record_segments(
    root: Path,
    camera: str,
    start: datetime,
    minutes: float,
    segment_seconds: int,
    layout: Layout = DEMO_LAYOUT,
) -> list[str]:
    """Real MP4 segments of a synthetic camera for `minutes` from `start`, written by ffmpeg's
    segment muxer, then each renamed to the layout's key (start from the burned-in clock,
    seconds from ffprobe). Returns the keys in time order."""
    keys = []
    with tempfile.TemporaryDirectory(dir=root.parent if root.parent.exists() else None) as tmp:
        rendered = render_segments(
            tools(), Path(tmp), camera, start, round(minutes * 60), segment_seconds
        )
        for path, segment_start, duration in rendered:
            key = layout.key(camera, segment_start, round(duration))
            (root / key).parent.mkdir(parents=True, exist_ok=True)
            shutil.move(path, root / key)
            keys.append(key)
    return keys


def _gray_frame(path: Path, last: bool) -> bytes:
    width, height = SYNTHETIC_SIZE
    where = ["-sseof", "-1"] if last else []
    frames = [] if last else ["-frames:v", "1"]
    command = [tools().ffmpeg, "-v", "error", *where, "-i", str(path), *frames]
    command += ["-f", "rawvideo", "-pix_fmt", "gray", "-"]
    raw = subprocess.run(command, capture_output=True, check=True).stdout
    size = width * height
    if len(raw) < size:
        raise AssertionError(f"no frame decoded from {path}")
    return raw[-size:] if last else raw[:size]


def read_clock(path: Path, near: datetime, last: bool = False) -> datetime:
    """The wall time the synthetic camera's bit strip shows in the first (or last) frame of a
    video, exactly (to the frame). `near`: any time within a day of it (the strip counts
    frames modulo 2**20, about 58 hours)."""
    width = SYNTHETIC_SIZE[0]
    frame = _gray_frame(path, last)
    row = CLOCK_BLOCK // 2
    value = sum(
        1 << bit
        for bit in range(CLOCK_BITS)
        if frame[row * width + bit * CLOCK_BLOCK + CLOCK_BLOCK // 2] > 127
    )
    offset = (value - clock_value(near)) % (1 << CLOCK_BITS)
    if offset > 1 << (CLOCK_BITS - 1):
        offset -= 1 << CLOCK_BITS
    return near + timedelta(seconds=offset / SYNTHETIC_FPS)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class RtmpRecorder:
    """A running nginx-rtmp that records every stream published to rtmp://.../live/NAME."""

    port: int
    record_dir: Path
    log: Path

    def publish(self, name: str, seconds: int) -> None:
        """Publish `seconds` of the synthetic camera in real time (-re), as a camera would."""
        url = f"rtmp://127.0.0.1:{self.port}/live/{name}"
        command = [tools().ffmpeg, "-nostdin", "-v", "error", "-re"]
        command += synthetic_source(name, datetime.now(UTC), seconds) + encode_args(1)
        command += ["-f", "flv", url]
        subprocess.run(command, check=True, capture_output=True, timeout=seconds + 60)


NGINX_CONF = """load_module {module};
daemon off;
master_process off;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log info;
events {{ worker_connections 64; }}
rtmp {{
  server {{
    listen 127.0.0.1:{port};
    application live {{
      live on;
      record all;
      record_path {records};
      record_suffix -%Y%m%dT%H%M%S.flv;
      record_interval {interval}s;
    }}
  }}
}}
"""


@contextmanager
def nginx_rtmp(prefix: Path, record_interval: int = 5) -> Iterator[RtmpRecorder]:
    """A real nginx with the RTMP module on a free 127.0.0.1 port, recording into
    prefix/records as `<name>-<time>.flv` (nginx-rtmp's documented names); always stopped."""
    module = rtmp_module()
    if shutil.which("nginx") is None or module is None:
        pytest.skip("nginx with the RTMP module is not installed (libnginx-mod-rtmp)")
    records = prefix / "records"
    records.mkdir(parents=True)
    port = free_port()
    conf = prefix / "nginx.conf"
    conf.write_text(
        NGINX_CONF.format(
            module=module, prefix=prefix, port=port, records=records, interval=record_interval
        )
    )
    server = subprocess.Popen(
        ["nginx", "-p", str(prefix), "-c", str(conf)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_listening(port, server)
        yield RtmpRecorder(port, records, prefix / "error.log")
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _wait_listening(port: int, server: subprocess.Popen[bytes]) -> None:
    deadline = datetime.now(UTC) + timedelta(seconds=10)
    while datetime.now(UTC) < deadline:
        if server.poll() is not None:
            raise AssertionError(f"nginx exited with {server.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError("nginx-rtmp did not start listening")
