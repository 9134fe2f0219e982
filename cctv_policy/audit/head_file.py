"""<log>.head: the head of the audit log (seq and hash of its last line), so that cutting
lines off the end can be seen. Always ANCHOR_BYTES long, overwritten in place under the log's
lock, never written through a name someone planted."""

from __future__ import annotations

import json
import os
import stat
import tempfile
from pathlib import Path
from typing import Any

_SMALL_FILE = 1 << 16
# <log>.head is always this many bytes (JSON padded with spaces), so it can be overwritten in
# place: one write under the log's lock instead of a new file and a rename on every append.
ANCHOR_BYTES = 128


def file_state(path: Path) -> tuple[int, ...] | None:
    """What changes whenever a file is written or replaced (None: there is no file)."""
    try:
        st = os.stat(path, follow_symlinks=False)
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


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


def read_anchor(path: Path) -> dict[str, Any] | None:
    """The head <log>.head records ({"seq": int, "hash"}), or None when there is no anchor.
    Raises OSError when it cannot be read and ValueError when it holds no head."""
    text = read_small(path)
    if text is None:
        return None
    head = json.loads(text)
    if not (isinstance(head, dict) and isinstance(head.get("seq"), int)):
        raise ValueError("not a head")
    return head


def anchored_seq(path: Path) -> int:
    """The seq <log>.head records; -1 when there is none that can be read."""
    try:
        head = read_anchor(path)
    except (OSError, ValueError):
        return -1
    return -1 if head is None else int(head["seq"])


def read_small(path: Path, limit: int = _SMALL_FILE) -> bytes | None:
    """A small file's bytes (at most `limit`), or None when it does not exist."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    try:
        return os.read(fd, limit)
    finally:
        os.close(fd)
