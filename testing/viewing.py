"""The viewing point's test campus: the demo registry with recorder URLs on three targets.

- nas-main (files, /recordings/): CAM-LIB-01 (REQ-2026-0042: t.wang, 2026-11-18 06:00-08:00Z,
  in use 2026-11-21T00:00Z to 2026-11-28T10:00Z) and CAM-LIB-02 (no approval);
- nvr-frigate (frigate): CAM-LAB-02 under Frigate's name lab_corridor;
- nvr-mediamtx (mediamtx-playback): CAM-TB2-02 under the MediaMTX path teaching/b2-02;
  both in REQ-2026-0040 (q.xu, 2026-11-15T10:00Z to 2026-11-17T00:00Z, in use until
  2026-11-27T09:00Z).
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cctv_policy.authz.clock import ServeClock
from testing.helpers import DEMO_LAYOUT, DEMO_REGISTRY
from testing.serving import SERVE_NOW

LIB_WINDOW = (datetime(2026, 11, 18, 6, tzinfo=UTC), datetime(2026, 11, 18, 8, tzinfo=UTC))
LIB_USE_ENDS = datetime(2026, 11, 28, 10, tzinfo=UTC)
LAB_WINDOW = (datetime(2026, 11, 15, 10, tzinfo=UTC), datetime(2026, 11, 17, tzinfo=UTC))
NEW_TARGETS = """
  - id: nvr-frigate
    kind: filesystem
    description: Frigate NVR of the science building
    root: /srv/frigate
    url_scheme: frigate
  - id: nvr-mediamtx
    kind: filesystem
    description: MediaMTX recorder of the teaching buildings
    root: /srv/mediamtx
    url_scheme: mediamtx-playback
"""


def viewing_registry(folder: Path) -> Path:
    registry = Path(shutil.copytree(DEMO_REGISTRY, folder / "registry"))
    storage = registry / "storage.yaml"
    text = storage.read_text()
    text = text.replace(
        "    root: /srv/cctv/nas-main\n", "    root: /srv/cctv/nas-main\n    url_scheme: files\n"
    )
    storage.write_text(text.replace("targets:\n", "targets:" + NEW_TARGETS, 1))
    cameras = registry / "cameras.yaml"
    cameras.write_text(
        _move(
            _move(cameras.read_text(), "CAM-LAB-02", "nvr-frigate", "lab_corridor"),
            "CAM-TB2-02",
            "nvr-mediamtx",
            "teaching/b2-02",
        )
    )
    return registry


def _move(text: str, camera: str, target: str, name: str) -> str:
    head, found, tail = text.partition(f"  - id: {camera}\n")
    assert found, camera
    block, storage, rest = tail.partition("    storage: nas-main\n")
    assert storage, camera
    return f"{head}{found}{block}    storage: {target}\n    recorder_name: {name}\n{rest}"


def file_uri(camera: str, start: datetime, seconds: int, prefix: str = "/recordings/") -> str:
    return prefix + DEMO_LAYOUT.key(camera, start, seconds)


def write_file(root: Path, camera: str, start: datetime, seconds: int) -> bytes:
    path = root / DEMO_LAYOUT.key(camera, start, seconds)
    path.parent.mkdir(parents=True, exist_ok=True)
    content = f"footage {camera} {start.isoformat()} {seconds}s\n".encode() * 64
    path.write_bytes(content)
    return content


class MovableClock:
    """The serve clock of a test: at SERVE_NOW until moved (forward only, as a real clock)."""

    def __init__(self, moment: datetime = SERVE_NOW) -> None:
        self.moment = moment

    def move_to(self, moment: datetime) -> None:
        assert moment >= self.moment
        self.moment = moment

    def serve_clock(self) -> ServeClock:
        return ServeClock(wall=lambda: self.moment, monotonic=lambda: 0.0)


def unix(moment: datetime) -> int:
    return int(moment.timestamp())


def after(moment: datetime, **delta: float) -> datetime:
    return moment + timedelta(**delta)
