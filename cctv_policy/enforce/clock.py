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


def check_clock(now: datetime, newest_by_target: Mapping[str, datetime],
                last_apply: datetime | None, tolerance: timedelta) -> None:
    """Raise ClockDisagrees when `now` is not believable; return quietly when it is."""
    for target, newest in sorted(newest_by_target.items()):
        if now - newest > tolerance:
            raise ClockDisagrees(
                f"the clock says {now.isoformat()}, but the newest footage on {target} ends at "
                f"{newest.isoformat()} ({_hours(now - newest)} earlier, more than the "
                f"{_hours(tolerance)} allowed): either this machine's clock is ahead or "
                f"recording on {target} stopped. Nothing was changed. Check the clock "
                "(timedatectl), then the cameras; if recording really stopped, raise "
                "config.clock_tolerance_hours for one run")
        if newest - now > tolerance:
            raise ClockDisagrees(
                f"the clock says {now.isoformat()}, but footage on {target} runs until "
                f"{newest.isoformat()} ({_hours(newest - now)} later): this machine's clock is "
                "behind, or camera clocks are ahead. Nothing was changed")
    if last_apply is not None and now < last_apply - ROLLBACK_MARGIN:
        raise ClockDisagrees(
            f"the clock says {now.isoformat()}, earlier than the last apply recorded in the "
            f"audit log ({last_apply.isoformat()}): the clock went backwards. Nothing was changed")


def _hours(delta: timedelta) -> str:
    return f"{delta.total_seconds() / 3600:.1f} h"
