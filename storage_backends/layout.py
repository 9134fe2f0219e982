"""Segment keys <-> (camera, start, duration), from a target's layout pattern.

The default pattern is `{camera}/{start:%Y/%m/%d}/{start:%Y%m%dT%H%M%SZ}_{seconds}s.mp4`.
Times come from the key, never from file mtimes. The pattern is compiled into one regular
expression: repeated time fields must agree (a file under 2026/11/18/ named 20261119T...Z does
not match), and anything that does not match is reported and never touched.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

_FIELD = re.compile(r"\{(camera|seconds|start:([^}]*))\}")
_DIRECTIVES = {"Y": r"\d{4}", "m": r"\d{2}", "d": r"\d{2}", "H": r"\d{2}", "M": r"\d{2}",
               "S": r"\d{2}"}
_CAMERA = r"[A-Z0-9][A-Z0-9-]{0,63}"


class LayoutError(ValueError):
    """The pattern itself is unusable."""


@dataclass(frozen=True)
class Layout:
    pattern: str

    def __post_init__(self) -> None:
        if "{camera}" not in self.pattern or "{seconds}" not in self.pattern:
            raise LayoutError(f"layout {self.pattern!r} must contain {{camera}} and {{seconds}}")
        if not self.pattern.startswith("{camera}/"):
            raise LayoutError(f"layout {self.pattern!r} must start with {{camera}}/ so that "
                              "footage can be listed and sharded by camera")
        used = set(re.findall(r"%(.)", self.pattern))
        if not {"Y", "m", "d", "H", "M", "S"} <= used:
            raise LayoutError(f"layout {self.pattern!r} must give the start to the second "
                              "(%Y %m %d %H %M %S)")
        if used - set(_DIRECTIVES):
            raise LayoutError(f"layout {self.pattern!r} uses unsupported directives "
                              f"{sorted(used - set(_DIRECTIVES))}")
        object.__setattr__(self, "_regex", re.compile(self._to_regex()))

    def _to_regex(self) -> str:
        seen: set[str] = set()
        parts, last = [], 0
        for match in _FIELD.finditer(self.pattern):
            parts.append(re.escape(self.pattern[last:match.start()]))
            if match.group(1) == "camera":
                parts.append(f"(?P<camera>{_CAMERA})" if "camera" not in seen else "(?P=camera)")
                seen.add("camera")
            elif match.group(1) == "seconds":
                parts.append(r"(?P<seconds>[1-9]\d{0,5})")
            else:
                parts.append(self._time_regex(match.group(2), seen))
            last = match.end()
        parts.append(re.escape(self.pattern[last:]))
        return "^" + "".join(parts) + "$"

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
        return self._regex.match(key) is not None  # type: ignore[attr-defined]

    def parse(self, key: str) -> tuple[str, datetime, int] | None:
        """(camera, start in UTC, seconds) for a key that matches, else None."""
        match = self._regex.match(key)  # type: ignore[attr-defined]
        if not match:
            return None
        g = match.groupdict()
        try:
            start = datetime(int(g["Y"]), int(g["m"]), int(g["d"]), int(g["H"]), int(g["M"]),
                             int(g["S"]), tzinfo=UTC)
        except ValueError:
            return None  # e.g. 2026/02/30
        return g["camera"], start, int(g["seconds"])

    def key(self, camera: str, start: datetime, seconds: int) -> str:
        start = start.astimezone(UTC)

        def render(match: re.Match[str]) -> str:
            if match.group(1) == "camera":
                return camera
            if match.group(1) == "seconds":
                return str(seconds)
            return start.strftime(match.group(2))

        return _FIELD.sub(render, self.pattern)

    def day_prefix(self, camera: str, day: date) -> str | None:
        """The key prefix that holds exactly one camera-day, if the layout has one.

        It is the pattern rendered up to the first field finer than a day (hour, minute,
        second or duration), cut back to a '/'; it must contain the whole date.
        """
        moment = datetime(day.year, day.month, day.day, tzinfo=UTC)
        rendered, used = [], set()
        last = 0
        for match in _FIELD.finditer(self.pattern):
            rendered.append(self.pattern[last:match.start()])
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
        numbers = [int(n) for n in re.findall(r"\d+", prefix[len(camera):])]
        if len(numbers) != 3:
            return None
        try:
            candidate = date(*numbers)
        except ValueError:
            return None
        return candidate if self.day_prefix(camera, candidate) == prefix else None

    def camera_prefix(self, camera: str) -> str:
        return f"{camera}/"
