"""The clock sanity gate: before anything changes on storage, the clock must agree with the
evidence. A clock that jumped ahead (an NTP fault, a forged time) would make every segment look
expired and every protection look over; one that went back would re-open ended grants.

Evidence: the newest footage on each target (cameras record continuously, so "now" cannot be
much later than the newest segment, nor earlier than it), and the clock of the last apply in
the audit log (time does not run backwards between runs).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

# How far before the last apply's clock a new apply may start (clock adjustments by NTP slew).
ROLLBACK_MARGIN = timedelta(minutes=5)


class ClockDisagrees(Exception):
    """The clock and the evidence disagree beyond the tolerance; the message says which."""


@dataclass
class ClockVerdict:
    """What the evidence allows. `refused`: the clock itself is not believable, so only holds
    and revokes happen (they only ever keep more or give less). `suspect`: camera -> why none
    of its footage is deleted (its newest footage lies in the future: its recorder's clock is
    ahead, or a file was planted), while the other cameras vouch for this machine's clock."""

    refused: str | None = None
    suspect: dict[str, str] = field(default_factory=dict)


def assess_clock(
    now: datetime,
    newest: Mapping[str, Mapping[str, datetime]],
    last_apply: datetime | None,
    tolerance: timedelta,
) -> ClockVerdict:
    """`newest`: target -> camera -> end of the camera's newest segment.

    Deleting is unsafe only when this machine's clock is ahead (everything looks older than
    it is). A camera whose footage runs into the future says its own clock is ahead, or ours
    is behind: either way its file names cannot be trusted, so nothing of it is deleted; ours
    being behind only makes every other deletion more cautious. The other cameras of the
    target must vouch for the clock: fewer than half ahead, and most of the rest recent. The
    audit log's last apply rules out a clock that went back (re-opened use periods)."""
    try:
        check_not_rewound(now, last_apply, "the last apply", "everything but holds and revokes")
    except ClockDisagrees as exc:
        return ClockVerdict(refused=str(exc))
    verdict = ClockVerdict()
    for target, cameras in sorted(newest.items()):
        ahead = {c: end for c, end in cameras.items() if end - now > tolerance}
        if ahead and 2 * len(ahead) >= len(cameras):
            return ClockVerdict(refused=_behind(now, target, ahead, len(cameras)))
        for camera, end in sorted(ahead.items()):
            verdict.suspect[camera] = (
                f"footage of {camera} on {target} runs until {end.isoformat()}, "
                f"{_hours(end - now)} ahead of the clock ({now.isoformat()}): {camera}'s "
                "clock is ahead (or a file was planted there); none of its footage is "
                f"deleted until it is fixed. Check {camera}"
            )
        ends = sorted(end for camera, end in cameras.items() if camera not in ahead)
        typical = ends[(len(ends) - 1) // 2] if ends else now  # the lower median: most agree
        if now - typical > tolerance:
            behind = sorted(c for c, end in cameras.items() if now - end > tolerance)
            return ClockVerdict(
                refused=f"the clock says {now.isoformat()}, but on {target} the newest "
                f"footage of {len(behind)} of {len(cameras)} cameras is more than "
                f"{_hours(tolerance)} older (for example {', '.join(behind[:5])}; typical "
                f"newest footage ends {typical.isoformat()}): either this machine's clock "
                "is ahead or recording stopped. Check the clock (timedatectl), then the "
                "cameras; if recording really stopped, raise config.clock_tolerance_hours "
                "for one run"
            )
    return verdict


def _behind(now: datetime, target: str, ahead: Mapping[str, datetime], cameras: int) -> str:
    end, camera = max((end, camera) for camera, end in ahead.items())
    return (
        f"the clock says {now.isoformat()}, but footage of {len(ahead)} of {cameras} cameras "
        f"on {target} runs later (e.g. {camera} until {end.isoformat()}, "
        f"{_hours(end - now)} later): this machine's clock is behind, or {camera}'s clock "
        f"is ahead (or a file was planted there). Check the clock (timedatectl) and "
        f"{', '.join(sorted(ahead)[:5])}"
    )


def check_not_rewound(now: datetime, logged: datetime | None, evidence: str, what: str) -> None:
    """The clock may not be earlier than a time the audit log recorded (`evidence`): that
    would re-open ended use periods, re-grant revoked footage, undo the order of events."""
    if logged is not None and now < logged - ROLLBACK_MARGIN:
        raise ClockDisagrees(
            f"the clock says {now.isoformat()}, earlier than {evidence} in the audit log "
            f"({logged.isoformat()}): the clock went backwards, so {what} is refused"
        )


def _hours(delta: timedelta) -> str:
    return f"{delta.total_seconds() / 3600:.1f} h"
