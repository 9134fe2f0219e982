"""The clock sanity gate: before anything changes on storage, the clock must agree with the
evidence. A clock that jumped ahead (an NTP fault, a forged time) would make every segment look
expired and every protection look over; one that went back would re-open ended grants.

Evidence: the newest footage on each target (cameras record continuously, so "now" cannot be
much later than the newest segment, nor earlier than it), and the clock of the last apply in
the audit log (time does not run backwards between runs).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

# How far before the last apply's clock a new apply may start (clock adjustments by NTP slew).
ROLLBACK_MARGIN = timedelta(minutes=5)


class ClockDisagrees(Exception):
    """The clock and the evidence disagree beyond the tolerance; the message says which."""


def check_clock(
    now: datetime,
    newest: Mapping[str, Mapping[str, datetime]],
    last_apply: datetime | None,
    tolerance: timedelta,
) -> None:
    """Raise ClockDisagrees when `now` is not believable; return quietly when it is.

    `newest`: target -> camera -> end of the camera's newest segment. No camera's footage may
    lie in the future, and most cameras' newest footage must be recent: one camera (or one
    planted file) cannot vouch for a clock the rest of the target contradicts.
    """
    for target, cameras in sorted(newest.items()):
        ahead = sorted((end, camera) for camera, end in cameras.items() if end - now > tolerance)
        if ahead:
            end, camera = ahead[-1]
            raise ClockDisagrees(
                f"the clock says {now.isoformat()}, but footage of {camera} on {target} runs "
                f"until {end.isoformat()} ({_hours(end - now)} later): this machine's clock is "
                f"behind, or {camera}'s clock is ahead (or a file was planted there). Nothing "
                f"was changed. Check the clock (timedatectl) and {camera}"
            )
        ends = sorted(cameras.values())
        if not ends:
            continue
        typical = ends[(len(ends) - 1) // 2]  # the lower median: most cameras must agree
        if now - typical > tolerance:
            behind = sorted(c for c, end in cameras.items() if now - end > tolerance)
            raise ClockDisagrees(
                f"the clock says {now.isoformat()}, but on {target} the newest footage of "
                f"{len(behind)} of {len(ends)} cameras is more than {_hours(tolerance)} older "
                f"(for example {', '.join(behind[:5])}; typical newest footage ends "
                f"{typical.isoformat()}): either this machine's clock is ahead or recording "
                "stopped. Nothing was changed. Check the clock (timedatectl), then the cameras; "
                "if recording really stopped, raise config.clock_tolerance_hours for one run"
            )
    check_not_rewound(now, last_apply, "the last apply", "apply")


def check_not_rewound(now: datetime, logged: datetime | None, evidence: str, what: str) -> None:
    """The clock may not be earlier than a time the audit log recorded (`evidence`): that
    would re-open ended use periods, re-grant revoked footage, undo the order of events."""
    if logged is not None and now < logged - ROLLBACK_MARGIN:
        raise ClockDisagrees(
            f"the clock says {now.isoformat()}, earlier than {evidence} in the audit log "
            f"({logged.isoformat()}): the clock went backwards, so {what} is refused. "
            "Nothing was changed"
        )


def _hours(delta: timedelta) -> str:
    return f"{delta.total_seconds() / 3600:.1f} h"
