"""What a plan is made of (actions, what was skipped and why) and which part of the storage a
run acts on (--target, --storage-root, --shard, --camera)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, PrivateAttr

from storage_backends.base import DayListing

ActionKind = Literal["delete", "delete-day", "hold", "release", "grant", "revoke"]


class Action(BaseModel):
    model_config = ConfigDict(frozen=True)

    action: ActionKind
    target: str
    camera: str | None = None
    key: str | None = None
    rule: str
    request: str | None = None
    hold: str | None = None
    grant: str | None = None
    recipient: str | None = None
    keys: tuple[str, ...] = ()
    starts: datetime | None = None
    ends: datetime | None = None
    # grant: the approved cameras x window the keys were chosen from (re-checked at apply).
    cameras: tuple[str, ...] = ()
    window_from: datetime | None = None
    window_to: datetime | None = None
    # delete-day: a whole camera-day folder (key is its prefix), its file count and the SHA-256
    # of its names, one per line (what the reviewer of the plan saw).
    day: date | None = None
    count: int = 0
    digest: str | None = None


class Skipped(BaseModel):
    target: str
    key: str
    reason: str


class Plan(BaseModel):
    now: datetime
    policy_version: str
    input_hash: str
    retention_days: int
    actions: list[Action] = []
    unparsable: list[Skipped] = []
    blocked_by_floor: list[Skipped] = []
    grants_refused: list[Skipped] = []
    # Entries at the top of a target that are not footage of a camera of that target.
    unmanaged: list[Skipped] = []
    # Grants and revokes are planned by unsharded runs over all cameras (and shard 0/N) only.
    grants_planned: bool = False
    # camera -> end of its newest segment (the clock gate's evidence, device health).
    newest_footage: dict[str, datetime] = {}
    # The cameras whose storage this run read: one missing from newest_footage has no footage.
    cameras_read: list[str] = []
    listed_segments: int = 0

    # The listings behind the delete-day actions, for apply in the same run (not serialized).
    _listings: dict[tuple[str, str], DayListing] = PrivateAttr(default_factory=dict)

    def remember(self, target: str, listing: DayListing) -> None:
        self._listings[(target, listing.prefix)] = listing

    def listing_of(self, action: Action) -> DayListing | None:
        return self._listings.get((action.target, action.key or ""))

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for a in self.actions:
            out[a.action] = out.get(a.action, 0) + 1
        return out


@dataclass(frozen=True)
class Shard:
    """--shard I/N: this run handles the cameras whose stable index modulo N is I."""

    index: int = 0
    count: int = 1

    def owns(self, camera: str, position: int) -> bool:
        return position % self.count == self.index

    @property
    def owns_grants(self) -> bool:
        """Grants span cameras: only the first shard plans them, for every camera."""
        return self.index == 0


@dataclass(frozen=True)
class Scope:
    """Which storage one run acts on: one target (--target; None: every target that holds
    cameras), roots in place of storage.yaml's (--storage-root), a shard, some cameras
    (--camera; None: all)."""

    target: str | None = None
    root_overrides: dict[str, Path] = field(default_factory=dict)
    shard: Shard = Shard()
    cameras: frozenset[str] | None = None
