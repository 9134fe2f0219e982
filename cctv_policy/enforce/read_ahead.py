"""Reading day folders while the rule book still decides.

Which days can hold expired footage follows from the clock and config.yaml's retention alone
(the floor's cutoff, never earlier than the policy's), and reading changes nothing, so
planning need not wait for the decision to start reading (bench/sweep_bench.py, 2 cores: the
reading then mostly overlaps the rule book). The planner takes what it needs from here and
reads the rest itself; if reading ahead failed, it reads everything itself.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from cctv_policy.enforce.models import Scope
from cctv_policy.enforce.selection import cameras_of, days_to_list
from cctv_policy.registry.loader import LoadedRegistry
from storage_backends.base import Backend, DayListing


@dataclass
class ReadAhead:
    """One target's day folders (per camera; None: no day level), the camera-days being read
    and the reading itself."""

    days: dict[str, list[date] | None]
    wanted: list[tuple[str, date]]
    listings: Future[list[DayListing | None]]

    def take(self) -> dict[tuple[str, date], DayListing | None]:
        try:
            return dict(zip(self.wanted, self.listings.result(), strict=True))
        except Exception:  # noqa: BLE001 - any failure: planning reads the days itself
            return {}


def start_reading(
    registry: LoadedRegistry, backends: dict[str, Backend], now: datetime, scope: Scope
) -> dict[str, ReadAhead]:
    """Start reading ahead on every target that can (see read_ahead); nothing when the
    registry has no retention to go by (the gate refuses it next)."""
    if registry.config is None:
        return {}
    cutoff = now - timedelta(days=registry.config.retention_days)
    return read_ahead(registry, backends, cutoff, scope)


def read_ahead(
    registry: LoadedRegistry, backends: dict[str, Backend], cutoff: datetime, scope: Scope
) -> dict[str, ReadAhead]:
    """Start reading, in the background, each target's day folders that can hold footage
    older than `cutoff` (config.yaml's retention) and each camera's newest day (the clock
    gate's evidence)."""
    ahead = {}
    for target_id, backend in backends.items():
        if not backend.works_beside:
            continue  # reading in this process would only take turns with the rule book
        mine = cameras_of(registry, target_id, scope)[1]
        try:
            days = {camera: backend.list_days(camera) for camera in mine}
        except Exception:  # noqa: BLE001 - planning reads again, after the gate, and says why
            continue
        wanted = [
            (camera, day)
            for camera in mine
            for day in days_to_list(days[camera], cutoff, [], backend.layout)
            if day is not None
        ]
        ahead[target_id] = ReadAhead(days, wanted, _in_background(backend.list_many, wanted))
    return ahead


def _in_background(
    work: Callable[[list[tuple[str, date]]], list[DayListing | None]],
    wanted: list[tuple[str, date]],
) -> Future[list[DayListing | None]]:
    """work(wanted) in a daemon thread: a run refused meanwhile does not wait for it."""
    future: Future[list[DayListing | None]] = Future()

    def run() -> None:
        try:
            future.set_result(work(wanted))
        except BaseException as exc:  # noqa: BLE001 - handed to whoever takes the result
            future.set_exception(exc)

    threading.Thread(target=run, name="read-ahead", daemon=True).start()
    return future
