"""The audit log as serve writes it: kept open, its head remembered between appends, lines
written by the event loop and synced by the committer thread. What it remembers must never let
it write past something it should have seen: another writer's lines, a cut tail, a replaced
log, a tampered anchor. A full disk must not leave half a line, and a failed sync must not
pass for a logged decision."""

from __future__ import annotations

import asyncio
import errno
import json
import multiprocessing
import os
import threading
from pathlib import Path

import pytest

from cctv_policy.audit import log as audit_log
from cctv_policy.audit.anchor import check_log
from cctv_policy.audit.log import AuditError, AuditLog, verify_log
from cctv_policy.authz.commit import GroupCommitter


def kept(path: Path) -> AuditLog:
    return AuditLog(path, actor="serve", keep_open=True)


def seqs(path: Path) -> list[int]:
    return [json.loads(line)["seq"] for line in path.read_text().splitlines()]


def test_another_writer_between_two_appends_is_chained_after(tmp_path: Path):
    path = tmp_path / "audit.jsonl"
    serve = kept(path)
    serve.append("authorize", n=1)
    AuditLog(path, actor="apply").append("delete", n=2)  # a CLI run meanwhile
    serve.append("authorize", n=3)
    assert seqs(path) == [1, 2, 3]
    assert verify_log(path).ok and check_log(path).ok


def _other_process(path: str) -> None:
    log = AuditLog(Path(path), actor="apply")
    for i in range(200):
        log.append("delete", n=i)


def test_a_process_writing_at_the_same_time_keeps_one_chain(tmp_path: Path):
    path = tmp_path / "audit.jsonl"
    serve = kept(path)
    other = multiprocessing.get_context("fork").Process(target=_other_process, args=(str(path),))
    other.start()
    for i in range(200):
        serve.append("authorize", n=i)
    other.join(60)
    assert seqs(path) == list(range(1, 401))
    assert verify_log(path).ok and check_log(path).ok


def test_a_cut_tail_is_refused_not_written_past(tmp_path: Path):
    path = tmp_path / "audit.jsonl"
    serve = kept(path)
    for i in range(3):
        serve.append("authorize", n=i)
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:-1]))  # the last entry removed, in place
    with pytest.raises(AuditError, match="cut or rewritten"):
        serve.append("authorize", n=9)
    assert seqs(path) == [1, 2]


def test_a_cut_tail_grown_back_to_the_same_size_is_refused(tmp_path: Path):
    """The cheap test (same size as left) is not the only one: the anchor's state is too."""
    path = tmp_path / "audit.jsonl"
    serve = kept(path)
    for i in range(3):
        serve.append("authorize", n=i)
    anchor = path.with_name(path.name + ".head")
    text = path.read_bytes()
    lines = text.splitlines(keepends=True)
    forged = b"".join(lines[:-1])
    forged += b" " * (len(text) - len(forged) - 1) + b"\n"  # same size, last entry gone
    path.write_bytes(forged)
    anchor.write_bytes(anchor.read_bytes())  # and the anchor touched: it is read again
    with pytest.raises(AuditError):
        serve.append("authorize", n=9)


def test_a_replaced_log_is_not_written_through_the_old_descriptor(tmp_path: Path):
    path = tmp_path / "audit.jsonl"
    serve = kept(path)
    serve.append("authorize", n=1)
    os.rename(path, tmp_path / "rotated.jsonl")
    with pytest.raises(AuditError, match="head anchor"):
        serve.append("authorize", n=2)  # an empty new log behind an anchor at 1: refused
    assert not path.exists() or path.read_text() == ""
    assert seqs(tmp_path / "rotated.jsonl") == [1]


def test_a_tampered_anchor_refuses_until_it_is_put_back(tmp_path: Path):
    path = tmp_path / "audit.jsonl"
    serve = kept(path)
    serve.append("authorize", n=1)
    anchor = path.with_name(path.name + ".head")
    good = anchor.read_bytes()
    anchor.write_text('{"seq": 99, "hash": "x"}\n')
    with pytest.raises(AuditError, match="cut or rewritten"):
        serve.append("authorize", n=2)
    anchor.write_bytes(good)
    serve.append("authorize", n=2)
    assert seqs(path) == [1, 2] and check_log(path).ok


def test_a_full_disk_leaves_no_half_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    path = tmp_path / "audit.jsonl"
    serve = kept(path)
    serve.append("authorize", n=1)
    real_write = os.write
    calls = {"n": 0}

    def half_then_full(fd: int, data: bytes) -> int:
        calls["n"] += 1
        if calls["n"] == 1:
            return real_write(fd, bytes(data[: len(data) // 2]))
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(audit_log.os, "write", half_then_full)
    with pytest.raises(AuditError, match="No space left"):
        serve.append("authorize", n=2, principal="x" * 300)
    monkeypatch.setattr(audit_log.os, "write", real_write)
    assert seqs(path) == [1], "the half line was cut off again"
    serve.append("authorize", n=3)
    assert seqs(path) == [1, 2] and verify_log(path).ok


def test_a_failed_sync_answers_no_decision(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    path = tmp_path / "audit.jsonl"
    audit = kept(path)
    committer = GroupCommitter(audit)

    def broken_sync(fd: int) -> None:
        raise OSError(errno.EIO, "Input/output error")

    async def decide(n: int) -> object:
        try:
            return await committer.submit_async("authorize", {"n": n})
        except AuditError as exc:
            return exc

    async def five() -> list[object]:
        return list(await asyncio.gather(*(decide(n) for n in range(5))))

    try:
        monkeypatch.setattr("cctv_policy.authz.commit.sync", broken_sync)
        failed = asyncio.run(asyncio.wait_for(five(), 10))
        assert all(isinstance(outcome, AuditError) for outcome in failed)
        assert committer.last_error and "Input/output error" in committer.last_error
        monkeypatch.undo()
        fine = asyncio.run(asyncio.wait_for(decide(9), 10))
        assert isinstance(fine, dict) and fine["seq"] == 6, "after the lines it could not sync"
    finally:
        committer.stop()
        audit.close()
    assert verify_log(path).ok and check_log(path).ok


def test_loop_and_thread_entries_share_one_chain(tmp_path: Path):
    """Decisions from the event loop and the server's own events from another thread, at the
    same time: every answer only after its entry is durable, one chain, nothing lost."""
    path = tmp_path / "audit.jsonl"
    audit = kept(path)
    committer = GroupCommitter(audit)
    from_thread: list[dict[str, object]] = []

    def server_events() -> None:
        for i in range(50):
            from_thread.append(committer.append("serve_registry_reloaded", n=i))

    async def decisions() -> list[dict[str, object]]:
        async def one(n: int) -> dict[str, object]:
            entry = await committer.submit_async("authorize", {"n": n})
            durable = path.read_text()  # written (and synced) before the answer
            assert f'"hash":"{entry["hash"]}"' in durable
            return entry

        return list(await asyncio.gather(*(one(n) for n in range(400))))

    thread = threading.Thread(target=server_events)
    try:
        thread.start()
        answered = asyncio.run(decisions())
        thread.join(30)
    finally:
        committer.stop()
        audit.close()
    assert len(answered) == 400 and len(from_thread) == 50
    assert seqs(path) == list(range(1, 451))
    assert verify_log(path).ok and check_log(path).ok
