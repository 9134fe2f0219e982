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
import getpass
import hashlib
import json
import os
import socket
import stat
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cctv_policy.audit.bounds import MAX_LINE_BYTES, MAX_TEXT, bounded
from cctv_policy.audit.tail import last_line as _last_line
from cctv_policy.audit.tail import lines_backwards as _lines_backwards

__all__ = ["MAX_LINE_BYTES", "MAX_TEXT", "AuditError", "AuditLog", "bounded", "verify_log"]

GENESIS = "0" * 64
# Keys the log itself writes on every line; a caller's details never replace them.
RESERVED = frozenset({"seq", "at", "actor", "ci", "event", "policy_version", "prev", "hash"})
_SMALL_FILE = 1 << 16
# <log>.head is always this many bytes (JSON padded with spaces), so it can be overwritten in
# place: one write under the log's lock instead of a new file and a rename on every append.
ANCHOR_BYTES = 128


class AuditError(Exception):
    """The audit log cannot be written or read: nothing may happen without it."""


class LogBusy(AuditError):
    """wait=False and someone else holds the log's lock (a writer, or a reader such as `audit
    verify`): nothing was done; try again where waiting is allowed."""


def _canonical(entry: dict[str, Any]) -> str:
    return json.dumps(entry, sort_keys=True, separators=(",", ":"), default=str)


def _chained(prev: str, body: str) -> str:
    return hashlib.sha256((prev + body).encode()).hexdigest()


def _digest(prev: str, entry: dict[str, Any]) -> str:
    return _chained(prev, _canonical(entry))


def _sealed(prev: str, entry: dict[str, Any]) -> str:
    """Set entry["hash"] and return the entry's line. The line is the hashed canonical JSON
    with the hash added last, so a large entry (a deleted day's names) is encoded once."""
    body = _canonical(entry)
    entry["hash"] = _chained(prev, body)
    return f'{body[:-1]},"hash":"{entry["hash"]}"}}\n'


def default_actor() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = f"uid{os.getuid()}"
    return f"{user}@{socket.gethostname()}"


def ci_identity() -> dict[str, str]:
    """Who ran us in CI (GitHub Actions), besides the OS user: the actor and the run."""
    if os.environ.get("GITHUB_ACTIONS") != "true":
        return {}
    names = {
        "GITHUB_ACTOR": "actor",
        "GITHUB_TRIGGERING_ACTOR": "triggering_actor",
        "GITHUB_REPOSITORY": "repository",
        "GITHUB_WORKFLOW": "workflow",
        "GITHUB_RUN_ID": "run_id",
        "GITHUB_RUN_ATTEMPT": "run_attempt",
        "GITHUB_SHA": "sha",
    }
    return {key: bounded(os.environ[env]) for env, key in names.items() if os.environ.get(env)}


@dataclass
class _KeptOpen:
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


def _check_details(events: Sequence[tuple[str, dict[str, Any]]]) -> None:
    for _, details in events:
        clash = RESERVED & set(details)
        if clash:
            raise ValueError(f"audit details may not set {sorted(clash)}")


def _write_error(path: Path, exc: OSError) -> AuditError:
    return AuditError(
        f"cannot write the audit log {path}: {exc.strerror}; the "
        "action was not done (fix the path or permissions and rerun)"
    )


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
    _kept: _KeptOpen | None = field(default=None, init=False, repr=False)

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
        _check_details(events)
        try:
            if self.keep_open:
                unsynced = self._write_kept_open(events)
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
        _check_details(events)
        try:
            return self._write_kept_open(events, wait)
        except OSError as exc:
            raise _write_error(self.path, exc) from exc

    def anchor_synced(self, synced: Sequence[Unsynced], wait: bool = True) -> None:
        """After the caller synced them, in order: record the newest head in <log>.head (unless
        another writer appended since: it anchored its own; and never an earlier head than the
        one anchored), and close their descriptors. wait=False: raise LogBusy, with nothing
        done and the descriptors still open, instead of waiting for the log's lock."""
        busy = False
        try:
            newest, kept = synced[-1], self._kept
            if kept is not None and kept.identity == newest.identity:
                try:
                    self._lock_kept(kept, wait)
                except LogBusy:
                    busy = True
                    raise
                try:
                    last = newest.entries[-1]
                    # The committer thread may have appended (and anchored) entries of its own
                    # after these were written: the anchor must not go back to these.
                    if os.fstat(kept.fd).st_size == kept.size and self._anchored_seq(kept) < int(
                        last["seq"]
                    ):
                        write_file_anchor(self.anchor_path, last["seq"], last["hash"])
                        kept.anchor = _file_state(self.anchor_path)
                        kept.anchored_seq = int(last["seq"])
                finally:
                    fcntl.flock(kept.fd, fcntl.LOCK_UN)
        except OSError as exc:
            raise _write_error(self.anchor_path, exc) from exc
        finally:
            if not busy:
                for done in synced:
                    done.close()

    def _anchored_seq(self, kept: _KeptOpen) -> int:
        """The seq <log>.head records: the one this writer wrote, while the file is as it left
        it; otherwise read (-1 when there is none that can be read)."""
        if kept.anchor is not None and _file_state(self.anchor_path) == kept.anchor:
            return kept.anchored_seq
        return _anchored_seq(self.anchor_path)

    def close(self) -> None:
        """Close the log a keep_open writer holds (it is opened again on the next append)."""
        kept, self._kept = self._kept, None
        if kept is not None:
            os.close(kept.fd)

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

    def _write_kept_open(
        self, events: Sequence[tuple[str, dict[str, Any]]], wait: bool = True
    ) -> Unsynced:
        kept = self._kept_open()
        self._lock_kept(kept, wait)
        try:
            size = os.fstat(kept.fd).st_size
            # The head is known when nobody appended since this writer did and <log>.head is
            # as it left it; otherwise both are read again (and a bad anchor refuses).
            unchanged = size == kept.size and _file_state(self.anchor_path) == kept.anchor
            written, length = self._write_locked(kept.fd, events, kept.head if unchanged else None)
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

    def _lock_kept(self, kept: _KeptOpen, wait: bool) -> None:
        """The log's exclusive lock on the kept descriptor; wait=False: LogBusy if taken."""
        try:
            fcntl.flock(kept.fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            raise LogBusy(f"the audit log {self.path} is locked by someone else") from None

    def _kept_open(self) -> _KeptOpen:
        """The kept descriptor, opened again when the path now names another file (rotated,
        replaced, removed)."""
        try:
            st = os.stat(self.path)
            current: tuple[int, int] | None = (st.st_dev, st.st_ino)
        except FileNotFoundError:
            current = None
        if self._kept is not None and self._kept.identity == current:
            return self._kept
        self.close()
        fd = self._open_for_append()
        st = os.fstat(fd)
        self._kept = _KeptOpen(fd, (st.st_dev, st.st_ino))
        return self._kept

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
        line = _sealed(prev, entry)
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
            anchored = _read_anchor(self.anchor_path)
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


def _file_state(path: Path) -> tuple[int, ...] | None:
    """What changes whenever a file is written or replaced (None: there is no file)."""
    try:
        st = os.stat(path, follow_symlinks=False)
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


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


def anchor_line(seq: int, digest: str) -> bytes:
    """<log>.head's content: the head as JSON, padded to ANCHOR_BYTES."""
    return (json.dumps({"seq": seq, "hash": digest}).ljust(ANCHOR_BYTES - 1) + "\n").encode()


def write_file_anchor(path: Path, seq: int, digest: str) -> None:
    """Update <log>.head (callers hold the log's exclusive lock, so no reader sees it half
    written). It is overwritten in place only when it is a plain file of ours of the right size,
    opened without following a symbolic link, not linked elsewhere; anything else is replaced
    atomically through a new file of our own (never written through a planted name)."""
    line = anchor_line(seq, digest)
    if not _overwrite_in_place(path, line):
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            os.write(fd, line)
        finally:
            os.close(fd)
        os.replace(tmp, path)


def _overwrite_in_place(path: Path, line: bytes) -> bool:
    try:  # O_NONBLOCK: a FIFO planted under the name must not block the writer
        fd = os.open(path, os.O_WRONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        st = os.fstat(fd)
        if not (
            stat.S_ISREG(st.st_mode)
            and st.st_nlink == 1
            and st.st_uid == os.geteuid()
            and st.st_size == len(line)
        ):
            return False
        return os.pwrite(fd, line, 0) == len(line)
    finally:
        os.close(fd)


def _read_anchor(path: Path) -> dict[str, Any] | None:
    """The head <log>.head records ({"seq": int, "hash"}), or None when there is no anchor.
    Raises OSError when it cannot be read and ValueError when it holds no head."""
    text = _read_small(path)
    if text is None:
        return None
    head = json.loads(text)
    if not (isinstance(head, dict) and isinstance(head.get("seq"), int)):
        raise ValueError("not a head")
    return head


def _anchored_seq(path: Path) -> int:
    """The seq <log>.head records; -1 when there is none that can be read."""
    try:
        head = _read_anchor(path)
    except (OSError, ValueError):
        return -1
    return -1 if head is None else int(head["seq"])


def _read_small(path: Path, limit: int = _SMALL_FILE) -> bytes | None:
    """A small file's bytes (at most `limit`), or None when it does not exist."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    try:
        return os.read(fd, limit)
    finally:
        os.close(fd)


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


@dataclass
class VerifyResult:
    ok: bool
    entries: int
    problems: list[str]
    head: tuple[int, str]
    anchored: bool = False


def verify_log(path: Path, anchors: Sequence[dict[str, Any]] = ()) -> VerifyResult:
    """Check the chain, and that every anchored head (seq, hash) is a line of this log.

    With no anchor, a log is only as good as its chain: cutting lines off the end cannot be
    seen, so the caller reports such a log as not anchored.
    """
    problems: list[str] = []
    prev, seq, count = GENESIS, 0, 0
    if not path.exists():
        return VerifyResult(False, 0, [f"{path} does not exist"], (0, GENESIS))
    wanted = {int(a["seq"]): str(a["hash"]) for a in anchors if "seq" in a and "hash" in a}
    with open(path, "rb") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_SH)
        for number, raw in enumerate(handle, start=1):
            count += 1
            try:
                entry = json.loads(raw)
                claimed = entry.pop("hash", None)
            except (ValueError, AttributeError):
                problems.append(f"line {number}: not JSON (edited or torn)")
                break
            if entry.get("prev") != prev:
                problems.append(
                    f"line {number}: does not follow line {number - 1} "
                    "(a line was removed, inserted or reordered)"
                )
                break
            if entry.get("seq") != seq + 1:
                problems.append(f"line {number}: sequence {entry.get('seq')} after {seq}")
                break
            if _digest(prev, entry) != claimed:
                problems.append(f"line {number}: content does not match its hash (edited)")
                break
            prev, seq = claimed, entry["seq"]
            if seq in wanted and wanted[seq] != claimed:
                problems.append(
                    f"line {number} is not the line that was anchored: the log "
                    "was cut off and rewritten after it was anchored"
                )
                break
    if not problems and wanted and max(wanted) > seq:
        problems.append(
            f"the log ends at {seq} but the anchor records {max(wanted)} "
            "entries: lines were cut off the end"
        )
    return VerifyResult(not problems, count, problems, (seq, prev), anchored=bool(wanted))
