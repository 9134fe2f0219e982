"""Clock faults (issue 9, hole 1): a clock that jumps ahead or goes back deletes nothing, and
nothing that changes storage or hands out footage takes its clock from a flag."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from cctv_policy.cli.main import cli
from cctv_policy.demo import write_footage
from cctv_policy.enforce.clock import ClockDisagrees
from testing.faketime import faketime_library, shifted_clock_env
from testing.helpers import DEMO_LAYOUT as LAYOUT
from testing.helpers import apply_argv, apply_at, footage_keys
from tests.conftest import DEMO_REGISTRY, NOW, NOW_TEXT

CAMERAS = ["CAM-CAN-03", "CAM-LIB-01", "CAM-GATE-01"]
needs_faketime = pytest.mark.skipif(
    faketime_library() is None, reason="needs libfaketime (a test dependency on PyPI)"
)


@pytest.fixture
def nas(tmp_path: Path) -> Path:
    root = tmp_path / "nas"
    write_footage(root, LAYOUT, CAMERAS, NOW, days=40, segment_minutes=240)
    return root


def test_clock_jumped_a_year_ahead_deletes_nothing(nas: Path, tmp_path: Path):
    before = footage_keys(nas)
    with pytest.raises(ClockDisagrees, match="on nas-main the newest footage of 3 of 3"):
        apply_at(
            DEMO_REGISTRY,
            {"nas-main": nas},
            tmp_path / "audit.jsonl",
            datetime(2027, 12, 1, tzinfo=UTC),
        )
    assert footage_keys(nas) == before


def test_clock_gone_back_since_the_last_apply_changes_nothing(nas: Path, tmp_path: Path):
    audit = tmp_path / "audit.jsonl"
    apply_at(DEMO_REGISTRY, {"nas-main": nas}, audit, NOW)
    after_first = footage_keys(nas)
    with pytest.raises(ClockDisagrees, match="went backwards"):
        apply_at(DEMO_REGISTRY, {"nas-main": nas}, audit, NOW - timedelta(hours=3))
    assert footage_keys(nas) == after_first


@needs_faketime
def test_ntp_fault_on_the_runner_is_refused_by_a_real_apply(tmp_path: Path):
    """No flag at all: the machine's clock itself jumps 400 days ahead under a real apply."""
    nas = tmp_path / "nas"
    write_footage(nas, LAYOUT, CAMERAS, datetime.now(UTC), days=40, segment_minutes=240)
    before = footage_keys(nas)
    result = subprocess.run(
        [sys.executable, "-m", "cctv_policy.cli", *apply_argv(nas, tmp_path / "audit.jsonl")],
        capture_output=True,
        text=True,
        env=shifted_clock_env("+400d"),
    )
    assert result.returncode == 2, result.stderr
    assert "on nas-main the newest footage" in result.stderr
    assert "Traceback" not in result.stderr
    assert footage_keys(nas) == before
    refused = (tmp_path / "audit.jsonl").read_text().splitlines()[-1]
    assert '"event":"refused"' in refused


@pytest.mark.parametrize(
    "command",
    [
        ["apply", "--yes"],
        ["extract", "REQ-2026-0038", "--supervisor", "m.guo", "--to", "nas-export"],
    ],
)
def test_commands_that_act_take_no_clock_from_a_flag(command: list[str]):
    result = CliRunner().invoke(cli, [*command, "--now", NOW_TEXT])
    assert result.exit_code == 2 and "No such option '--now'" in result.output


def test_authorize_with_a_clock_is_marked_as_replay(tmp_path: Path):
    audit = tmp_path / "audit.jsonl"
    CliRunner().invoke(
        cli,
        [
            "authorize",
            "--registry",
            str(DEMO_REGISTRY),
            "--now",
            NOW_TEXT,
            "--principal",
            "t.wang",
            "--camera",
            "CAM-LIB-01",
            "--at",
            "2026-11-18T14:30:00+08:00",
            "--audit-log",
            str(audit),
        ],
    )
    entry = audit.read_text().splitlines()[-1]
    assert '"replay":true' in entry and '"footage_at":"2026-11-18T06:30:00Z"' in entry


def test_one_planted_future_file_cannot_vouch_for_a_jumped_clock(nas: Path, tmp_path: Path):
    """A camera with a wrong clock, or a file planted a year ahead: the jumped clock agrees
    with it, but the rest of the target does not."""
    jumped = datetime(2027, 12, 1, tzinfo=UTC)
    planted = nas / LAYOUT.key("CAM-LIB-01", jumped - timedelta(hours=2), 7200)
    planted.parent.mkdir(parents=True)
    planted.write_text("x")
    before = footage_keys(nas)
    with pytest.raises(ClockDisagrees, match="2 of 3 cameras"):
        apply_at(DEMO_REGISTRY, {"nas-main": nas}, tmp_path / "audit.jsonl", jumped)
    assert footage_keys(nas) == before
    # At the right clock the planted file only makes CAM-LIB-01 suspect (issue #26): none of
    # its footage is deleted, the cameras that vouch for the clock are swept.
    _, report = apply_at(DEMO_REGISTRY, {"nas-main": nas}, tmp_path / "audit.jsonl", NOW)
    assert "CAM-LIB-01's clock is ahead" in report.clock_suspect["CAM-LIB-01"]
    after = footage_keys(nas)
    assert {k for k in before if k.startswith("CAM-LIB-01/")} <= after
    assert {k for k in before - after if not k.startswith("CAM-GATE-01/")} <= {
        k for k in before if k.startswith("CAM-CAN-03/")
    }
    assert before - after


def test_an_empty_folder_for_tomorrow_is_not_a_stopped_recording(nas: Path, tmp_path: Path):
    for camera in CAMERAS:
        (nas / camera / (NOW + timedelta(days=1)).strftime("%Y/%m/%d")).mkdir(parents=True)
    apply_at(DEMO_REGISTRY, {"nas-main": nas}, tmp_path / "audit.jsonl", NOW)


@needs_faketime
def test_extract_and_authorize_refuse_a_clock_that_went_back(tmp_path: Path):
    audit = tmp_path / "audit.jsonl"
    from cctv_policy.audit.log import AuditLog

    AuditLog(audit).append("apply_started", now=datetime.now(UTC).isoformat())
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "cctv_policy.cli",
            "authorize",
            "--registry",
            str(DEMO_REGISTRY),
            "--principal",
            "t.wang",
            "--camera",
            "CAM-LIB-01",
            "--at",
            "2026-11-18T14:30:00+08:00",
            "--audit-log",
            str(audit),
        ],
        capture_output=True,
        text=True,
        env=shifted_clock_env("-2d"),
    )
    assert result.returncode == 2 and "went backwards" in result.stderr, result.stderr
