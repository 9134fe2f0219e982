"""The clock gate after the third round (issue #26): one future-dated file on one camera must
not stop revocations and holds, nor retention on the cameras whose clocks agree.

The demo campus at a fixed clock: REQ-2026-0042 is granted (use 21-28 Nov) on the first run;
four days later its use period is over and CAM-CAN-03 has a file dated a day ahead (its
recorder's clock is wrong, or a file was planted).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from cctv_policy.cli import enforce as enforce_cli
from cctv_policy.cli.main import cli
from cctv_policy.enforce.clock import ClockDisagrees
from testing.helpers import DEMO_LAYOUT as LAYOUT
from testing.helpers import apply_argv, apply_at, demo_footage, footage_keys
from tests.conftest import DEMO_REGISTRY, NOW

CAMERAS = ["CAM-CAN-03", "CAM-LIB-01", "CAM-GATE-01", "CAM-GYM-01"]
LATER = NOW + timedelta(days=4)  # REQ-2026-0042's use period ended on 28 Nov
WRONG = "CAM-CAN-03"
# HOLD-2026-0002: CAM-CAN-03, 19 Oct 01:00-05:00 +08:00 (18 Oct 16:00-20:00 UTC).
HELD = {
    "CAM-CAN-03/2026/10/18/20261018T160000Z_7200s.mp4",
    "CAM-CAN-03/2026/10/18/20261018T180000Z_7200s.mp4",
}


def grants(nas: Path) -> set[str]:
    folder = nas / ".cctv-policy" / "grants"
    return {p.name for p in folder.iterdir()} if folder.is_dir() else set()


@pytest.fixture
def granted(tmp_path: Path) -> Path:
    """Footage up to NOW, the first run (grant made), then four more days of footage."""
    nas = demo_footage(tmp_path / "nas-main", CAMERAS, NOW)
    apply_at(DEMO_REGISTRY, {"nas-main": nas}, tmp_path / "audit.jsonl", NOW)
    assert any(g.startswith("REQ-2026-0042--") for g in grants(nas))
    demo_footage(nas, CAMERAS, LATER, days=5)
    return nas


def plant_future_file(nas: Path, camera: str, ahead: timedelta) -> str:
    key = LAYOUT.key(camera, LATER + ahead, 7200)
    (nas / key).parent.mkdir(parents=True, exist_ok=True)
    (nas / key).write_text("from the future")
    return key


def expired_of(keys: set[str], camera: str) -> set[str]:
    cutoff = LATER - timedelta(days=31)
    out = set()
    for key in keys:
        parsed = LAYOUT.parse(key)
        if parsed and parsed[0] == camera and parsed[1] < cutoff:
            out.add(key)
    return out


def test_future_file_on_one_camera_still_revokes_and_names_it(
    granted: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    nas = granted
    plant_future_file(nas, WRONG, timedelta(days=1))
    before = footage_keys(nas)
    assert before >= HELD
    monkeypatch.setattr(enforce_cli, "resolve_now", lambda now: LATER)
    result = CliRunner().invoke(cli, apply_argv(nas, tmp_path / "audit.jsonl", "--format", "json"))
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["done"]["revoke"] >= 1
    assert not any(g.startswith("REQ-2026-0042--") for g in grants(nas))
    assert WRONG in report["clock_suspect"] and "ahead" in report["clock_suspect"][WRONG]
    assert WRONG in result.stderr
    after = footage_keys(nas)
    assert after >= HELD
    # Nothing of the suspect camera is deleted; the cameras whose clocks agree are swept.
    assert expired_of(before, WRONG) <= after
    assert expired_of(before, "CAM-LIB-01") and not expired_of(after, "CAM-LIB-01")
    assert "clock_suspect" in (tmp_path / "audit.jsonl").read_text()


def test_clock_contradicted_by_most_cameras_still_revokes_but_deletes_nothing(
    granted: Path, tmp_path: Path
):
    """Most cameras ahead: this machine's clock is behind, or the evidence is not to be
    believed. Holds and revokes only ever keep more or give less: they go ahead; nothing
    else does, and the run fails (exit 2 in the CLI)."""
    nas = granted
    for camera in CAMERAS[:3]:
        plant_future_file(nas, camera, timedelta(days=1))
    before = footage_keys(nas)
    with pytest.raises(ClockDisagrees, match="holds and revokes"):
        apply_at(DEMO_REGISTRY, {"nas-main": nas}, tmp_path / "audit.jsonl", LATER)
    assert not any(g.startswith("REQ-2026-0042--") for g in grants(nas))
    assert footage_keys(nas) == before


def test_clock_jumped_ahead_still_revokes_and_deletes_nothing(granted: Path, tmp_path: Path):
    nas = granted
    before = footage_keys(nas)
    jumped = datetime(2027, 12, 1, tzinfo=LATER.tzinfo)
    with pytest.raises(ClockDisagrees, match="newest footage of 4 of 4"):
        apply_at(DEMO_REGISTRY, {"nas-main": nas}, tmp_path / "audit.jsonl", jumped)
    assert not any(g.startswith("REQ-2026-0042--") for g in grants(nas))
    assert footage_keys(nas) == before
