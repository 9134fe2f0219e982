"""ffmpeg and ffprobe: finding them, probing a file, and a synthetic camera with a clock.

Shared by extraction (which cuts clips) and the demo (which writes real footage). Every call
runs the real tools as subprocesses with argument lists (never a shell)."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",  # Debian fonts-dejavu-core
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
)
# The synthetic camera: small and slow, so tests render minutes of footage in seconds.
SYNTHETIC_SIZE = (320, 180)
SYNTHETIC_FPS = 5
SYNTHETIC_GOP_SECONDS = 2
# A machine-readable clock in the top rows: bit i of the frame count (mod 2**CLOCK_BITS,
# counted from the Unix epoch at SYNTHETIC_FPS) is block i, black or white, CLOCK_BLOCK px wide.
CLOCK_BITS = 20
CLOCK_BLOCK = 16
PROBE_TIMEOUT = 120


class VideoError(Exception):
    """ffmpeg or ffprobe failed; the message says what on which file."""


@dataclass(frozen=True)
class VideoTools:
    ffmpeg: str
    ffprobe: str


@dataclass(frozen=True)
class Probe:
    """What ffprobe reads in a file: its first video stream and the container's duration."""

    duration: float
    width: int
    height: int
    codec: str


def find_tools() -> VideoTools | None:
    """ffmpeg and ffprobe on PATH, or None when either is missing."""
    ffmpeg, ffprobe = shutil.which("ffmpeg"), shutil.which("ffprobe")
    return VideoTools(ffmpeg, ffprobe) if ffmpeg and ffprobe else None


def find_font() -> str | None:
    return next((font for font in FONT_CANDIDATES if Path(font).is_file()), None)


def run_tool(command: list[str], what: str, timeout: float | None = None) -> str:
    """Run ffmpeg/ffprobe; its stdout, or VideoError with the last line it printed."""
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise VideoError(f"{what}: {exc}") from exc
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise VideoError(f"{what}: {last}")
    return done.stdout


def probe(tools: VideoTools, path: str) -> Probe | None:
    """The file's first video stream and duration, or None when ffprobe cannot read it as
    video (not a video file, truncated, no video stream, no duration)."""
    command = [tools.ffprobe, "-v", "error", "-select_streams", "v:0", "-show_entries"]
    command += ["stream=codec_name,width,height:format=duration", "-of", "json", path]
    try:
        found = json.loads(run_tool(command, f"ffprobe {path}", PROBE_TIMEOUT))
        stream = found["streams"][0]
        duration = float(found["format"]["duration"])
        return Probe(duration, int(stream["width"]), int(stream["height"]), stream["codec_name"])
    except (VideoError, ValueError, KeyError, IndexError, TypeError):
        return None


MP4_BOXES = (b"ftyp", b"moov", b"mdat", b"free", b"wide", b"skip", b"styp")
VIDEO_MAGIC = (
    b"FLV",  # Flash video (nginx-rtmp)
    b"\x1a\x45\xdf\xa3",  # Matroska, WebM
    b"\x00\x00\x01\xba",  # MPEG program stream
    b"\x00\x00\x00\x01",  # raw H.264/H.265 (Annex B)
    b"IMKH",  # Hikvision export header
    b"DHAV",  # Dahua
)


def looks_like_video(head: bytes) -> bool:
    """The first bytes of a file are those of a known video container or stream (read
    without ffmpeg). A file that looks like video but that ffprobe cannot read is damaged or
    still being written, not "not video"."""
    if head[4:8] in MP4_BOXES or head.startswith(VIDEO_MAGIC):
        return True
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return True
    return len(head) > 188 and head[0] == 0x47 and head[188] == 0x47  # MPEG-TS packets


def packet_times(tools: VideoTools, path: str) -> tuple[float, float]:
    """The first and last video presentation time in the file, in seconds (read from the
    packets: no decoding, so fast on long clips)."""
    command = [tools.ffprobe, "-v", "error", "-select_streams", "v:0", "-show_entries"]
    command += ["packet=pts_time", "-of", "csv=p=0", path]
    times = [float(line) for line in run_tool(command, f"ffprobe {path}").split() if line]
    if not times:
        raise VideoError(f"ffprobe {path}: no video packets")
    return min(times), max(times)


def clock_value(moment: datetime) -> int:
    """The frame count the synthetic camera's bit strip shows at `moment`."""
    return round(moment.timestamp() * SYNTHETIC_FPS) % (1 << CLOCK_BITS)


def synthetic_source(label: str, start: datetime, seconds: int) -> list[str]:
    """ffmpeg input and filter arguments for a synthetic camera: `testsrc2` with the label and
    each frame's own UTC time burned in (drawtext), and the bit-strip clock on top."""
    font = find_font()
    if font is None:
        raise VideoError("no font for drawtext (install fonts-dejavu-core)")
    width, height = SYNTHETIC_SIZE
    rate = SYNTHETIC_FPS
    base = clock_value(start)
    bits = (
        f"color=black:s={width}x{CLOCK_BLOCK}:r={rate}:d={seconds},format=gray,"
        f"geq=lum='255*mod(floor(({base}+N)/pow(2\\,floor(X/{CLOCK_BLOCK})))\\,2)'"
    )
    epoch = int(start.timestamp())
    clock = f"%{{pts\\:gmtime\\:{epoch}\\:%Y-%m-%d %H\\\\\\:%M\\\\\\:%S}}"
    text = (
        f"drawtext=fontfile={font}:fontsize=14:fontcolor=white:box=1:boxcolor=black:"
        f"x=4:y={CLOCK_BLOCK + 8}:text='{_escape_text(label)} {clock}Z'"
    )
    return [
        "-f",
        "lavfi",
        "-i",
        f"testsrc2=s={width}x{height}:r={rate}:d={seconds}",
        "-f",
        "lavfi",
        "-i",
        bits,
        "-filter_complex",
        f"[0:v][1:v]overlay=0:0,{text}",
    ]


def _escape_text(text: str) -> str:
    """A label safe inside drawtext's quoted text (letters, digits and - _ . only)."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in text)


def encode_args(gop_seconds: int = SYNTHETIC_GOP_SECONDS) -> list[str]:
    frames = str(gop_seconds * SYNTHETIC_FPS)
    return [
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-crf",
        "40",
        "-pix_fmt",
        "yuv420p",
        "-g",
        frames,
    ]


def render_segments(
    tools: VideoTools,
    directory: Path,
    label: str,
    start: datetime,
    seconds: int,
    segment_seconds: int,
) -> list[tuple[Path, datetime, float]]:
    """Render `seconds` of the synthetic camera from `start` (faster than real time) into MP4
    segments of `segment_seconds` in `directory`, as ffmpeg's segment muxer writes them.
    Returns (file, start, measured duration) per segment; each segment's start is the
    burned-in clock's time of its first frame."""
    directory.mkdir(parents=True, exist_ok=True)
    pattern = directory / "segment-%06d.mp4"
    command = [tools.ffmpeg, "-nostdin", "-v", "error", "-y"]
    command += synthetic_source(label, start, seconds) + encode_args()
    command += ["-f", "segment", "-segment_time", str(segment_seconds)]
    command += ["-reset_timestamps", "1", str(pattern)]
    run_tool(command, f"ffmpeg rendering {label}")
    found, moment = [], start
    for path in sorted(directory.glob("segment-*.mp4")):
        info = probe(tools, str(path))
        if info is None:
            raise VideoError(f"ffprobe cannot read the segment {path} just rendered")
        found.append((path, moment, info.duration))
        moment += timedelta(seconds=info.duration)
    return found
