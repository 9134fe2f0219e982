"""Round 3, extraction: an approved window of 20 minutes hands over 20 minutes, not the
segments around it. Real MP4 segments (ffmpeg's segment muxer, a synthetic camera whose
frames carry their own time), real ffmpeg cutting, the real `extract verify`."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from cctv_policy.cli.main import cli
from cctv_policy.demo import write_footage
from testing.helpers import DEMO_LAYOUT
from testing.video import read_clock, requires_ffmpeg
from testing.video_site import duration, extract, make_site, manifest, package, render, window

pytestmark = [requires_ffmpeg, pytest.mark.slow]

# Ends mid-segment: the 08:20 segment runs on to 08:30, the 08:00 one started before.
START, END = window("2026-11-16T08:03:30Z")


@pytest.fixture(scope="module")
def footage(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Ten-minute segments 07:50-08:30 of the approved camera, and of a camera the approval
    does not name over the same time."""
    root = tmp_path_factory.mktemp("footage") / "nas"
    render(root, "CAM-SPT-01", "2026-11-16T07:50:00Z", 40, 600)
    render(root, "CAM-GYM-01", "2026-11-16T08:00:00Z", 10, 600)
    return root


def _clips(site: Path) -> list[Path]:
    return sorted(package(site).rglob("*.mp4"))


def test_a_window_ending_mid_segment_hands_over_only_the_window(tmp_path: Path, footage: Path):
    site = make_site(tmp_path, footage, START, END)
    code, output = extract(site)
    assert code == 0, output
    (clip,) = _clips(site)  # one clip for the one camera with footage, nothing else
    assert "CAM-SPT-01" in clip.name
    # Whole segments would be 08:00-08:30 (30 minutes): the clip is the approved 20.
    assert abs(duration(clip) - 1200) <= 2
    first, last = read_clock(clip, START), read_clock(clip, START, last=True)
    assert abs((first - START).total_seconds()) <= 2, first
    assert abs((last - END).total_seconds()) <= 2, last
    assert first >= START and last < END
    listed = json.dumps(manifest(site))
    assert "T075000Z" not in listed  # the segment before the window was never read
    assert "CAM-GYM-01" not in listed  # a camera the approval does not name


def test_one_changed_byte_of_a_clip_fails_verify(tmp_path: Path, footage: Path):
    site = make_site(tmp_path, footage, START, END)
    assert extract(site)[0] == 0
    verify = ["extract", "verify", str(package(site)), "--public-key", str(site / "key.pub")]
    intact = CliRunner().invoke(cli, verify)
    assert intact.exit_code == 0, intact.output
    (clip,) = _clips(site)
    data = bytearray(clip.read_bytes())
    data[len(data) // 2] ^= 0x01
    clip.write_bytes(bytes(data))
    tampered = CliRunner().invoke(cli, verify)
    assert tampered.exit_code == 1 and "differs from the manifest" in tampered.output


def test_without_ffmpeg_extraction_refuses_and_copies_nothing(
    tmp_path: Path, footage: Path, monkeypatch: pytest.MonkeyPatch
):
    site = make_site(tmp_path, footage, START, END)
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    code, output = extract(site, skip=False)
    assert code == 2 and "ffmpeg" in output, output
    assert list((site / "exports").iterdir()) == []


def test_a_watermark_condition_that_cannot_be_burned_in_refuses(tmp_path: Path, footage: Path):
    """Placeholder files cannot carry a watermark: the condition is never dropped silently."""
    site = make_site(tmp_path, footage, START, END, watermark=True)
    later = END + timedelta(hours=2)
    write_footage(site / "nas", DEMO_LAYOUT, ["CAM-SPT-02"], later, days=1, segment_minutes=60)
    code, output = extract(site)
    assert code == 1 and "watermark" in output, output
    assert list((site / "exports").iterdir()) == []
