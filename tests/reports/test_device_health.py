"""Device health from storage: newest footage, the largest break, and CAMERA_SILENT by the rule
book, in the inspection report and in `plan`'s summary."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from click.testing import CliRunner

from cctv_policy.cli.main import cli
from cctv_policy.demo import write_footage
from cctv_policy.registry import load_registry
from cctv_policy.reports.device_health import largest_gap, read_device_health
from cctv_policy.rulebook.devices import footage_newest, silent_cameras
from cctv_policy.rulebook.evaluation import Evaluation
from storage_backends.memory import MemoryBackend
from testing.helpers import DEMO_LAYOUT as LAYOUT
from tests.conftest import DEMO_REGISTRY, NOW, NOW_TEXT

HOUR = timedelta(hours=1)


def _hourly(camera: str, first: datetime, hours: int, skip: range = range(0)) -> list[str]:
    return [LAYOUT.key(camera, first + i * HOUR, 3600) for i in range(hours) if i not in skip]


def test_newest_footage_and_the_largest_break_between_recordings():
    first = NOW.replace(minute=0, second=0) - 48 * HOUR
    backend = MemoryBackend("nas", LAYOUT, _hourly("CAM-A", first, 40, skip=range(10, 15)))
    health = read_device_health(backend, "CAM-A", (NOW - timedelta(days=30), NOW))
    assert health.newest == first + 40 * HOUR
    assert health.largest_gap is not None
    assert (health.largest_gap.start, health.largest_gap.hours) == (first + 10 * HOUR, 5.0)


def test_uninterrupted_recording_has_no_gap_and_no_footage_has_no_newest():
    first = NOW.replace(minute=0, second=0) - 24 * HOUR
    backend = MemoryBackend("nas", LAYOUT, _hourly("CAM-A", first, 24))
    assert largest_gap(backend, "CAM-A", (NOW - timedelta(days=30), NOW)) is None
    empty = read_device_health(backend, "CAM-B", (NOW - timedelta(days=30), NOW))
    assert (empty.newest, empty.largest_gap) == (None, None)


def test_footage_newest_names_every_camera_read():
    newest = {"CAM-A": NOW}
    assert footage_newest(["CAM-B", "CAM-A"], newest) == {
        "CAM-A": NOW.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "CAM-B": None,
    }


def test_the_rule_book_finds_old_and_missing_footage_silent(embedded_engine):
    evaluation = Evaluation(load_registry(DEMO_REGISTRY), embedded_engine, NOW, "test")
    newest = {"CAM-GATE-01": NOW - 2 * HOUR, "CAM-GATE-02": NOW - 25 * HOUR}
    found = silent_cameras(evaluation, ["CAM-GATE-01", "CAM-GATE-02", "CAM-GATE-03"], newest)
    assert [s.camera for s in found] == ["CAM-GATE-02", "CAM-GATE-03"]
    assert "recorded nothing since" in found[0].message
    assert "no footage at all" in found[1].message


def test_a_camera_not_read_is_never_silent(embedded_engine):
    evaluation = Evaluation(load_registry(DEMO_REGISTRY), embedded_engine, NOW, "test")
    assert silent_cameras(evaluation, [], {}) == []


def _footage_with_a_silent_camera(root: Path) -> None:
    cameras = ["CAM-GATE-01", "CAM-LAB-02"]
    write_footage(root, LAYOUT, cameras, NOW, days=5, segment_minutes=120, silent=["CAM-LAB-02"])


def test_inspection_report_shows_device_health_and_the_silent_camera(tmp_path: Path):
    _footage_with_a_silent_camera(tmp_path / "nas")
    args = ["report", "--registry", str(DEMO_REGISTRY), "--now", NOW_TEXT]
    args += ["--storage-root", f"nas-main={tmp_path / 'nas'}"]
    text = CliRunner().invoke(cli, args).output
    assert "## Device health" in text
    assert "| CAM-LAB-02 SILENT | 2026-11-22 04:00 | 72.0 | none | 2026-10-02 by j.ma |" in text
    assert "| CAM-GATE-01 | 2026-11-25 04:00 | 0.0 | none | 2026-09-01 by k.wu |" in text
    assert "CAM-LAB-02 Computer lab entrance | lab | nas-main | 5.0 | CAMERA_SILENT |" in text
    assert "- CAMERA_SILENT: " in text
    html = CliRunner().invoke(cli, [*args, "--format", "html"]).output
    assert 'id="health-chart"' in html and "silent after 24 hours" in html


def test_plan_summary_names_the_silent_camera(tmp_path: Path):
    _footage_with_a_silent_camera(tmp_path / "nas")
    result = CliRunner().invoke(
        cli,
        [
            "plan",
            "--registry",
            str(DEMO_REGISTRY),
            "--now",
            NOW_TEXT,
            "--target",
            "nas-main",
            "--storage-root",
            f"nas-main={tmp_path / 'nas'}",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "silent    camera CAM-LAB-02 has recorded nothing since 2026-11-22T04:00:00Z" in (
        result.output
    )
    assert "silent cameras (CAMERA_SILENT)" in result.output
