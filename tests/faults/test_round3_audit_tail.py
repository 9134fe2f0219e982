"""One very long last line must not stall the writers (issue #26, round 3).

Finding the head read the file backwards and joined each new chunk to the growing tail: the work
was quadratic in the last line's length. After one 63 MB line (an ingested decision), serve
froze for 45 s and each `authorize` took 100 s. Now no writer may write a line over
MAX_LINE_BYTES, and the tail is found in a few large reads whatever the file holds (a log written
before the limit may still end in such a line)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from cctv_policy.audit.chain import sealed
from cctv_policy.audit.log import AuditError, AuditLog, verify_log
from cctv_policy.audit.log import write_file_anchor as anchor_at

LONG_LINE = 30 << 20


def _legacy_log(path: Path) -> tuple[int, str]:
    """A log of two short entries and a 30 MB last one (as an old version could write),
    anchored at its end. Returns the head."""
    log = AuditLog(path)
    log.append("serve_started", n=1)
    seq, prev = log.head()
    entry = {"seq": seq + 1, "at": "2026-11-22T10:00:00+00:00", "actor": "old", "event": "x"}
    entry.update(blob="a" * LONG_LINE, prev=prev)
    with path.open("a") as handle:
        handle.write(sealed(prev, entry))
    anchor_at(log.anchor_path, entry["seq"], entry["hash"])
    return entry["seq"], entry["hash"]


class ReadCounter:
    def __init__(self) -> None:
        self.calls = 0
        self.bytes = 0
        self._pread = os.pread

    def __call__(self, fd: int, length: int, offset: int) -> bytes:
        self.calls += 1
        data = self._pread(fd, length, offset)
        self.bytes += len(data)
        return data


@pytest.fixture(scope="module")
def legacy(tmp_path_factory) -> tuple[Path, tuple[int, str]]:
    path = tmp_path_factory.mktemp("tail") / "audit.jsonl"
    return path, _legacy_log(path)


def test_the_head_after_a_30_mb_line_takes_a_few_reads(legacy, monkeypatch):
    path, head = legacy
    counter = ReadCounter()
    monkeypatch.setattr(os, "pread", counter)
    started = time.monotonic()
    assert AuditLog(path).head() == head
    elapsed = time.monotonic() - started
    # Old code: 480 reads of 64 KiB, each joined to the growing tail (quadratic copying).
    assert counter.calls <= 24, counter.calls
    assert counter.bytes <= 2 * path.stat().st_size
    assert elapsed < 5, elapsed  # generous: about 0.1 s here


def test_a_writer_after_a_30_mb_line_appends_at_once(legacy, monkeypatch):
    path, (seq, _) = legacy
    counter = ReadCounter()
    monkeypatch.setattr(os, "pread", counter)
    log = AuditLog(path)
    written = log.append("authorize", principal="t.wang")
    assert written["seq"] == seq + 1
    assert log.last_entry("serve_started") is not None  # read back across the long line
    assert counter.calls <= 60, counter.calls


def test_a_line_longer_than_the_limit_is_refused_for_every_writer(tmp_path: Path):
    path = tmp_path / "audit.jsonl"
    log = AuditLog(path)
    log.append("serve_started")
    before = path.read_bytes()
    too_many = [f"CAM-{i:06d}/2026-11-18/{i:06d}.mp4" for i in range(400_000)]  # ~13 MB
    with pytest.raises(AuditError, match="longer than the audit log's limit"):
        log.append("delete", keys=too_many)
    kept = AuditLog(path, keep_open=True, max_line=64 << 10)
    with pytest.raises(AuditError, match="longer than"):
        kept.append_many([("ok", {"n": 1}), ("opa_decision", {"keys": too_many[:3000]})])
    kept.close()
    assert path.read_bytes() == before, "nothing of a refused group is written"
    assert verify_log(path).ok
    assert max(len(line) for line in path.read_bytes().splitlines()) < 64 << 10


def test_lines_backwards_gives_every_line_whatever_their_lengths(tmp_path: Path):
    from cctv_policy.audit.tail import lines_backwards

    lines = [b"x" * n for n in (0, 1, 4095, 4096, 4097, 70_000, 3, 9_000_000, 2, 0, 5)]
    path = tmp_path / "lines"
    path.write_bytes(b"\n".join(lines) + b"\n")
    fd = os.open(path, os.O_RDONLY)
    try:
        assert list(lines_backwards(fd)) == lines[::-1]
    finally:
        os.close(fd)
