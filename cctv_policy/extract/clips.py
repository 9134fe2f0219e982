"""One MP4 per camera holding exactly the approved window, cut with ffmpeg.

A camera's overlapping segments are staged (copied, hashed) into a private work folder on the
export target, probed with ffprobe, and each cut to its part of the window; the parts are
joined and re-encoded once (frame-exact at both ends, the watermark burned in if asked).
Files ffmpeg cannot read as video are handed over whole, and the manifest says so with the
reason; a camera with some readable and some unreadable segments, or a watermark that cannot
be burned in, is refused: never more than the window without saying so."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from cctv_policy.extract.errors import ExtractRefused, VideoToolsMissing
from cctv_policy.registry.types import format_utc
from cctv_policy.video import (
    Probe,
    VideoError,
    VideoTools,
    find_font,
    find_tools,
    looks_like_video,
    packet_times,
    probe,
    run_tool,
)
from storage_backends.base import Backend, Segment
from storage_backends.fdtree import DirectoryWalker

HEAD_BYTES = 512
CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
UNREADABLE = "ffmpeg cannot read these files as video, so they cannot be cut"


def require_tools() -> VideoTools:
    tools = find_tools()
    if tools is None:
        raise VideoToolsMissing(
            "ffmpeg and ffprobe are needed to cut the approved window out of the footage "
            "and are not installed (Debian: apt-get install ffmpeg); extraction never "
            "hands over whole segments instead"
        )
    return tools


@dataclass(frozen=True)
class CutOptions:
    tools: VideoTools
    start: datetime
    end: datetime
    watermark: str | None = None  # the text burned into every frame, when asked


@dataclass(frozen=True)
class Staged:
    """A segment copied into the work folder, with its hash and what ffprobe read in it."""

    target: str
    segment: Segment
    name: str  # in the work folder
    sha256: str
    size: int
    video: Probe | None
    head: bytes  # the first bytes, to tell a damaged video from a file that is none


@dataclass(frozen=True)
class Piece:
    staged: Staged
    start: datetime  # the wall time of the piece's first instant
    offset: float  # seconds into the segment
    length: float


@dataclass
class CameraFiles:
    """What one camera contributes to the package: its files' manifest entries and how."""

    files: list[dict[str, object]] = field(default_factory=list)
    method: dict[str, str] = field(default_factory=dict)


def stage(
    backend: Backend, target: str, segment: Segment, work_fd: int, tools: VideoTools, index: int
) -> Staged:
    """Copy one segment into the work folder (hashing it) and probe the copy: what is cut is
    exactly what was hashed."""
    name = f"{index:06d}.src"
    digest, size, head = hashlib.sha256(), 0, b""
    out = os.open(name, CREATE, 0o600, dir_fd=work_fd)
    with backend.open(segment.key) as source, os.fdopen(out, "wb") as copy:
        for block in iter(lambda: source.read(1 << 20), b""):
            digest.update(block)
            copy.write(block)
            head = head or block[:HEAD_BYTES]
            size += len(block)
    video = probe(tools, _fd_path(work_fd, name))
    return Staged(target, segment, name, digest.hexdigest(), size, video, head)


def check_reachable(work_fd: int) -> None:
    """ffmpeg reads the staged files through /proc; without it every file would look
    unreadable and go out whole."""
    if not os.path.isdir(_fd_path(work_fd, "")):
        raise ExtractRefused(
            "/proc is not mounted, so ffmpeg cannot read the staged footage; "
            "extraction needs it to cut the window"
        )


def _fd_path(dir_fd: int, name: str) -> str:
    """A path by which ffmpeg opens a file through our directory descriptor (/proc/PID/fd),
    never through a folder path someone else could swap for a link."""
    return f"/proc/{os.getpid()}/fd/{dir_fd}/{name}"


def package_camera(
    camera: str, staged: list[Staged], options: CutOptions, work_fd: int, sink: DirectoryWalker
) -> CameraFiles:
    if not staged:
        return CameraFiles([], {"method": "none", "reason": "no footage in the window"})
    damaged = [s.segment.key for s in staged if s.video is None and looks_like_video(s.head)]
    if damaged:
        raise ExtractRefused(
            f"ffmpeg cannot read {', '.join(damaged)} of {camera} although it looks like "
            "video (damaged, or still being written): it is never handed over whole; "
            "wait for the recorder or repair it (keep a copy), then extract"
        )
    unreadable = [s.segment.key for s in staged if s.video is None]
    if len(unreadable) == len(staged):
        if options.watermark:
            raise ExtractRefused(
                f"the approval requires a watermark, but ffmpeg cannot read {camera}'s "
                f"footage ({', '.join(unreadable)}), so none can be burned in"
            )
        files = [_hand_over_whole(s, options, work_fd, sink) for s in staged]
        return CameraFiles(files, {"method": "whole-segments", "reason": UNREADABLE})
    if unreadable:
        raise ExtractRefused(
            f"ffmpeg cannot read some of {camera}'s segments ({', '.join(unreadable)}) "
            "while it reads the others: repair or remove them (keep a copy), then extract"
        )
    entry = _cut(camera, staged, options, work_fd, sink)
    return CameraFiles([entry], {"method": "cut"})


def _hand_over_whole(
    staged: Staged, options: CutOptions, work_fd: int, sink: DirectoryWalker
) -> dict[str, object]:
    directory, _, filename = staged.segment.key.rpartition("/")
    os.rename(staged.name, filename, src_dir_fd=work_fd, dst_dir_fd=sink.open(directory))
    segment = staged.segment
    entry: dict[str, object] = {
        "path": segment.key,
        "sha256": staged.sha256,
        "size": staged.size,
        "camera": segment.camera,
        "start": format_utc(segment.start),
        "end": format_utc(segment.end),
        "source": staged.target,
        "method": "whole-segments",
    }
    before = max(0.0, (options.start - segment.start).total_seconds())
    after = max(0.0, (segment.end - options.end).total_seconds())
    if before + after:
        # A whole file that straddles the window carries footage the approval did not name.
        entry["outside_window_seconds"] = int(before + after)
    return entry


def pieces(staged: list[Staged], start: datetime, end: datetime) -> list[Piece]:
    """Each segment's part of [start, end): never past the segment's named end (the next
    segment's footage) nor past what the file really holds, and never again what an earlier
    segment already gave (overlapping recordings are not shown twice)."""
    found: list[Piece] = []
    for item in sorted(staged, key=lambda s: s.segment.start):
        assert item.video is not None
        segment = item.segment
        begin = max(start, segment.start)
        if found:
            begin = max(begin, found[-1].start + timedelta(seconds=found[-1].length))
        stop = min(end, segment.end, segment.start + timedelta(seconds=item.video.duration))
        length = (stop - begin).total_seconds()
        if length > 0:
            offset = (begin - segment.start).total_seconds()
            found.append(Piece(item, begin, offset, length))
    return found


def _cut(
    camera: str, staged: list[Staged], options: CutOptions, work_fd: int, sink: DirectoryWalker
) -> dict[str, object]:
    parts = pieces(staged, options.start, options.end)
    if not parts:
        raise ExtractRefused(f"{camera}'s segments hold no frames inside the window")
    name = f"{camera}_{options.start:%Y%m%dT%H%M%SZ}_{options.end:%Y%m%dT%H%M%SZ}.mp4"
    command = _cut_command(parts, options, work_fd, "clip.mp4")
    try:
        run_tool(command, f"cutting {camera}'s clip")
        measured = probe(options.tools, _fd_path(work_fd, "clip.mp4"))
        first, last = packet_times(options.tools, _fd_path(work_fd, "clip.mp4"))
    except VideoError as exc:
        raise ExtractRefused(f"ffmpeg could not cut {camera}'s clip: {exc}") from exc
    if measured is None:
        raise ExtractRefused(f"ffprobe cannot read the clip cut for {camera}")
    os.rename("clip.mp4", name, src_dir_fd=work_fd, dst_dir_fd=sink.open(camera))
    sha256, size = _hash_at(sink.open(camera), name)
    entry: dict[str, object] = {
        "path": f"{camera}/{name}",
        "sha256": sha256,
        "size": size,
        "camera": camera,
        "start": format_utc(parts[0].start),
        "end": format_utc(parts[-1].start + timedelta(seconds=parts[-1].length)),
        "source": parts[0].staged.target,
        "method": "cut",
        "window": {"from": format_utc(options.start), "to": format_utc(options.end)},
        "duration_seconds": round(measured.duration, 3),
        "first_frame": _precise(wall_time(parts, first)),
        "last_frame": _precise(wall_time(parts, last)),
        "segments": [_piece_entry(p) for p in parts],
    }
    if options.watermark:
        entry["watermark"] = options.watermark
    return entry


def _cut_command(parts: list[Piece], options: CutOptions, work_fd: int, output: str) -> list[str]:
    command = [options.tools.ffmpeg, "-nostdin", "-v", "error", "-y"]
    for part in parts:
        command += ["-ss", f"{part.offset:.3f}", "-t", f"{part.length:.3f}"]
        command += ["-i", _fd_path(work_fd, part.staged.name)]
    inputs = "".join(f"[{i}:v:0]" for i in range(len(parts)))
    graph = f"{inputs}concat=n={len(parts)}:v=1:a=0[joined]"
    last = "joined"
    if options.watermark:
        graph += ";[joined]" + _drawtext(parts, options.watermark, work_fd) + "[marked]"
        last = "marked"
    command += ["-filter_complex", graph, "-map", f"[{last}]", "-an"]
    command += ["-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p"]
    return [*command, "-movflags", "+faststart", _fd_path(work_fd, output)]


def _drawtext(parts: list[Piece], text: str, work_fd: int) -> str:
    """The watermark filter; the text goes through a file, so nothing in it (names from the
    registry) is ever parsed as filter syntax."""
    font = find_font()
    if font is None:
        raise ExtractRefused(
            "the approval requires a watermark and no font is installed to draw it "
            "(Debian: apt-get install fonts-dejavu-core)"
        )
    fd = os.open("watermark.txt", CREATE, 0o600, dir_fd=work_fd)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text.replace("%", "%%"))
    height = parts[0].staged.video.height if parts[0].staged.video else 360
    size = max(10, height // 22)
    return (
        f"drawtext=fontfile={font}:textfile={_fd_path(work_fd, 'watermark.txt')}:"
        f"fontsize={size}:fontcolor=white:box=1:boxcolor=black@0.6:x=4:y=h-th-4"
    )


def wall_time(parts: list[Piece], clip_seconds: float) -> datetime:
    """The wall time of the frame `clip_seconds` into the joined clip."""
    elapsed = 0.0
    for part in parts:
        if clip_seconds < elapsed + part.length or part is parts[-1]:
            return part.start + timedelta(seconds=clip_seconds - elapsed)
        elapsed += part.length
    raise AssertionError("no pieces")


def _piece_entry(part: Piece) -> dict[str, object]:
    return {
        "path": part.staged.segment.key,
        "sha256": part.staged.sha256,
        "from": format_utc(part.start),
        "to": format_utc(part.start + timedelta(seconds=part.length)),
    }


def _precise(moment: datetime) -> str:
    return format_utc(moment)[:-1] + f".{moment.microsecond // 1000:03d}Z"


def _hash_at(dir_fd: int, name: str) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dir_fd)
    with os.fdopen(fd, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size
