"""Hash-chained JSON lines.

Each line is one event: {"seq", "at", "actor", "event", ..., "prev", "hash"} where
hash = sha256(prev + canonical JSON of the line without "hash"). Editing, removing or
reordering any line breaks the chain from there on. Cutting lines off the end leaves a valid
shorter chain, so the head (seq and hash of the last line) is also written to an anchor that an
admin cannot silently rewrite (a git commit of the anchor file, or an Object Lock object on S3);
verify compares the log with the anchor.

Writing is all-or-nothing for the caller: append() raises AuditError if the line cannot be
written and synced, and the enforcer then does not perform the action.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
import socket
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

GENESIS = "0" * 64


class AuditError(Exception):
    """The audit log cannot be written or read: nothing may happen without it."""


def _digest(prev: str, entry: dict[str, Any]) -> str:
    body = json.dumps(entry, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256((prev + body).encode()).hexdigest()


def default_actor() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = f"uid{os.getuid()}"
    return f"{user}@{socket.gethostname()}"


@dataclass
class AuditLog:
    path: Path
    actor: str = field(default_factory=default_actor)
    policy_version: str = ""
    anchors: list[Any] = field(default_factory=list)  # extra anchors: git, S3 (see anchor.py)
    _head: tuple[int, str] | None = None

    @property
    def anchor_path(self) -> Path:
        return self.path.with_name(self.path.name + ".head")

    def head(self) -> tuple[int, str]:
        """(seq, hash) of the last line; (0, GENESIS) for an empty log."""
        if self._head is None:
            self._head = _read_head(self.path)
        return self._head

    def append(self, event: str, **details: Any) -> dict[str, Any]:
        seq, prev = self.head()
        entry = {"seq": seq + 1, "at": datetime.now(UTC).isoformat(), "actor": self.actor,
                 "event": event, "policy_version": self.policy_version, **details, "prev": prev}
        entry["hash"] = _digest(prev, entry)
        line = json.dumps(entry, sort_keys=True, separators=(",", ":"), default=str) + "\n"
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
            try:
                os.write(fd, line.encode())
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            raise AuditError(f"cannot write the audit log {self.path}: {exc.strerror}; "
                             "nothing was done (fix the path or permissions and rerun)") from exc
        self._head = (entry["seq"], entry["hash"])
        return entry

    def write_anchor(self, *extra: Any) -> tuple[int, str]:
        """Write the current head to <log>.head and to every extra anchor (git, S3)."""
        from cctv_policy.audit.anchor import FileAnchor

        seq, digest = self.head()
        for anchor in (FileAnchor(self.anchor_path), *self.anchors, *extra):
            anchor.write(seq, digest)
        return seq, digest


@dataclass
class VerifyResult:
    ok: bool
    entries: int
    problems: list[str]
    head: tuple[int, str]


def verify_log(path: Path, anchor: dict[str, Any] | None = None) -> VerifyResult:
    problems: list[str] = []
    prev, seq, count = GENESIS, 0, 0
    if not path.exists():
        return VerifyResult(False, 0, [f"{path} does not exist"], (0, GENESIS))
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            count += 1
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                problems.append(f"line {number}: not JSON (edited or torn)")
                break
            claimed = entry.pop("hash", None)
            if entry.get("prev") != prev:
                problems.append(f"line {number}: does not follow line {number - 1} "
                                "(a line was removed, inserted or reordered)")
                break
            if entry.get("seq") != seq + 1:
                problems.append(f"line {number}: sequence {entry.get('seq')} after {seq}")
                break
            if _digest(prev, entry) != claimed:
                problems.append(f"line {number}: content does not match its hash (edited)")
                break
            prev, seq = claimed, entry["seq"]
            if anchor is not None and seq == anchor.get("seq") and claimed != anchor.get("hash"):
                problems.append(f"line {number} is not the line that was anchored: the log "
                                "was cut off and rewritten after it was anchored")
                break
    if anchor is not None and not problems and anchor.get("seq", 0) > seq:
        problems.append(f"the log ends at {seq} but the anchor records {anchor['seq']} "
                        "entries: lines were cut off the end")
    return VerifyResult(not problems, count, problems, (seq, prev))


def _read_head(path: Path) -> tuple[int, str]:
    if not path.exists() or path.stat().st_size == 0:
        return (0, GENESIS)
    with open(path, "rb") as handle:
        handle.seek(0, os.SEEK_END)
        size = handle.tell()
        handle.seek(max(0, size - 65536))
        tail = handle.read().splitlines()
    try:
        last = json.loads(tail[-1])
        return int(last["seq"]), str(last["hash"])
    except (ValueError, KeyError, IndexError) as exc:
        raise AuditError(f"the audit log {path} ends in a damaged line; run "
                         "`cctv-policy audit verify` and have an admin look at it") from exc
