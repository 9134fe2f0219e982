"""Hash-chained JSON lines.

Each line is one event: {"seq", "at", "actor", "event", ..., "prev", "hash"} where
hash = sha256(prev + canonical JSON of the line without "hash"). Editing, removing or
reordering any line breaks the chain from there on. Cutting lines off the end leaves a valid
shorter chain, so the head (seq and hash of the last line) is also written to an anchor: the
`<log>.head` file on every append, and on request to places an admin cannot silently rewrite (a
git commit, an Object Lock object on S3); verify compares the log with the anchor.

Writers may run at once (apply, serve, authorize, audit verify): every append takes an
exclusive lock on the log, reads the real last line under it (however long that line is),
appends, fsyncs and updates `<log>.head` before letting go, so the chain never forks.

Writing is all-or-nothing for the caller: append() raises AuditError if the line cannot be
written and synced, and the caller then does not perform the action.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cctv_policy.audit.bounds import MAX_LINE_BYTES, MAX_TEXT, bounded
from cctv_policy.audit.chain import GENESIS, VerifyResult, check_details, sealed, verify_log
from cctv_policy.audit.errors import AuditError, LogBusy
from cctv_policy.audit.errors import write_error as _write_error
from cctv_policy.audit.head_file import (
    read_anchor,
    write_file_anchor,
)
from cctv_policy.audit.identity import ci_identity, default_actor
from cctv_policy.audit.kept_open import KeptOpenWriter, Unsynced
from cctv_policy.audit.tail import last_line as _last_line
from cctv_policy.audit.tail import lines_backwards as _lines_backwards

__all__ = [
    "GENESIS",
    "MAX_LINE_BYTES",
    "MAX_TEXT",
    "AuditError",
    "AuditLog",
    "LogBusy",
    "Unsynced",
    "VerifyResult",
    "bounded",
    "sync",
    "verify_log",
    "write_file_anchor",
]


@dataclass
class AuditLog:
    """keep_open: for one long-running writer (serve's group commit): the log stays open and
    its head is remembered between appends, so an append is a lock, a write and a sync. Other
    writers may still append at any time; the next append then reads the head again."""

    path: Path
    actor: str = field(default_factory=default_actor)
    policy_version: str = ""
    anchors: list[Any] = field(default_factory=list)  # extra anchors: git, S3 (see anchor.py)
    ci: dict[str, str] = field(default_factory=ci_identity)
    keep_open: bool = False
    max_line: int = MAX_LINE_BYTES  # bytes of one line, newline included; longer is refused
    _writer: KeptOpenWriter | None = field(default=None, init=False, repr=False)

    @property
    def anchor_path(self) -> Path:
        return self.path.with_name(self.path.name + ".head")

    def head(self) -> tuple[int, str]:
        """(seq, hash) of the last line; (0, GENESIS) for an empty or missing log."""
        if not self.path.exists():
            return (0, GENESIS)
        with self._locked(fcntl.LOCK_SH, write=False) as fd:
            return _last_head(fd, self.path)

    def last_time(self) -> datetime | None:
        """When the newest entry was written (its `at`), or None for an empty log."""
        if not self.path.exists():
            return None
        with self._locked(fcntl.LOCK_SH, write=False) as fd:
            line = _last_line(fd)
        try:
            return datetime.fromisoformat(json.loads(line)["at"]) if line else None
        except (ValueError, KeyError, TypeError):
            return None

    def last_entry(self, event: str) -> dict[str, Any] | None:
        """The newest entry of this event, read backwards from the end (None if none)."""
        if not self.path.exists():
            return None
        marker = f'"event":{json.dumps(event)}'.encode()
        with self._locked(fcntl.LOCK_SH, write=False) as fd:
            for line in _lines_backwards(fd):
                if marker in line:
                    try:
                        entry = json.loads(line)
                    except ValueError:
                        continue
                    if entry.get("event") == event:
                        found: dict[str, Any] = entry
                        return found
        return None

    def append(self, event: str, **details: Any) -> dict[str, Any]:
        return self.append_many([(event, details)])[-1]

    def record_refusal(self, event: str, **details: Any) -> None:
        """Log that something was refused, when the log can be written: a refusal stands
        whether or not it could be logged."""
        with suppress(AuditError):
            self.append(event, **details)

    def append_many(self, events: Sequence[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
        """Append events in order under one lock and one fsync (group commit)."""
        check_details(events)
        try:
            if self.keep_open:
                unsynced = self._kept_open().write(events)
                try:
                    sync(unsynced.fd)
                except OSError:
                    self.close()  # what reached the disk is unknown: read the head again
                    unsynced.close()
                    raise
                self.anchor_synced([unsynced])
                return unsynced.entries
            with self._locked(fcntl.LOCK_EX, write=True) as fd:
                written = self._write_locked(fd, events, None)[0]
                sync(fd)
                write_file_anchor(self.anchor_path, written[-1]["seq"], written[-1]["hash"])
                return written
        except OSError as exc:
            raise _write_error(self.path, exc) from exc

    def write_unsynced(
        self, events: Sequence[tuple[str, dict[str, Any]]], wait: bool = True
    ) -> Unsynced:
        """keep_open only: append without waiting for the disk. The caller syncs the returned
        descriptor (on another thread, while it writes the next entries), then calls
        anchor_synced; until then nothing may act on these entries. wait=False: raise LogBusy
        instead of waiting for the log's lock (an event loop must not stand still)."""
        check_details(events)
        try:
            return self._kept_open().write(events, wait)
        except OSError as exc:
            raise _write_error(self.path, exc) from exc

    def anchor_synced(self, synced: Sequence[Unsynced], wait: bool = True) -> None:
        """After the caller synced them, in order: record the newest head in <log>.head (unless
        another writer appended since: it anchored its own; and never an earlier head than the
        one anchored), and close their descriptors. wait=False: raise LogBusy, with nothing
        done and the descriptors still open, instead of waiting for the log's lock."""
        self._kept_open().anchor_synced(synced, wait)

    def close(self) -> None:
        """Close the log a keep_open writer holds (it is opened again on the next append)."""
        if self._writer is not None:
            self._writer.close()

    def _kept_open(self) -> KeptOpenWriter:
        if self._writer is None:
            self._writer = KeptOpenWriter(self)
        return self._writer

    def _write_locked(
        self, fd: int, events: Sequence[tuple[str, dict[str, Any]]], known: tuple[int, str] | None
    ) -> tuple[list[dict[str, Any]], int]:
        """Write under the caller's exclusive lock, after the head `known` or, when None, the
        head read from the file (and checked against <log>.head); not synced. Returns the
        entries and the number of bytes written."""
        if known is None:
            seq, prev = _last_head(fd, self.path)
            if not self._check_against_anchor(seq, prev):
                # A new log is anchored at its start first: a writer whose lines are not
                # synced (and so not anchored) yet must not make it look like a lost anchor.
                write_file_anchor(self.anchor_path, seq, prev)
        else:
            seq, prev = known
        written, lines = [], []
        for event, details in events:
            entry, line = self._entry(seq + 1, prev, event, details)
            seq, prev = entry["seq"], entry["hash"]
            written.append(entry)
            lines.append(line)
        data = "".join(lines).encode()
        _write_all(fd, data)
        return written, len(data)

    def _entry(
        self, seq: int, prev: str, event: str, details: dict[str, Any]
    ) -> tuple[dict[str, Any], str]:
        entry: dict[str, Any] = {
            "seq": seq,
            "at": datetime.now(UTC).isoformat(),
            "actor": self.actor,
            "event": event,
            "policy_version": self.policy_version,
        }
        if self.ci:
            entry["ci"] = self.ci
        entry.update(bounded(details))
        entry["prev"] = prev
        line = sealed(prev, entry)
        if len(line) > self.max_line:  # ASCII: ensure_ascii JSON
            raise AuditError(
                f"a {event} entry of {len(line)} bytes is longer than the audit log's limit "
                f"of {self.max_line} bytes per line; it was not written, and nothing was done"
            )
        return entry, line

    def _check_against_anchor(self, seq: int, digest: str) -> bool:
        """Refuse to write after a log that disagrees with <log>.head: appending would make a
        cut or rewritten log look whole again. False: an empty log not anchored yet."""
        try:
            anchored = read_anchor(self.anchor_path)
        except (OSError, ValueError) as exc:
            raise AuditError(
                f"the head anchor {self.anchor_path} cannot be read; nothing was "
                "done: have an admin check the log with `cctv-policy audit "
                "verify`"
            ) from exc
        if anchored is None:
            if seq:
                raise AuditError(
                    f"the audit log {self.path} has {seq} entries but its head anchor "
                    f"{self.anchor_path} is missing, so a cut tail could not be seen; nothing was "
                    "done: have an admin check it, then run `cctv-policy audit verify "
                    "--reanchor`"
                )
            return False
        if anchored["seq"] > seq or (anchored["seq"] == seq and anchored.get("hash") != digest):
            raise AuditError(
                f"the audit log {self.path} ends at entry {seq}, but its head anchor records "
                f"entry {anchored['seq']}: the log was cut or rewritten; nothing was done: run "
                "`cctv-policy audit verify` and have an admin look at it"
            )
        return True

    def reanchor(self) -> tuple[int, str]:
        """Anchor the log as it is now (after an admin checked a log that lost its anchor),
        and record who did."""
        with self._locked(fcntl.LOCK_EX, write=True) as fd:
            seq, digest = _last_head(fd, self.path)
            write_file_anchor(self.anchor_path, seq, digest)
        self.append("audit_reanchored", previous_head=seq)
        return self.head()

    def write_anchor(self, *extra: Any) -> tuple[int, str]:
        """Write the current head to <log>.head and to every extra anchor (git, S3)."""
        with self._locked(fcntl.LOCK_EX, write=True) as fd:
            seq, digest = _last_head(fd, self.path)
            write_file_anchor(self.anchor_path, seq, digest)
            for anchor in (*self.anchors, *extra):
                anchor.write(seq, digest)
        return seq, digest

    def _open_for_append(self) -> int:
        flags = os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC
        try:
            try:
                return os.open(self.path, flags, 0o640)
            except FileNotFoundError:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                return os.open(self.path, flags, 0o640)
        except OSError as exc:
            raise AuditError(f"cannot open the audit log {self.path}: {exc.strerror}") from exc

    @contextmanager
    def _locked(self, operation: int, write: bool) -> Iterator[int]:
        try:
            fd = (
                self._open_for_append() if write else os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
            )
        except OSError as exc:
            raise AuditError(f"cannot open the audit log {self.path}: {exc.strerror}") from exc
        try:
            fcntl.flock(fd, operation)
            yield fd
        finally:
            os.close(fd)  # closing releases the lock


def _write_all(fd: int, data: bytes) -> None:
    """Write everything or raise: a short write (a full disk) must not pass for a logged line.
    What was written of it is cut off again (callers hold the exclusive lock), so the log
    still ends in a whole line."""
    view, written = memoryview(data), 0
    try:
        while written < len(data):
            done = os.write(fd, view[written:])
            if done <= 0:
                raise OSError(errno.ENOSPC, "the audit log could not be written in full")
            written += done
    except OSError:
        if written:
            with suppress(OSError):
                os.ftruncate(fd, os.fstat(fd).st_size - written)
        raise


# fdatasync: the data and the size it needs, without the mtime (an appended line changes the
# size, so it is synced all the same).
sync = getattr(os, "fdatasync", os.fsync)


def _last_head(fd: int, path: Path) -> tuple[int, str]:
    """(seq, hash) of the last line, found by reading backwards however long it is."""
    line = _last_line(fd)
    if line is None:
        return (0, GENESIS)
    try:
        last = json.loads(line)
        return int(last["seq"]), str(last["hash"])
    except (ValueError, KeyError, TypeError) as exc:
        raise AuditError(
            f"the audit log {path} ends in a damaged line; run "
            "`cctv-policy audit verify` and have an admin look at it"
        ) from exc
