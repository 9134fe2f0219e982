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

import fcntl
import getpass
import hashlib
import json
import os
import socket
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

GENESIS = "0" * 64
# Keys the log itself writes on every line; a caller's details never replace them.
RESERVED = frozenset({"seq", "at", "actor", "ci", "event", "policy_version", "prev", "hash"})
# Untrusted text (a principal from the network, a path) is cut to this many characters in the
# log, with its length and digest kept, so that one call cannot bloat every later read.
MAX_TEXT = 512
_CHUNK = 1 << 16


class AuditError(Exception):
    """The audit log cannot be written or read: nothing may happen without it."""


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


def bounded(value: Any) -> Any:
    """Untrusted values cut to MAX_TEXT characters (length and digest kept), recursively."""
    if isinstance(value, str) and len(value) > MAX_TEXT:
        digest = hashlib.sha256(value.encode("utf-8", "replace")).hexdigest()[:16]
        return f"{value[:MAX_TEXT]}...[cut: {len(value)} characters, sha256 {digest}]"
    if isinstance(value, dict):
        return {str(k)[:MAX_TEXT]: bounded(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        if all(type(v) is str for v in value) and max(map(len, value), default=0) <= MAX_TEXT:
            return list(value)  # e.g. the names of a deleted day: nothing to cut
        return [bounded(v) for v in value]
    return value


@dataclass
class AuditLog:
    path: Path
    actor: str = field(default_factory=default_actor)
    policy_version: str = ""
    anchors: list[Any] = field(default_factory=list)  # extra anchors: git, S3 (see anchor.py)
    ci: dict[str, str] = field(default_factory=ci_identity)

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
        for _, details in events:
            clash = RESERVED & set(details)
            if clash:
                raise ValueError(f"audit details may not set {sorted(clash)}")
        try:
            with self._locked(fcntl.LOCK_EX, write=True) as fd:
                seq, prev = _last_head(fd, self.path)
                self._check_against_anchor(seq, prev)
                written, lines = [], []
                for event, details in events:
                    entry, line = self._entry(seq + 1, prev, event, details)
                    seq, prev = entry["seq"], entry["hash"]
                    written.append(entry)
                    lines.append(line)
                os.write(fd, "".join(lines).encode())
                os.fsync(fd)
                _write_file_anchor(self.anchor_path, seq, prev)
        except OSError as exc:
            raise AuditError(
                f"cannot write the audit log {self.path}: {exc.strerror}; the "
                "action was not done (fix the path or permissions and rerun)"
            ) from exc
        return written

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
        return entry, _sealed(prev, entry)

    def _check_against_anchor(self, seq: int, digest: str) -> None:
        """Refuse to write after a log that disagrees with <log>.head: appending would make a
        cut or rewritten log look whole again."""
        try:
            text = self.anchor_path.read_text() if self.anchor_path.exists() else None
            anchored = json.loads(text) if text is not None else None
            if text is not None and not (
                isinstance(anchored, dict) and isinstance(anchored.get("seq"), int)
            ):
                raise ValueError("not a head")
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
            return
        if anchored["seq"] > seq or (anchored["seq"] == seq and anchored.get("hash") != digest):
            raise AuditError(
                f"the audit log {self.path} ends at entry {seq}, but its head anchor records "
                f"entry {anchored['seq']}: the log was cut or rewritten; nothing was done: run "
                "`cctv-policy audit verify` and have an admin look at it"
            )

    def reanchor(self) -> tuple[int, str]:
        """Anchor the log as it is now (after an admin checked a log that lost its anchor),
        and record who did."""
        with self._locked(fcntl.LOCK_EX, write=True) as fd:
            seq, digest = _last_head(fd, self.path)
            _write_file_anchor(self.anchor_path, seq, digest)
        self.append("audit_reanchored", previous_head=seq)
        return self.head()

    def write_anchor(self, *extra: Any) -> tuple[int, str]:
        """Write the current head to <log>.head and to every extra anchor (git, S3)."""
        with self._locked(fcntl.LOCK_EX, write=True) as fd:
            seq, digest = _last_head(fd, self.path)
            _write_file_anchor(self.anchor_path, seq, digest)
            for anchor in (*self.anchors, *extra):
                anchor.write(seq, digest)
        return seq, digest

    @contextmanager
    def _locked(self, operation: int, write: bool) -> Iterator[int]:
        if write:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        flags = (os.O_RDWR | os.O_APPEND | os.O_CREAT) if write else os.O_RDONLY
        try:
            fd = os.open(self.path, flags | os.O_CLOEXEC, 0o640)
        except OSError as exc:
            raise AuditError(f"cannot open the audit log {self.path}: {exc.strerror}") from exc
        try:
            fcntl.flock(fd, operation)
            yield fd
        finally:
            os.close(fd)  # closing releases the lock


def _write_file_anchor(path: Path, seq: int, digest: str) -> None:
    """Replace <log>.head atomically, through a new file of our own (never through a name
    someone may have planted as a symbolic link)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.write(fd, (json.dumps({"seq": seq, "hash": digest}) + "\n").encode())
    finally:
        os.close(fd)
    os.replace(tmp, path)


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


def _last_line(fd: int) -> bytes | None:
    return next(_lines_backwards(fd), None)


def _lines_backwards(fd: int) -> Iterator[bytes]:
    """The file's lines from the last to the first, read in chunks from the end."""
    position = os.fstat(fd).st_size
    if position and os.pread(fd, 1, position - 1) == b"\n":
        position -= 1  # the last line's own newline
    if position == 0:
        return
    tail = b""  # the start of a line that began in an earlier chunk
    while position > 0:
        start = max(0, position - _CHUNK)
        parts = (os.pread(fd, position - start, start) + tail).split(b"\n")
        position = start
        tail = parts[0]
        yield from reversed(parts[1:])
    yield tail


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
