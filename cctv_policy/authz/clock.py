"""The decision service's clock: the system's wall clock, refused while it is behind a time the
server already reached.

A wall clock stepped back while `serve` runs (by hand, a bad NTP source, a forged time) would
re-open use periods that had ended. The monotonic clock never steps, so it tells how much real
time passed since the latest time a decision used: the wall clock may not read earlier than
that time plus the time passed, less a small tolerance (NTP slews both clocks alike; only a step
moves one without the other). Behind that, every decision is refused until the wall clock
catches up with the latest time reached; the refusal says so, and the app audit-logs it.

Tests inject both clocks (ServeClock(wall=..., monotonic=...)); the command line has no way to.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

# How far the wall clock may fall behind the time already reached before decisions stop.
STEP_BACK_TOLERANCE = timedelta(seconds=5)


def system_clock() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


class ClockSteppedBack(Exception):
    """The wall clock reads earlier than a time the server already reached."""


class ServeClock:
    def __init__(
        self,
        wall: Callable[[], datetime] = system_clock,
        monotonic: Callable[[], float] = time.monotonic,
        tolerance: timedelta = STEP_BACK_TOLERANCE,
    ) -> None:
        self.wall = wall
        self.injected = wall is not system_clock  # a test's clock: its decisions are replays
        self._monotonic = monotonic
        self._tolerance = tolerance
        self._lock = threading.Lock()
        self._reached: datetime | None = None  # the latest time known to have been reached ...
        self._reached_tick = 0.0  # ... and the monotonic clock then
        self._behind = False  # refusing until the wall clock catches up with _reached

    def now(self) -> datetime:
        """The wall clock's time, or ClockSteppedBack when it is behind the time reached."""
        with self._lock:
            now, tick = self.wall(), self._monotonic()
            if self._reached is None:
                self._reached, self._reached_tick = now, tick
                return now
            # While refusing, the time reached stands still: the wall clock catches up with it.
            passed = 0.0 if self._behind else max(tick - self._reached_tick, 0.0)
            reached = self._reached + timedelta(seconds=passed)
            if now < reached - self._tolerance:
                self._reached, self._reached_tick, self._behind = reached, tick, True
                raise ClockSteppedBack(_reason(now, reached))
            self._reached, self._reached_tick = max(now, reached), tick
            self._behind = False
            return now


def _reason(now: datetime, reached: datetime) -> str:
    behind = (reached - now).total_seconds()
    return (
        f"the system clock reads {now.isoformat()}, {behind:.0f} s behind {reached.isoformat()}, "
        "a time this server already reached (measured with the monotonic clock): the clock was "
        "set back, and a clock set back would re-open ended use periods. No decision until it "
        "catches up; check the clock (timedatectl, NTP)"
    )
