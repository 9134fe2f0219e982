"""Second round against serve's kept-open audit log and its group commit.

- A write that fails (a full disk) while an earlier batch still waits for its sync must let go of
  the log's lock: the descriptor handed out for that sync shares the lock, so closing the kept
  one did not release it, and the event loop then waited on it for ever (the lock goes only
  when the loop itself closes that descriptor).
- <log>.head never goes backwards: the committer thread anchors the server's own events while
  an earlier batch of decisions is being synced; anchoring that batch afterwards rewound the
  anchor, and the thread's entries could be cut off unseen.
- Someone reading the log (`audit verify`, or anyone who may open it and take a shared lock)
  must not stop the event loop: the loop never waits for the log's lock."""

from __future__ import annotations

import asyncio
import errno
import fcntl
import json
import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from cctv_policy.audit import log as audit_log
from cctv_policy.audit.anchor import check_log
from cctv_policy.audit.log import AuditError, AuditLog, sync, verify_log
from cctv_policy.authz import commit as commit_module
from cctv_policy.authz.commit import GroupCommitter


def kept(path: Path) -> AuditLog:
    return AuditLog(path, actor="serve", keep_open=True)


def anchored(path: Path) -> int:
    return int(json.loads(path.with_name(path.name + ".head").read_text())["seq"])


def seqs(path: Path) -> list[int]:
    return [json.loads(line)["seq"] for line in path.read_text().splitlines()]


def fail_writes_of(marker: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    """os.write in the audit log fails with ENOSPC for data that holds `marker`."""
    real_write = os.write

    def full_for_marked(fd: int, data: Any) -> int:
        if marker in bytes(data):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(audit_log.os, "write", full_for_marked)


def test_a_failed_write_lets_go_of_the_lock_while_an_earlier_batch_waits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    path = tmp_path / "audit.jsonl"
    serve = kept(path)
    serve.append("serve_started")
    waiting = serve.write_unsynced([("authorize", {"n": 1})])  # its sync not done yet
    fail_writes_of(b'"n":2', monkeypatch)
    with pytest.raises(AuditError, match="No space left"):
        serve.write_unsynced([("authorize", {"n": 2})])
    monkeypatch.undo()
    done: list[object] = []
    writer = threading.Thread(
        target=lambda: done.append(serve.write_unsynced([("authorize", {"n": 3})])), daemon=True
    )
    writer.start()
    writer.join(3)
    try:
        assert not writer.is_alive(), "the next write waits for a lock nobody will release"
    finally:
        waiting.close()  # (what lets a stuck writer go on)
        writer.join(3)
    sync(done[0].fd)  # type: ignore[attr-defined]
    serve.anchor_synced([done[0]])  # type: ignore[list-item]
    serve.close()
    assert seqs(path) == [1, 2, 3] and check_log(path).ok


def test_a_full_disk_under_load_does_not_wedge_the_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """Through the group commit: a decision being synced, the next one's write fails, and the
    one after that must still get an answer (the event loop must not hang)."""
    path = tmp_path / "audit.jsonl"
    audit = kept(path)
    committer = GroupCommitter(audit)
    committer.append("serve_started")

    def slow_sync(fd: int) -> None:
        time.sleep(0.3)
        sync(fd)

    monkeypatch.setattr(commit_module, "sync", slow_sync)
    fail_writes_of(b'"n":2', monkeypatch)

    async def three() -> list[object]:
        async def decide(n: int) -> object:
            try:
                return await committer.submit_async("authorize", {"n": n})
            except AuditError as exc:
                return exc

        first = asyncio.ensure_future(decide(1))
        await asyncio.sleep(0.05)  # written; its sync takes a while
        second = await decide(2)  # its write fails at once
        third = await decide(3)
        return [await first, second, third]

    outcomes: list[object] = []
    loop_thread = threading.Thread(target=lambda: outcomes.extend(asyncio.run(three())))
    loop_thread.daemon = True
    loop_thread.start()
    loop_thread.join(5)
    try:
        assert not loop_thread.is_alive(), "the event loop hangs on the audit log's lock"
        first, second, third = outcomes
        assert isinstance(first, dict) and isinstance(second, AuditError)
        assert isinstance(third, dict)
    finally:
        committer.stop()
        audit.close()
    assert verify_log(path).ok and check_log(path).ok


def test_the_anchor_never_goes_back_to_an_earlier_batch(tmp_path: Path):
    """The order the committer can produce: the loop wrote a batch of decisions, the thread
    synced it and then appended the server's own event (anchoring it), and only then the loop
    anchors the batch it had written."""
    path = tmp_path / "audit.jsonl"
    serve = kept(path)
    serve.append("serve_started")
    decisions = serve.write_unsynced([("authorize", {"n": 1})])
    sync(decisions.fd)
    serve.append_many([("serve_registry_reloaded", {})])
    assert anchored(path) == 3
    serve.anchor_synced([decisions])
    serve.close()
    assert anchored(path) == 3, "the anchor went back"
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:-1]))  # the reload entry cut off
    assert not check_log(path).ok
    with pytest.raises(AuditError, match="cut or rewritten"):
        AuditLog(path, actor="cli").append("authorize", n=9)


def test_a_reader_holding_the_log_does_not_stop_the_event_loop(tmp_path: Path):
    """While another process reads the log under a shared lock, decisions wait for it, but the
    loop goes on (other requests, deadlines); the decisions are answered once it lets go."""
    path = tmp_path / "audit.jsonl"
    audit = kept(path)
    committer = GroupCommitter(audit)
    committer.append("serve_started")
    ticked = threading.Event()
    early: list[bool] = []

    async def scenario() -> list[dict[str, Any]]:
        decisions = [
            asyncio.ensure_future(committer.submit_async("authorize", {"n": n})) for n in range(3)
        ]
        await asyncio.sleep(0.2)  # the loop must come back to this
        early.append(any(d.done() for d in decisions))
        ticked.set()
        return list(await asyncio.wait_for(asyncio.gather(*decisions), 10))

    entries: list[dict[str, Any]] = []
    reader = os.open(path, os.O_RDONLY)
    fcntl.flock(reader, fcntl.LOCK_SH)
    loop_thread = threading.Thread(target=lambda: entries.extend(asyncio.run(scenario())))
    loop_thread.daemon = True
    try:
        loop_thread.start()
        loop_went_on = ticked.wait(2)
    finally:
        os.close(reader)  # the reader lets go
    loop_thread.join(10)
    try:
        assert loop_went_on, "the event loop stood still while the log was read"
        assert early == [False], "answered before the entries were written"
        assert not loop_thread.is_alive()
        assert sorted(entry["n"] for entry in entries) == [0, 1, 2]
        durable = path.read_text()
        assert all(f'"hash":"{entry["hash"]}"' in durable for entry in entries)
    finally:
        committer.stop()
        audit.close()
    assert verify_log(path).ok and check_log(path).ok
