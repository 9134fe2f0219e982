"""The group-commit writer of one long-running process (serve): the log stays open and its
head is remembered between appends, so an append is a lock, a write and a sync; syncing can
happen on another thread while the next entries are written (authz/commit.py drives it).
Other writers may still append at any time; the next append then reads the head again."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cctv_policy.audit.chain import GENESIS
from cctv_policy.audit.errors import LogBusy, write_error
from cctv_policy.audit.head_file import anchored_seq, file_state, write_file_anchor

if TYPE_CHECKING:
    from cctv_policy.audit.log import AuditLog


@dataclass
class KeptOpen:
    """A long-running writer's log descriptor and what it knows since its own last append:
    the head, valid while the file at the log's path is still this one and its size is still
    `size` (any other writer's append changes it)."""

    fd: int
    identity: tuple[int, int]  # st_dev, st_ino
    size: int = -1  # unknown: read the head from the file
    head: tuple[int, str] = (0, GENESIS)
    anchor: tuple[int, ...] | None = None  # <log>.head as this writer last wrote it
    anchored_seq: int = -1  # and the seq it wrote there


@dataclass
class Unsynced:
    """Entries written to a kept-open log and not yet synced, with a descriptor of that file
    of their own to sync (a rotation meanwhile does not change which file it is)."""

    entries: list[dict[str, Any]]
    fd: int
    identity: tuple[int, int]

    def close(self) -> None:
        with suppress(OSError):
            os.close(self.fd)


class KeptOpenWriter:
    """The kept-open descriptor of one AuditLog(keep_open=True) and the writes through it."""

    def __init__(self, log: AuditLog) -> None:
        self._log = log
        self._kept: KeptOpen | None = None

    def write(self, events: Sequence[tuple[str, dict[str, Any]]], wait: bool = True) -> Unsynced:
        """Append without syncing (see AuditLog.write_unsynced)."""
        kept = self._open()
        self._lock(kept, wait)
        try:
            size = os.fstat(kept.fd).st_size
            # The head is known when nobody appended since this writer did and <log>.head is
            # as it left it; otherwise both are read again (and a bad anchor refuses).
            unchanged = size == kept.size and file_state(self._log.anchor_path) == kept.anchor
            written, length = self._log._write_locked(
                kept.fd, events, kept.head if unchanged else None
            )
            kept.size, kept.head = size + length, (written[-1]["seq"], written[-1]["hash"])
            unsynced = Unsynced(written, os.dup(kept.fd), kept.identity)
        except BaseException:
            # Let go of the lock first: closing the descriptor does not release it while a
            # duplicate handed out for an earlier batch's sync is still open.
            with suppress(OSError):
                fcntl.flock(kept.fd, fcntl.LOCK_UN)
            self.close()  # what it knew may be wrong now: the next append starts afresh
            raise
        fcntl.flock(kept.fd, fcntl.LOCK_UN)
        return unsynced

    def anchor_synced(self, synced: Sequence[Unsynced], wait: bool = True) -> None:
        """See AuditLog.anchor_synced."""
        busy = False
        try:
            newest, kept = synced[-1], self._kept
            if kept is not None and kept.identity == newest.identity:
                try:
                    self._lock(kept, wait)
                except LogBusy:
                    busy = True
                    raise
                try:
                    self._anchor(kept, newest.entries[-1])
                finally:
                    fcntl.flock(kept.fd, fcntl.LOCK_UN)
        except OSError as exc:
            raise write_error(self._log.anchor_path, exc) from exc
        finally:
            if not busy:
                for done in synced:
                    done.close()

    def _anchor(self, kept: KeptOpen, last: dict[str, Any]) -> None:
        """<log>.head to `last`, under the lock. The committer thread may have appended (and
        anchored) entries of its own after these were written: the anchor must not go back
        to these."""
        path = self._log.anchor_path
        if os.fstat(kept.fd).st_size == kept.size and self._anchored_seq(kept) < int(last["seq"]):
            write_file_anchor(path, last["seq"], last["hash"])
            kept.anchor = file_state(path)
            kept.anchored_seq = int(last["seq"])

    def _anchored_seq(self, kept: KeptOpen) -> int:
        """The seq <log>.head records: the one this writer wrote, while the file is as it left
        it; otherwise read (-1 when there is none that can be read)."""
        if kept.anchor is not None and file_state(self._log.anchor_path) == kept.anchor:
            return kept.anchored_seq
        return anchored_seq(self._log.anchor_path)

    def close(self) -> None:
        """Close the kept descriptor (it is opened again on the next append)."""
        kept, self._kept = self._kept, None
        if kept is not None:
            os.close(kept.fd)

    def _lock(self, kept: KeptOpen, wait: bool) -> None:
        """The log's exclusive lock on the kept descriptor; wait=False: LogBusy if taken."""
        try:
            fcntl.flock(kept.fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            raise LogBusy(f"the audit log {self._log.path} is locked by someone else") from None

    def _open(self) -> KeptOpen:
        """The kept descriptor, opened again when the path now names another file (rotated,
        replaced, removed)."""
        try:
            st = os.stat(self._log.path)
            current: tuple[int, int] | None = (st.st_dev, st.st_ino)
        except FileNotFoundError:
            current = None
        if self._kept is not None and self._kept.identity == current:
            return self._kept
        self.close()
        fd = self._log._open_for_append()
        st = os.fstat(fd)
        self._kept = KeptOpen(fd, (st.st_dev, st.st_ino))
        return self._kept
