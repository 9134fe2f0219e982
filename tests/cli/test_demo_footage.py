"""`demo footage --real-video`: real MP4 segments for a window, placeholders elsewhere; the
default stays placeholders only (fast), and a missing ffmpeg is a clear error."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from cctv_policy.cli.main import cli
from cctv_policy.demo import RealVideo, write_footage
from cctv_policy.registry.types import parse_rfc3339
from cctv_policy.video import probe
from testing.helpers import DEMO_LAYOUT, DEMO_REGISTRY
from testing.video import read_clock, requires_ffmpeg, tools

NOW = "2026-11-16T12:00:00Z"


def _footage(root: Path, *extra: str, minutes: str = "1") -> list[str]:
    argv = ["demo", "footage", "--registry", str(DEMO_REGISTRY), "--root", str(root)]
    return [*argv, "--now", NOW, "--days", "1", "--segment-minutes", minutes, *extra]


def test_the_default_writes_placeholders_only(tmp_path: Path):
    result = CliRunner().invoke(cli, _footage(tmp_path, minutes="60"))
    assert result.exit_code == 0, result.output
    sizes = {p.stat().st_size for p in tmp_path.rglob("*.mp4")}
    assert max(sizes) < 100  # one line of text each


def test_real_video_without_ffmpeg_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    (tmp_path / "bin").mkdir()
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    result = CliRunner().invoke(cli, _footage(tmp_path / "nas", "--real-video"))
    assert result.exit_code == 2 and "needs ffmpeg" in result.output
    assert not (tmp_path / "nas").exists()


@requires_ffmpeg
def test_segments_in_the_window_are_real_video_with_their_own_clock(tmp_path: Path):
    now = parse_rfc3339(NOW)
    start = now - timedelta(minutes=3)
    real = RealVideo(tools(), start, start + timedelta(minutes=2))
    count = write_footage(
        tmp_path / "real", DEMO_LAYOUT, ["CAM-A"], now, days=1, segment_minutes=1, real=real
    )
    assert count == 24 * 60
    videos = sorted(p for p in (tmp_path / "real").rglob("*.mp4") if p.stat().st_size > 100)
    assert [p.name for p in videos] == ["20261116T115700Z_60s.mp4", "20261116T115800Z_60s.mp4"]
    assert read_clock(videos[1], start) == start + timedelta(minutes=1)
    assert abs(probe(tools(), str(videos[0])).duration - 60) < 0.01  # type: ignore[union-attr]


@requires_ffmpeg
@pytest.mark.slow
def test_demo_footage_real_video_through_the_cli(tmp_path: Path):
    window = ["--real-from", "2026-11-16T11:58:00Z", "--real-to", "2026-11-16T11:59:00Z"]
    result = CliRunner().invoke(cli, _footage(tmp_path, "--real-video", *window))
    assert result.exit_code == 0, result.output
    assert "real video 2026-11-16T11:58:00+00:00" in result.output
    real = [p for p in tmp_path.rglob("*T115800Z_60s.mp4")]
    assert len(real) == 20 and all(probe(tools(), str(p)) for p in real)  # nas-main's cameras
