"""The audit log's lines read backwards from the end, in time linear in what is read.

Each line's pieces are kept in a list and joined once when its start is found: joining a
growing tail with every new chunk made a 63 MB last line cost seconds to find (every writer
that needed the head stood still meanwhile). Chunks grow from a page to CHUNK_LIMIT, so a long
line costs a few large reads."""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator

FIRST_CHUNK = 1 << 12
CHUNK_LIMIT = 1 << 23


def lines_backwards(fd: int) -> Iterator[bytes]:
    """The file's lines from the last to the first (without their newlines)."""
    position = os.fstat(fd).st_size
    if position and os.pread(fd, 1, position - 1) == b"\n":
        position -= 1  # the last line's own newline
    if position == 0:
        return
    pieces: list[bytes] = []  # the current line's parts, from its end backwards
    chunk = FIRST_CHUNK
    while position > 0:
        start = max(0, position - chunk)
        data = _read_exactly(fd, position - start, start)
        chunk = min(chunk * 2, CHUNK_LIMIT)
        position = start
        end = len(data)
        newline = data.rfind(b"\n", 0, end)
        while newline >= 0:
            pieces.append(data[newline + 1 : end])
            yield b"".join(reversed(pieces))
            pieces = []
            end = newline
            newline = data.rfind(b"\n", 0, end)
        pieces.append(data[:end])
    yield b"".join(reversed(pieces))


def last_line(fd: int) -> bytes | None:
    return next(lines_backwards(fd), None)


def _read_exactly(fd: int, length: int, offset: int) -> bytes:
    parts, done = [], 0
    while done < length:
        part = os.pread(fd, length - done, offset + done)
        if not part:
            raise OSError(errno.EIO, "the audit log became shorter while it was read")
        parts.append(part)
        done += len(part)
    return b"".join(parts)
