"""A NAS-style directory tree: <root>/<key>, keys from the target's layout.

Everything below the root is reached through directory descriptors opened one level at a time
with O_NOFOLLOW, so a symbolic link anywhere on the way (planted before or during a run) makes
the operation fail instead of leaving the root: footage, hold manifests and grant exports alike.
Holds and grants live beside the footage under <root>/.cctv-policy/ (fs_state.py; not a camera
id, so never listed as footage); that folder must not be writable by group or others, and
symbolic links inside it are reported and skipped, never followed.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterable, Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import BinaryIO

from storage_backends.base import (
    DayListing,
    DeleteResult,
    EntryKind,
    GrantSpec,
    NoLifecycle,
    Segment,
    StateProblem,
    TopEntry,
    UnparsableKey,
    segment_of,
)
from storage_backends.day_workers import (
    DayWorkers,
    read_day,
    read_days,
    remove_if_empty,
    unlink_days,
)
from storage_backends.fdtree import (
    DirectoryWalker,
)
from storage_backends.fs_state import STATE_DIR, StateFolder, UnsafePath
from storage_backends.layout import Layout


class FilesystemBackend(NoLifecycle):
    def __init__(
        self, target_id: str, root: Path | str, layout: Layout, workers: DayWorkers | None = None
    ) -> None:
        """`workers`: the run's pool of worker processes (its owner closes it); without one,
        day folders are read and emptied in this process."""
        self.target_id = target_id
        self.workers = workers or DayWorkers.none()
        self.root = Path(root).resolve()
        self.layout = layout
        # Symbolic links and strangers found in the state folder, for the plan to report.
        self.state_problems: list[StateProblem] = []
        self.state = StateFolder(self.root, layout, self.state_problems)

    # -- listing ----------------------------------------------------------------------------

    def top_level(self) -> list[TopEntry]:
        entries = []
        with os.scandir(self.root) as scan:
            for entry in scan:
                if entry.name == STATE_DIR:
                    continue
                kind: EntryKind = (
                    "symlink"
                    if entry.is_symlink()
                    else "dir"
                    if entry.is_dir(follow_symlinks=False)
                    else "file"
                )
                entries.append(TopEntry(entry.name, kind))
        return sorted(entries, key=lambda e: e.name)

    def list_days(self, camera: str) -> list[date] | None:
        depth = self.layout.day_depth(camera)
        if depth is None:
            return None  # no day level in this layout: list the camera whole
        base = self.root / camera
        if not base.is_dir() or base.is_symlink():
            return []
        self.workers.start()  # planning reads day folders next: have the workers ready by then
        days = []
        for rel in _dirs_at_depth(str(base), f"{camera}/", depth - 1):
            day = self.layout.parse_day_prefix(camera, rel)
            if day is not None:
                days.append(day)
        return sorted(days)

    def list_segments(
        self, camera: str, day: date | None = None
    ) -> Iterator[Segment | UnparsableKey]:
        prefix = (self.layout.day_prefix(camera, day) if day else None) or f"{camera}/"
        base = self.root / prefix
        if not base.is_dir() or base.is_symlink():
            return
        yield from self._scan(str(base), prefix, camera)

    def list_day(self, camera: str, day: date) -> DayListing | None:
        prefix = self.layout.day_prefix(camera, day)
        if prefix is None:
            return None
        with DirectoryWalker(self.root) as walker:
            return read_day(walker, self.layout, camera, prefix)

    @property
    def works_beside(self) -> bool:
        return self.workers.workers() > 1  # else list_many and delete_days work in this process

    def list_many(self, wanted: Sequence[tuple[str, date]]) -> list[DayListing | None]:
        """Many day folders, read by the worker processes (see day_workers.py)."""
        if self.layout.day_depth("X") is None:
            return [None] * len(wanted)
        if len(wanted) < 8:
            return [self.list_day(camera, day) for camera, day in wanted]
        size = -(-len(wanted) // (self.workers.workers() * 4))
        chunks = [wanted[i : i + size] for i in range(0, len(wanted), size)]
        parts = self.workers.map(read_days, [(str(self.root), self.layout, c) for c in chunks])
        return [listing for part in parts for listing in part]

    def _scan(self, directory: str, prefix: str, camera: str) -> Iterator[Segment | UnparsableKey]:
        with os.scandir(directory) as entries:
            ordered = sorted(entries, key=lambda e: e.name)
        for entry in ordered:
            key = prefix + entry.name
            if entry.is_symlink():
                yield UnparsableKey(key, "symbolic link")
            elif entry.is_dir(follow_symlinks=False):
                yield from self._scan(entry.path, key + "/", camera)
            elif not entry.is_file(follow_symlinks=False):
                yield UnparsableKey(key, "not a regular file (a pipe or device?)")
            else:
                segment = segment_of(self.layout, key, camera)
                yield segment or UnparsableKey(key, "does not match the layout")

    def open(self, key: str) -> BinaryIO:
        """Read one segment, reached through O_NOFOLLOW descriptors from the root."""
        if self.layout.parse(key) is None:
            raise UnsafePath(f"{key!r} does not match the layout {self.layout.pattern!r}")
        directory, _, name = key.rpartition("/")
        try:
            with DirectoryWalker(self.root) as walker:
                fd = os.open(
                    name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=walker.open(directory)
                )
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                raise UnsafePath(f"{key!r} crosses a symbolic link") from exc
            raise
        return os.fdopen(fd, "rb")

    # -- deleting ---------------------------------------------------------------------------

    def delete_days(self, days: Sequence[DayListing]) -> DeleteResult:
        """Each day folder opened once through O_NOFOLLOW descriptors, its files unlinked by
        name, the folder (and its month and year, once empty) removed; the unlinking runs in
        a worker process (see day_workers.py)."""
        result = DeleteResult()
        held = set().union(*self.held_keys().values())
        work = []
        for day in days:
            kept = {k[len(day.prefix) :] for k in held.intersection(day.keys)} if held else set()
            for name in kept:
                result.refused[day.prefix + name] = "under a hold on the storage"
            todo = [n for n in day.names if n not in kept] if kept else list(day.names)
            work.append((day.prefix.rstrip("/"), todo))
            result.requests += len(day.names)
        outcomes = self.workers.call(unlink_days, str(self.root), work)
        for day, (_, todo), outcome in zip(days, work, outcomes, strict=True):
            if isinstance(outcome, str):
                result.refused.update(dict.fromkeys((day.prefix + n for n in todo), outcome))
                continue
            done = [n for n in todo if n not in outcome] if outcome else todo
            result.deleted += map(day.prefix.__add__, done)
            for name, why in outcome.items():
                if why is None:
                    result.already_gone.append(day.prefix + name)
                else:
                    result.refused[day.prefix + name] = why
        return result

    def delete(self, keys: Iterable[str]) -> DeleteResult:
        """Unlink each key through directory descriptors opened with O_NOFOLLOW from the root:
        a symbolic link anywhere on the way fails the open, so nothing outside the root can be
        reached, even if the tree changes while we work."""
        result = DeleteResult()
        held = set().union(*self.held_keys().values())
        with DirectoryWalker(self.root) as walker:
            for key in keys:
                if not self.layout.matches(key):
                    result.refused[key] = f"does not match the layout {self.layout.pattern!r}"
                    continue
                if key in held:
                    result.refused[key] = "under a hold on the storage"
                    continue
                directory, _, name = key.rpartition("/")
                try:
                    os.unlink(name, dir_fd=walker.open(directory))
                    result.deleted.append(key)
                except FileNotFoundError:
                    result.already_gone.append(key)
                except OSError as exc:  # ELOOP/ENOTDIR: a symlink on the way; EISDIR; EACCES
                    result.refused[key] = f"not deleted: {exc.strerror}"
                result.requests += 1
            for directory in sorted(walker.opened, key=lambda d: d.count("/"), reverse=True):
                remove_if_empty(walker, directory)
        return result

    # -- the state folder (fs_state.py) ----------------------------------------------------

    def check_state(self) -> None:
        self.state.check()

    def set_hold(self, hold_id: str, keys: Iterable[str]) -> None:
        self.state.set_hold(hold_id, keys)

    def refresh_holds(self) -> int:
        return 0  # a hold here is a manifest the backend itself honours

    def clear_hold(self, hold_id: str) -> None:
        self.state.clear_hold(hold_id)

    def held_keys(self) -> dict[str, set[str]]:
        return self.state.held_keys()

    def create_grant(self, grant: GrantSpec) -> None:
        self.state.create_grant(grant)

    def revoke_grant(self, grant_id: str) -> None:
        self.state.revoke_grant(grant_id)

    def grants(self) -> set[str]:
        return self.state.grants()


def _dirs_at_depth(base: str, rel: str, depth: int) -> Iterator[str]:
    """The folders `depth` levels below base (not through links), as rel + their path + "/"."""
    if depth <= 0:
        yield rel
        return
    try:
        with os.scandir(base) as entries:
            children = sorted(e.name for e in entries if e.is_dir(follow_symlinks=False))
    except OSError:
        return
    for name in children:
        yield from _dirs_at_depth(f"{base}/{name}", f"{rel}{name}/", depth - 1)
