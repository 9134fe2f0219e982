"""Extraction cuts the approved window out of real video: one MP4 per camera, its duration and
its first and last frames' own clock inside the window, the signed manifest saying what it
holds; footage ffmpeg cannot read is handed over whole and the manifest says so. Also: the
synthetic camera's clock, and a real nginx-rtmp recording."""

from __future__ import annotations

import json
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from cctv_policy.cli.main import cli
from cctv_policy.demo import write_footage
from cctv_policy.extract.clips import Staged, pieces, wall_time
from cctv_policy.registry.types import format_utc, parse_rfc3339
from cctv_policy.video import SYNTHETIC_SIZE, Probe, probe
from storage_backends.base import Segment
from testing.helpers import DEMO_LAYOUT
from testing.video import (
    nginx_rtmp,
    read_clock,
    record_segments,
    requires_ffmpeg,
    requires_nginx_rtmp,
    tools,
)
from testing.video_site import duration, extract, make_site, manifest, package, render, window

START, END = window("2026-11-16T08:00:00Z")


@pytest.fixture(scope="module")
def minute_segments(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("minutes") / "nas"
    return render(root, "CAM-SPT-01", "2026-11-16T07:59:00Z", 22, 60)


@requires_ffmpeg
def test_the_synthetic_camera_shows_its_own_time(tmp_path: Path):
    start = parse_rfc3339("2026-11-16T09:00:00Z")
    keys = record_segments(tmp_path, "CAM-X", start, 2, 60)
    assert keys == [
        "CAM-X/2026/11/16/20261116T090000Z_60s.mp4",
        "CAM-X/2026/11/16/20261116T090100Z_60s.mp4",
    ]
    second = tmp_path / keys[1]
    assert read_clock(second, start) == start + timedelta(minutes=1)
    assert read_clock(second, start, last=True) == start + timedelta(seconds=119.8)


def _verify(site: Path) -> int:
    argv = ["extract", "verify", str(package(site)), "--public-key", str(site / "key.pub")]
    return CliRunner().invoke(cli, argv).exit_code


@requires_ffmpeg
@pytest.mark.slow
def test_twenty_minutes_from_sixty_second_segments(tmp_path: Path, minute_segments: Path):
    site = make_site(tmp_path, minute_segments, START, END)
    code, output = extract(site)
    assert code == 0, output
    document = manifest(site)
    (entry,) = document["files"]
    clip = package(site) / entry["path"]
    assert abs(duration(clip) - 1200) <= 2
    first, last = read_clock(clip, START), read_clock(clip, START, last=True)
    assert first == START and last == END - timedelta(seconds=0.2)  # 5 frames a second
    assert entry["method"] == "cut" and document["methods"] == {
        "CAM-SPT-01": {"method": "cut"},
        "CAM-SPT-02": {"method": "none", "reason": "no footage in the window"},
    }
    assert entry["window"] == {"from": format_utc(START), "to": format_utc(END)}
    assert parse_rfc3339(entry["first_frame"]) == first
    assert parse_rfc3339(entry["last_frame"]) == last
    assert abs(entry["duration_seconds"] - duration(clip)) < 0.01
    sources = [s["path"] for s in entry["segments"]]
    assert len(sources) == 20 and "T075900Z" not in sources[0] and "T082000Z" not in sources[-1]
    assert _verify(site) == 0


def _gray(path: Path) -> bytes:
    command = [tools().ffmpeg, "-v", "error", "-i", str(path), "-frames:v", "1"]
    return subprocess.run(
        [*command, "-f", "rawvideo", "-pix_fmt", "gray", "-"], capture_output=True, check=True
    ).stdout


@requires_ffmpeg
@pytest.mark.slow
def test_the_watermark_is_burned_into_the_frames(tmp_path: Path, minute_segments: Path):
    site = make_site(tmp_path, minute_segments, START, END)
    code, output = extract(site, watermark=True)
    assert code == 0, output
    document = manifest(site)
    (entry,) = document["files"]
    assert document["watermark"] == entry["watermark"]
    assert entry["watermark"].startswith("REQ-2026-0038 for f.zhao, d.he\nextracted ")
    clip = package(site) / entry["path"]
    source = minute_segments / "CAM-SPT-01/2026/11/16/20261116T080000Z_60s.mp4"
    width, height = SYNTHETIC_SIZE
    marked, plain = _gray(clip), _gray(source)
    bottom = slice(width * (height - 24), width * height)
    changed = sum(abs(a - b) > 40 for a, b in zip(marked[bottom], plain[bottom], strict=True))
    assert changed > 500  # the text and its box, in the bottom rows
    assert read_clock(clip, START) == START  # the picture is otherwise the footage
    assert _verify(site) == 0


@requires_ffmpeg
def test_footage_ffmpeg_cannot_read_is_handed_over_whole_and_said_so(tmp_path: Path):
    placeholders = tmp_path / "placeholders"
    write_footage(placeholders, DEMO_LAYOUT, ["CAM-SPT-01"], END + timedelta(hours=2), days=1)
    site = make_site(tmp_path / "site", placeholders, START, END)
    code, output = extract(site)
    assert code == 0, output
    document = manifest(site)
    assert document["methods"]["CAM-SPT-01"] == {
        "method": "whole-segments",
        "reason": "ffmpeg cannot read these files as video, so they cannot be cut",
    }
    (entry,) = document["files"]  # the 08:00-10:00 placeholder, whole
    assert entry["method"] == "whole-segments" and entry["outside_window_seconds"] == 6000
    assert _verify(site) == 0


@requires_ffmpeg
def test_a_damaged_video_is_refused_not_handed_over_whole(tmp_path: Path):
    """A recording cut short (no index: ffprobe cannot read it) is still video: handing it
    over whole would give the recipient everything in it, so extraction refuses."""
    placeholders = tmp_path / "placeholders"
    write_footage(placeholders, DEMO_LAYOUT, ["CAM-SPT-01"], END + timedelta(hours=2), days=1)
    (real,) = record_segments(tmp_path / "real", "CAM-SPT-01", START, 1, 60)
    damaged = placeholders / "CAM-SPT-01/2026/11/16/20261116T080000Z_7200s.mp4"
    damaged.write_bytes((tmp_path / "real" / real).read_bytes()[:20000])
    assert probe(tools(), str(damaged)) is None
    site = make_site(tmp_path / "site", placeholders, START, END)
    code, output = extract(site)
    assert code == 1 and "looks like video" in output, output
    assert list((site / "exports").iterdir()) == []


@requires_ffmpeg
@pytest.mark.slow
def test_a_mix_of_readable_and_unreadable_segments_is_refused(
    tmp_path: Path, minute_segments: Path
):
    site = make_site(tmp_path, minute_segments, START, END)
    (site / "nas/CAM-SPT-01/2026/11/16/20261116T081000Z_60s.mp4").write_bytes(b"not video\n")
    code, output = extract(site)
    assert code == 1 and "20261116T081000Z_60s.mp4" in output, output
    assert list((site / "exports").iterdir()) == []
    events = [json.loads(line)["event"] for line in (site / "audit.jsonl").read_text().splitlines()]
    assert events[-1] == "extract_refused"


@requires_ffmpeg
@requires_nginx_rtmp
@pytest.mark.slow
def test_nginx_rtmp_records_real_flv_files(tmp_path: Path):
    with nginx_rtmp(tmp_path / "nginx", record_interval=5) as recorder:
        recorder.publish("gate_east", 12)
    recorded = sorted(recorder.record_dir.iterdir())
    names = [p.name for p in recorded]
    assert all(n.startswith("gate_east-") and n.endswith(".flv") for n in names), names
    readable = [p for p in recorded if probe(tools(), str(p)) is not None]
    assert len(readable) >= 2, names  # 12 s in 5 s files; the last may be a bare header
    assert sum(probe(tools(), str(p)).duration for p in readable) >= 9  # type: ignore[union-attr]


def test_pieces_never_leave_the_window_nor_repeat_footage():
    """Pure arithmetic, no ffmpeg: a file shorter than its name says, and a segment that
    overlaps the one before it, give pieces that stay inside the window, in time order."""

    def staged(start: str, seconds: int, really: float) -> Staged:
        segment = Segment("CAM-X", parse_rfc3339(start), seconds, f"CAM-X/{start}.mp4")
        video = Probe(really, 320, 180, "h264")
        return Staged("nas-main", segment, start, "0" * 64, 1, video, b"")

    items = [
        staged("2026-11-16T08:10:00Z", 600, 600.0),
        staged("2026-11-16T08:00:00Z", 600, 590.0),  # ten seconds short of its name
        staged("2026-11-16T08:19:30Z", 600, 600.0),  # starts before the 08:10 one ends
    ]
    found = pieces(items, START, START + timedelta(minutes=25))
    spans = [(p.start, p.start + timedelta(seconds=p.length), p.offset) for p in found]
    at = parse_rfc3339
    assert spans == [
        (at("2026-11-16T08:00:00Z"), at("2026-11-16T08:09:50Z"), 0.0),
        (at("2026-11-16T08:10:00Z"), at("2026-11-16T08:20:00Z"), 0.0),
        (at("2026-11-16T08:20:00Z"), at("2026-11-16T08:25:00Z"), 30.0),
    ]
    assert wall_time(found, 590.0) == at("2026-11-16T08:10:00Z")  # the gap is not in the clip
