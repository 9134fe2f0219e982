"""Segment keys <-> (camera, start, duration), from a target's layout pattern.

The default pattern is `{camera}/{start:%Y/%m/%d}/{start:%Y%m%dT%H%M%SZ}_{seconds}s.mp4`.
Times come from the key, never from file mtimes. The pattern is compiled into one regular
expression: repeated time fields must agree (a file under 2026/11/18/ named 20261119T...Z does
not match), and anything that does not match is reported and never touched.

A layout must say which clock its times are on: a literal `Z` after the seconds (UTC), or the
target's `timezone` (an IANA zone such as Asia/Shanghai, for NVRs that name files in local
time). Local times are turned into UTC with the zone's rules: a time that occurs twice (the
hour clocks go back) is read as the later one, so footage is never deleted early; a time that
does not exist (the hour clocks skip) does not match and is never touched.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_FIELD = re.compile(r"\{(camera|seconds|start:([^}]*))\}")
# Numbers in keys are ASCII digits: `\d` also matches others (U+0663, fullwidth ones), which
# int() reads but which sort apart from ASCII ones, so a folder's names would not sort in
# time order. A key with such a digit is not footage: reported, never touched.
_DIRECTIVES = {
    "Y": r"[0-9]{4}",
    "m": r"[0-9]{2}",
    "d": r"[0-9]{2}",
    "H": r"[0-9]{2}",
    "M": r"[0-9]{2}",
    "S": r"[0-9]{2}",
}
_CAMERA = r"[A-Z0-9][A-Z0-9-]{0,63}"
# The time of day a segment starts, matched without a group where the day is already known.
_TIME_OF_DAY = {"H": r"(?:[01][0-9]|2[0-3])", "M": r"[0-5][0-9]", "S": r"[0-5][0-9]"}


class LayoutError(ValueError):
    """The pattern itself is unusable."""


@dataclass(frozen=True)
class Layout:
    pattern: str
    timezone: str | None = None
    _regex: re.Pattern[str] = field(init=False, repr=False, compare=False)
    _zone: ZoneInfo | None = field(init=False, repr=False, compare=False)
    _lines: re.Pattern[str] = field(init=False, repr=False, compare=False)
    # Each of H, M, S appears once and in that order: names that differ only in those fields
    # sort in time order, and need no check that two of them agree.
    _orderly: bool = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if "{camera}" not in self.pattern or "{seconds}" not in self.pattern:
            raise LayoutError(f"layout {self.pattern!r} must contain {{camera}} and {{seconds}}")
        if not self.pattern.startswith("{camera}/"):
            raise LayoutError(
                f"layout {self.pattern!r} must start with {{camera}}/ so that "
                "footage can be listed and sharded by camera"
            )
        used = set(re.findall(r"%(.)", self.pattern))
        if not {"Y", "m", "d", "H", "M", "S"} <= used:
            raise LayoutError(
                f"layout {self.pattern!r} must give the start to the second (%Y %m %d %H %M %S)"
            )
        if used - set(_DIRECTIVES):
            raise LayoutError(
                f"layout {self.pattern!r} uses unsupported directives "
                f"{sorted(used - set(_DIRECTIVES))}"
            )
        object.__setattr__(self, "_regex", re.compile(self._to_regex()))
        lines = self._to_regex().removeprefix("^").removesuffix(r"\Z")
        object.__setattr__(self, "_lines", re.compile(f"^{lines}$", re.MULTILINE))
        object.__setattr__(self, "_zone", self._clock())
        times = [code for code in re.findall(r"%(.)", self.pattern) if code in "HMS"]
        object.__setattr__(self, "_orderly", times == ["H", "M", "S"])

    @property
    def local_days(self) -> bool:
        """Day folders are local days (of a zone), not UTC days."""
        return self._zone is not None

    def _clock(self) -> ZoneInfo | None:
        """The zone local times are in, or None for UTC (a literal Z after the seconds)."""
        utc = any(re.search(r"%S[^%]*Z", fmt or "") for _, fmt in _FIELD.findall(self.pattern))
        if utc and self.timezone:
            raise LayoutError(
                f"layout {self.pattern!r} is in UTC (Z) but the target also sets "
                f"timezone {self.timezone!r}; remove one of them"
            )
        if utc:
            return None
        if not self.timezone:
            raise LayoutError(
                f"layout {self.pattern!r} does not say which clock its times are "
                "on: end the time with a literal Z (UTC), or give the target a "
                "`timezone:` such as Asia/Shanghai"
            )
        try:
            return ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise LayoutError(
                f"timezone {self.timezone!r} is not a time zone name like Asia/Shanghai"
            ) from exc

    def _to_regex(self) -> str:
        seen: set[str] = set()
        parts, last = [], 0
        for match in _FIELD.finditer(self.pattern):
            parts.append(re.escape(self.pattern[last : match.start()]))
            if match.group(1) == "camera":
                parts.append(f"(?P<camera>{_CAMERA})" if "camera" not in seen else "(?P=camera)")
                seen.add("camera")
            elif match.group(1) == "seconds":
                parts.append(r"(?P<seconds>[1-9][0-9]{0,5})")
            else:
                parts.append(self._time_regex(match.group(2), seen))
            last = match.end()
        parts.append(re.escape(self.pattern[last:]))
        return "^" + "".join(parts) + r"\Z"  # \Z: "$" would accept a trailing newline

    @staticmethod
    def _time_regex(fmt: str, seen: set[str]) -> str:
        out, i = [], 0
        while i < len(fmt):
            if fmt[i] == "%" and i + 1 < len(fmt):
                code = fmt[i + 1]
                out.append(f"(?P={code})" if code in seen else f"(?P<{code}>{_DIRECTIVES[code]})")
                seen.add(code)
                i += 2
            else:
                out.append(re.escape(fmt[i]))
                i += 1
        return "".join(out)

    def matches(self, key: str) -> bool:
        """The key has the layout's shape (cheaper than parse; no date check)."""
        return self._regex.match(key) is not None

    def day_ends(self, prefix: str, names: Sequence[str], camera: str) -> tuple[int, int] | None:
        """(earliest end, latest end) in seconds after the day's midnight of the segments a day
        folder's sorted names stand for, or None unless every name is a segment of `camera` on
        that day. All names are matched in one pass of a regular expression over their lines."""
        if not names:
            return 0, 0
        joined = "\n".join(names)
        if joined.count("\n") != len(names) - 1:
            return None  # a name with a line break in it
        return self._one_length_day(prefix, names, joined, camera) or self._any_lengths_day(
            prefix, names, camera
        )

    def _one_length_day(
        self, prefix: str, names: Sequence[str], joined: str, camera: str
    ) -> tuple[int, int] | None:
        """day_ends for the usual folder, whose segments all have the first one's length: the
        names are matched against the layout with the camera, the day and that length written
        in, so the match builds nothing per name (six times faster than _any_lengths_day on
        480 names), and the first and the last name are the earliest and the latest segment.
        None when that does not hold: _any_lengths_day decides."""
        if not self._orderly:
            return None
        first = self._regex.match(prefix + names[0])
        last = self._regex.match(prefix + names[-1])
        if first is None or last is None or first["camera"] != camera:
            return None
        known = {code: first[code] for code in ("Y", "m", "d", "seconds")} | {"camera": camera}
        head, rest = self._written_in(known)
        if not head.startswith(prefix):
            return None
        # Every line starts with the day's own text (the date), and what follows matches a
        # pattern without it, so one compiled pattern serves every day of the run (the re
        # module caches it); with the date written in, each day compiled its own.
        starts = "\n" + head[len(prefix) :]
        lines = "\n" + joined
        if lines.count(starts) != len(names):
            return None
        if re.fullmatch(f"(?:{rest}\n)*{rest}", lines.replace(starts, "\n")[1:]) is None:
            return None
        length = int(known["seconds"])
        ends = [int(m["H"]) * 3600 + int(m["M"]) * 60 + int(m["S"]) + length for m in (first, last)]
        return ends[0], ends[1]

    def _written_in(self, known: dict[str, str]) -> tuple[str, str]:
        """The pattern with the `known` fields written in: its text up to the first field
        still to match, and a regular expression (no groups) for the rest."""
        head: list[str] = []
        rest: list[str] = []

        def text(value: str) -> None:
            if rest:
                rest.append(re.escape(value))
            else:
                head.append(value)

        last = 0
        for match in _FIELD.finditer(self.pattern):
            text(self.pattern[last : match.start()])
            last = match.end()
            if match.group(1) in ("camera", "seconds"):
                text(known[match.group(1)])
                continue
            for literal, code in re.findall(r"([^%]*)(?:%(.))?", match.group(2)):
                text(literal)
                if code in known:
                    text(known[code])
                elif code:
                    rest.append(_TIME_OF_DAY[code])
        text(self.pattern[last:])
        return "".join(head), "".join(rest)

    def _any_lengths_day(
        self, prefix: str, names: Sequence[str], camera: str
    ) -> tuple[int, int] | None:
        """day_ends for any folder: every name's fields taken out by one pass of the layout's
        regular expression over the folder's keys, one per line."""
        rows = self._lines.findall("\n".join(prefix + name for name in names))
        if len(rows) != len(names):
            return None
        columns = list(zip(*rows, strict=True)) if isinstance(rows[0], tuple) else [rows]
        column = {name: columns[i - 1] for name, i in self._lines.groupindex.items()}
        if set(column["camera"]) != {camera} or max(column["H"]) > "23":
            return None
        if max(column["M"]) > "59" or max(column["S"]) > "59":
            return None
        lengths = set(column["seconds"])
        if len(lengths) == 1:  # one segment length (the usual): the first and last start decide
            starts = sorted(map("".join, zip(column["H"], column["M"], column["S"], strict=True)))
            length = int(lengths.pop())
            return _clock_seconds(starts[0]) + length, _clock_seconds(starts[-1]) + length
        ends = [
            int(h) * 3600 + int(m) * 60 + int(s) + int(n)
            for h, m, s, n in zip(
                column["H"], column["M"], column["S"], column["seconds"], strict=True
            )
        ]
        return min(ends), max(ends)

    def offsets_of(self, key: str, camera: str) -> tuple[int, int] | None:
        """(start in seconds after the local midnight of its day, length in seconds) of a key
        that has the layout's shape, names `camera` and a real time of day; else None. The
        pattern's repeated fields must agree, so a key under a day folder starts on that day.
        No date is built: this is how whole days are read cheaply."""
        match = self._regex.match(key)
        if match is None or match.group("camera") != camera:
            return None
        hour, minute, second = int(match["H"]), int(match["M"]), int(match["S"])
        if hour > 23 or minute > 59 or second > 59:
            return None
        return hour * 3600 + minute * 60 + second, int(match["seconds"])

    def day_bounds(self, day: date) -> tuple[datetime, datetime] | None:
        """[start, end) in UTC of a day folder's local day; None when the zone's offset changes
        that day (a skipped or repeated hour: such days are read segment by segment)."""
        zone = self._zone or UTC
        start = datetime(day.year, day.month, day.day, tzinfo=zone)
        end = start + timedelta(days=1)
        if start.utcoffset() != end.utcoffset():
            return None
        return start.astimezone(UTC), end.astimezone(UTC)

    def parse(self, key: str) -> tuple[str, datetime, int] | None:
        """(camera, start in UTC, seconds) for a key that matches, else None."""
        match = self._regex.match(key)
        if not match:
            return None
        g = match.groupdict()
        try:
            written = datetime(
                int(g["Y"]), int(g["m"]), int(g["d"]), int(g["H"]), int(g["M"]), int(g["S"])
            )
        except ValueError:
            return None  # e.g. 2026/02/30
        start = self._to_utc(written)
        if start is None:
            return None
        return g["camera"], start, int(g["seconds"])

    def _to_utc(self, written: datetime) -> datetime | None:
        zone: ZoneInfo | None = self._zone
        if zone is None:
            return written.replace(tzinfo=UTC)
        readings = [written.replace(tzinfo=zone, fold=fold).astimezone(UTC) for fold in (0, 1)]
        real = [r for r in readings if r.astimezone(zone).replace(tzinfo=None) == written]
        return max(real) if real else None  # twice: the later; never (skipped hour): no match

    def ambiguity(self, start: datetime) -> int:
        """Seconds by which a parsed start may really be earlier: a local time that occurs
        twice (clocks going back) is read as the later instant, safe for retention; whatever
        protects footage must also cover the earlier reading. 0 for UTC layouts."""
        zone: ZoneInfo | None = self._zone
        if zone is None:
            return 0
        written = start.astimezone(zone).replace(tzinfo=None)
        earlier = min(written.replace(tzinfo=zone, fold=fold).astimezone(UTC) for fold in (0, 1))
        return int((start - earlier).total_seconds())

    def key(self, camera: str, start: datetime, seconds: int) -> str:
        start = start.astimezone(self._zone or UTC)

        def render(match: re.Match[str]) -> str:
            if match.group(1) == "camera":
                return camera
            if match.group(1) == "seconds":
                return str(seconds)
            return start.strftime(match.group(2))

        return _FIELD.sub(render, self.pattern)

    def day_depth(self, camera: str) -> int | None:
        """How many folder levels a camera-day prefix has (CAM/2026/11/25/: 4), or None when
        the layout has no day level."""
        probe = self.day_prefix(camera, date(2000, 1, 1))
        return None if probe is None else probe.count("/")

    def day_prefix(self, camera: str, day: date) -> str | None:
        """The key prefix that holds exactly one camera-day, if the layout has one.

        It is the pattern rendered up to the first field finer than a day (hour, minute,
        second or duration), cut back to a '/'; it must contain the whole date.
        """
        moment = datetime(day.year, day.month, day.day, tzinfo=UTC)
        rendered, used = [], set()
        last = 0
        for match in _FIELD.finditer(self.pattern):
            rendered.append(self.pattern[last : match.start()])
            last = match.end()
            if match.group(1) == "camera":
                rendered.append(camera)
                continue
            fmt = match.group(2) or ""
            if match.group(1) == "seconds" or set(re.findall(r"%(.)", fmt)) & {"H", "M", "S"}:
                break
            used |= set(re.findall(r"%(.)", fmt))
            rendered.append(moment.strftime(fmt))
        text = "".join(rendered)
        prefix = text[: text.rfind("/") + 1]
        return prefix if {"Y", "m", "d"} <= used and prefix else None

    def parse_day_prefix(self, camera: str, prefix: str) -> date | None:
        """The day a day prefix stands for: read its numbers as Y, m, d (the only fields a day
        prefix has, in pattern order for every supported layout) and accept the date only if
        rendering it gives the same prefix back."""
        numbers = [int(n) for n in re.findall(r"[0-9]+", prefix[len(camera) :])]
        if len(numbers) != 3:
            return None
        try:
            candidate = date(*numbers)
        except ValueError:
            return None
        return candidate if self.day_prefix(camera, candidate) == prefix else None


def _clock_seconds(hhmmss: str) -> int:
    return int(hhmmss[:2]) * 3600 + int(hhmmss[2:4]) * 60 + int(hhmmss[4:6])
