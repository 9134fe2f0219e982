"""Recorder URLs -> the cameras and the span of footage they show, per storage target.

A target's `url_scheme` says how its footage is watched behind a reverse proxy:

- `frigate`: Frigate's recordings API and VOD (HLS) URLs, times in Unix seconds:
  /api/<cam>/start/<s>/end/<e>/clip.mp4 (and preview.gif, preview.mp4),
  /vod/[clip/]<cam>/start/<s>/end/<e>[/<playlist or segment>] (also under /api/vod/),
  /vod/<YYYY-MM>/<DD>/<HH>/<cam>[/<Area,City>][/<playlist or segment>] (one hour),
  /api/<cam>/recordings/<t>/snapshot.<ext> (one second), /api/<cam>/recordings[/summary]
  (a listing). HLS segment URLs carry their playlist's start and end: each segment request is
  decided on that span, again, when it is fetched.
- `mediamtx-playback`: /get?path=<cam>&start=<RFC 3339>&duration=<seconds or Go duration>
  [&format=fmp4|mp4], and /list?path=<cam> (a listing).
- `files`: the footage tree served as static files: <url_prefix><key of the target's layout>.

A listing shows what exists of a camera, not its footage; it is allowed to a person who holds
an approval of that camera in use now. Anything else a scheme cannot read is Unmappable: 403.
Cameras are named in URLs by their `recorder_name` (cameras.yaml), else by their id, and only
the cameras stored on that target count.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cctv_policy.authz.uri_safety import split_uri, strict_query
from cctv_policy.registry.loaded import LoadedRegistry
from storage_backends.layout import Layout

DEFAULT_PREFIX = {"files": "/recordings/", "frigate": "/", "mediamtx-playback": "/"}
Span = tuple[datetime, datetime]


class Unmappable(ValueError):
    """The URI is not one whose cameras and span the target's scheme can tell."""


@dataclass(frozen=True)
class Footage:
    cameras: tuple[str, ...]
    span: Span | None  # [start, end) in UTC; None: a listing of what exists
    what: str  # "clip", "vod", "file", "listing", ... (for the audit log)


@dataclass(frozen=True)
class ViewedTarget:
    id: str
    scheme: str
    prefix: str
    layout: Layout
    names: Mapping[str, str | None]  # recorder name -> camera id (None: two cameras share it)

    def camera(self, name: str) -> str:
        if name not in self.names:
            raise Unmappable(f"{name!r} names no camera stored on {self.id}")
        camera = self.names[name]
        if camera is None:
            raise Unmappable(f"{name!r} names more than one camera on {self.id}")
        return camera


def viewed_targets(registry: LoadedRegistry) -> dict[str, ViewedTarget]:
    """The approved targets that have a url_scheme, with their cameras' recorder names."""
    viewed = {}
    for target in registry.targets.values():
        if target.url_scheme is None or not target.approved:
            continue
        names: dict[str, str | None] = {}
        for camera in registry.cameras.values():
            if camera.storage == target.id:
                name = camera.recorder_name or camera.id
                names[name] = None if name in names else camera.id
        prefix = target.url_prefix or DEFAULT_PREFIX[target.url_scheme]
        viewed[target.id] = ViewedTarget(
            target.id, target.url_scheme, prefix, target.parsed_layout(), names
        )
    return viewed


def viewed_to_json(viewed: dict[str, ViewedTarget]) -> list[dict[str, Any]]:
    """The viewed targets as serve's registry check (a child process) hands them over."""
    return [
        {
            "id": t.id,
            "scheme": t.scheme,
            "prefix": t.prefix,
            "layout": t.layout.pattern,
            "timezone": t.layout.timezone,
            "names": dict(t.names),
        }
        for t in viewed.values()
    ]


def viewed_from_json(rows: list[dict[str, Any]]) -> dict[str, ViewedTarget]:
    return {
        row["id"]: ViewedTarget(
            str(row["id"]),
            str(row["scheme"]),
            str(row["prefix"]),
            Layout(str(row["layout"]), row["timezone"]),
            {str(k): v for k, v in dict(row["names"]).items()},
        )
        for row in rows
    }


def footage_of(target: ViewedTarget, uri: str, now: datetime) -> Footage:
    """What `uri` shows of the target's footage; AmbiguousUri or Unmappable otherwise."""
    path, query = split_uri(uri)
    if not path.startswith(target.prefix):
        raise Unmappable(f"the URI is not under {target.prefix}, where {target.id} is served")
    return READERS[target.scheme](target, path[len(target.prefix) :], query, now)


# Frigate ----------------------------------------------------------------------------------

_TS = r"[0-9]{1,11}(?:\.[0-9]{1,6})?"
_NAME = r"[A-Za-z0-9_-]{1,64}"
_HLS_FILE = r"[A-Za-z0-9_-]{1,64}\.(?:m3u8|m4s|mp4|ts|vtt|aac|m4a)"
_SPAN = rf"(?P<camera>{_NAME})/start/(?P<start>{_TS})/end/(?P<end>{_TS})"
_ZONE = r"[A-Za-z0-9_-]{1,32}(?:,[A-Za-z0-9_-]{1,32}){0,2}"
_FRIGATE = (
    ("clip", re.compile(rf"api/{_SPAN}/(?:clip\.mp4|preview\.gif|preview\.mp4)")),
    ("vod", re.compile(rf"(?:api/)?vod/(?:clip/)?{_SPAN}(?:/{_HLS_FILE})?")),
    (
        "snapshot",
        re.compile(
            rf"api/(?P<camera>{_NAME})/recordings/(?P<at>{_TS})/snapshot\.(?:png|jpg|jpeg|webp)"
        ),
    ),
    ("listing", re.compile(rf"api/(?P<camera>{_NAME})/recordings(?:/summary)?")),
    (
        "vod hour",
        re.compile(
            r"(?:api/)?vod/(?P<month>[0-9]{4}-[0-9]{2})/(?P<day>[0-9]{2})/(?P<hour>[0-9]{2})/"
            rf"(?P<camera>{_NAME})(?:/(?P<zone>{_ZONE}))?(?:/{_HLS_FILE})?"
        ),
    ),
)
_LISTING_QUERY = frozenset({"after", "before", "timezone"})


def _frigate(target: ViewedTarget, rest: str, query: str, now: datetime) -> Footage:
    for what, pattern in _FRIGATE:
        match = pattern.fullmatch(rest)
        if match is None:
            continue
        strict_query(query, _LISTING_QUERY if what == "listing" else frozenset())
        camera = target.camera(match["camera"])
        if what == "listing":
            return Footage((camera,), None, what)
        if what == "snapshot":
            at = _unix(match["at"], math.floor)
            return Footage((camera,), (at, at + timedelta(seconds=1)), what)
        if what == "vod hour":
            return Footage((camera,), _hour(match, now), what)
        span = (_unix(match["start"], math.floor), _unix(match["end"], math.ceil))
        if span[0] >= span[1]:
            raise Unmappable("the URL's end is not after its start")
        return Footage((camera,), span, what)
    raise Unmappable("not a Frigate recording, VOD, clip or snapshot URL")


def _unix(text: str, rounding: Callable[[Decimal], int]) -> datetime:
    """Unix seconds (Frigate's float), rounded outwards to whole seconds."""
    return datetime.fromtimestamp(rounding(Decimal(text)), UTC)


def _hour(match: re.Match[str], now: datetime) -> Span:
    """The hour a Frigate hour-VOD URL shows. Frigate takes the zone's offset of *now*, not of
    that day: the span covers both readings (and both of a repeated hour)."""
    year, month = (int(part) for part in match["month"].split("-"))
    try:
        written = datetime(year, month, int(match["day"]), int(match["hour"]))
    except ValueError as exc:
        raise Unmappable("the URL's date is not a date") from exc
    offsets = {timedelta(0)}
    if match["zone"]:
        try:
            zone = ZoneInfo(match["zone"].replace(",", "/"))
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise Unmappable(f"{match['zone']!r} is not a time zone") from exc
        readings = (written.replace(tzinfo=zone, fold=fold) for fold in (0, 1))
        offsets = {reading.utcoffset() or timedelta(0) for reading in readings}
        offsets.add(now.astimezone(zone).utcoffset() or timedelta(0))
    starts = [written.replace(tzinfo=UTC) - offset for offset in offsets]
    return min(starts), max(starts) + timedelta(hours=1)


# MediaMTX playback -------------------------------------------------------------------------

_RFC3339 = re.compile(
    r"(?P<base>[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2})(?:\.(?P<fraction>[0-9]{1,9}))?"
    r"(?P<zone>Z|[+-][0-9]{2}:[0-9]{2})"
)
_SECONDS = re.compile(r"[0-9]{1,9}(?:\.[0-9]{1,9})?")
_GO_DURATION = re.compile(r"(?:[0-9]{1,9}(?:\.[0-9]{1,9})?(?:ns|us|µs|ms|s|m|h))+")
_GO_UNIT = re.compile(r"([0-9.]+)(ns|us|µs|ms|s|m|h)")
_UNIT_NS = {"ns": 1, "us": 1000, "µs": 1000, "ms": 10**6, "s": 10**9, "m": 60 * 10**9}
_UNIT_NS["h"] = 3600 * 10**9


def _mediamtx(target: ViewedTarget, rest: str, query: str, now: datetime) -> Footage:
    if rest == "list":
        params = strict_query(query, frozenset({"path", "start", "end"}))
        return Footage((target.camera(_required(params, "path")),), None, "listing")
    if rest != "get":
        raise Unmappable("not a MediaMTX playback URL (/get or /list)")
    params = strict_query(query, frozenset({"path", "start", "duration", "format"}))
    if params.get("format", "fmp4") not in ("fmp4", "mp4"):
        raise Unmappable("format must be fmp4 or mp4")
    camera = target.camera(_required(params, "path"))
    return Footage((camera,), _playback_span(params), "recording")


def _required(params: Mapping[str, str], key: str) -> str:
    if not params.get(key):
        raise Unmappable(f"the URL has no {key}")
    return params[key]


def _playback_span(params: Mapping[str, str]) -> Span:
    """[start, start + duration), rounded outwards to whole seconds."""
    match = _RFC3339.fullmatch(_required(params, "start"))
    if match is None:
        raise Unmappable("start is not an RFC 3339 time with an offset")
    try:
        base = datetime.fromisoformat(match["base"] + match["zone"].replace("Z", "+00:00"))
    except ValueError as exc:
        raise Unmappable("start is not a real time") from exc
    fraction_ns = int((match["fraction"] or "0").ljust(9, "0"))
    length_ns = _duration_ns(_required(params, "duration"))
    if length_ns <= 0:
        raise Unmappable("the duration must be positive")
    end = base + timedelta(seconds=math.ceil(Decimal(fraction_ns + length_ns) / 10**9))
    return base.astimezone(UTC), end.astimezone(UTC)


def _duration_ns(text: str) -> int:
    """MediaMTX's duration: seconds (a decimal number), or a Go duration such as 1h2m3s."""
    if _SECONDS.fullmatch(text):
        return math.ceil(Decimal(text) * 10**9)
    if _GO_DURATION.fullmatch(text):
        return sum(
            math.ceil(Decimal(number) * _UNIT_NS[unit]) for number, unit in _GO_UNIT.findall(text)
        )
    raise Unmappable("duration is neither seconds nor a Go duration like 1h2m3s")


# A footage tree served as files ------------------------------------------------------------


def _files(target: ViewedTarget, rest: str, query: str, now: datetime) -> Footage:
    if query:
        raise Unmappable("a static footage file takes no query")
    parsed = target.layout.parse(rest)
    if parsed is None:
        raise Unmappable(f"not a footage file in the layout of {target.id}")
    name, start, seconds = parsed
    if target.layout.key(name, start, seconds) != rest:
        raise Unmappable("not the footage file's own name")
    # A local time that occurs twice is read as the later one: the earlier must be covered too.
    earliest = start - timedelta(seconds=target.layout.ambiguity(start))
    return Footage((target.camera(name),), (earliest, start + timedelta(seconds=seconds)), "file")


READERS: dict[str, Callable[[ViewedTarget, str, str, datetime], Footage]] = {
    "frigate": _frigate,
    "mediamtx-playback": _mediamtx,
    "files": _files,
}
