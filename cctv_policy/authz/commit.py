"""Group commit for the audit log: decisions made at the same time share one write and one sync.

Each answer leaves only after its own audit entry is durable. Two ways in:

- submit_async, for the event loop's requests: the entries of one turn of the loop are written
  together by the loop (AuditLog.write_unsynced: the lines, no waiting for the disk); the
  committer thread syncs them, and the loop then anchors the head and resolves the futures.
  While one sync runs, the loop writes the next entries, and the next sync covers them all.
  (The committer thread needs the GIL twice per sync; when it wrote the entries itself it
  needed it after every system call, and each time waited for the busy loop.)
- submit/append, for other threads (the server's own events): the committer thread appends
  them with AuditLog.append_many (one lock, one write, one sync) and resolves their futures.

The loop never waits for the log's lock (another writer, or a reader such as `audit verify`,
may hold it for long): when it is taken, the loop hands the write, or the anchoring, over to
the committer thread, which waits for it.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any

from cctv_policy.audit.log import AuditError, AuditLog, LogBusy, Unsynced, sync

# One batch is one write(); a bound keeps a burst from building one huge line block.
MAX_BATCH = 512

Waiter = Future[dict[str, Any]] | asyncio.Future[dict[str, Any]]
Outcome = dict[str, Any] | AuditError
Entry = tuple[str, dict[str, Any], Waiter]


class CommitterStopped(AuditError):
    """The server is stopping: no more entries are accepted."""


@dataclass
class _Written:
    """Entries the loop wrote, waiting for the committer thread to sync them."""

    unsynced: Unsynced
    waiters: list[Waiter]
    loop: asyncio.AbstractEventLoop


class GroupCommitter:
    def __init__(self, audit: AuditLog) -> None:
        self.audit = audit
        self.last_error: str | None = None
        self._waiting: deque[Entry] = deque()  # from other threads: appended by the thread
        self._on_loop: list[Entry] = []  # this turn of the loop's entries
        self._to_sync: list[_Written] = []  # written by the loop: synced by the thread
        # synced, to be anchored and answered by the thread (the log was locked for the loop)
        self._to_anchor: list[tuple[list[_Written], AuditError | None]] = []
        self._writing = threading.Lock()  # the loop and the thread write through one AuditLog
        self._wake = threading.Condition()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="audit-group-commit", daemon=True)
        self._thread.start()

    def submit(self, event: str, details: dict[str, Any]) -> Future[dict[str, Any]]:
        """The future of the entry as written (with its seq and hash), once it is durable."""
        done: Future[dict[str, Any]] = Future()
        with self._wake:
            if not self._stopping:
                self._waiting.append((event, details, done))
                self._wake.notify()
                return done
        _resolve(done, CommitterStopped("the decision service is stopping"))
        return done

    def submit_async(self, event: str, details: dict[str, Any]) -> asyncio.Future[dict[str, Any]]:
        """As submit, for a caller on the running event loop."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[dict[str, Any]] = loop.create_future()
        if self._stopping:
            _resolve(done, CommitterStopped("the decision service is stopping"))
            return done
        self._on_loop.append((event, details, done))
        if len(self._on_loop) == 1:
            loop.call_soon(self._write_on_loop, loop)
        return done

    def append(self, event: str, **details: Any) -> dict[str, Any]:
        """Append one entry and wait until it is durable (for the server's own events)."""
        return self.submit(event, details).result()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def stop(self) -> None:
        """Write and sync what is waiting, then stop."""
        with self._wake:
            self._stopping = True
            self._wake.notify()
        self._thread.join(timeout=30)

    def _write_on_loop(self, loop: asyncio.AbstractEventLoop) -> None:
        batch, self._on_loop = self._on_loop, []
        waiters = [done for _, _, done in batch]
        try:
            with self._writer(wait=False):
                events = [(e, fields) for e, fields, _ in batch]
                unsynced = self.audit.write_unsynced(events, wait=False)
        except LogBusy:  # the thread waits for the lock instead, and answers them
            with self._wake:
                self._waiting.extend(batch)
                self._wake.notify()
            return
        except Exception as exc:  # noqa: BLE001 - every waiter must get an answer
            self._settle(waiters, self._failed(exc, len(waiters)))
            return
        with self._wake:
            self._to_sync.append(_Written(unsynced, waiters, loop))
            self._wake.notify()

    def _run(self) -> None:
        while True:
            with self._wake:
                while (
                    not self._waiting
                    and not self._to_sync
                    and not self._to_anchor
                    and not self._stopping
                ):
                    self._wake.wait()
                if not self._waiting and not self._to_sync and not self._to_anchor:
                    return
                written, self._to_sync = self._to_sync, []
                to_anchor, self._to_anchor = self._to_anchor, []
                count = min(len(self._waiting), MAX_BATCH)
                batch = [self._waiting.popleft() for _ in range(count)]
            for synced, failure in to_anchor:
                self._finish(synced, failure, wait=True)
            if written:
                self._sync(written)
            if batch:
                self._append(batch)

    def _sync(self, written: list[_Written]) -> None:
        """One sync covers every write before it to the same file (a rotation between two
        writes makes two files: each is synced)."""
        failure: AuditError | None = None
        newest: dict[tuple[int, int], int] = {}
        for item in written:
            newest[item.unsynced.identity] = item.unsynced.fd
        try:
            for fd in newest.values():
                sync(fd)
        except OSError as exc:
            failure = AuditError(f"cannot sync the audit log: {exc.strerror}; nothing was done")
        by_loop: dict[asyncio.AbstractEventLoop, list[_Written]] = {}
        for item in written:
            by_loop.setdefault(item.loop, []).append(item)
        for loop, items in by_loop.items():
            try:
                loop.call_soon_threadsafe(self._synced, items, failure)
            except RuntimeError:  # that loop is closed: nobody waits; the anchor may lag
                for item in items:
                    item.unsynced.close()

    def _synced(self, written: list[_Written], failure: AuditError | None) -> None:
        """On the loop: anchor the head and answer, or tell every waiter it failed."""
        self._finish(written, failure, wait=False)

    def _finish(self, written: list[_Written], failure: AuditError | None, wait: bool) -> None:
        """Anchor the head and answer, or tell every waiter it failed. wait=False (the loop):
        when the log's lock is taken, hand this over to the committer thread."""
        waiters = [done for item in written for done in item.waiters]
        try:
            with self._writer(wait):
                if failure is None:
                    try:
                        self.audit.anchor_synced([item.unsynced for item in written], wait=wait)
                    except LogBusy:
                        raise
                    except AuditError as exc:
                        failure = exc
                else:
                    self.audit.close()  # what reached the disk is unknown: read the head again
                    for item in written:
                        item.unsynced.close()
        except LogBusy:
            with self._wake:
                self._to_anchor.append((written, failure))
                self._wake.notify()
            return
        if failure is not None:
            self._settle(waiters, self._failed(failure, len(waiters)))
            return
        self.last_error = None
        entries = [entry for item in written for entry in item.unsynced.entries]
        self._settle(waiters, entries)

    def _append(self, batch: list[Entry]) -> None:
        outcomes: list[Outcome]
        try:
            with self._writer(wait=True):
                outcomes = list(
                    self.audit.append_many([(event, fields) for event, fields, _ in batch])
                )
        except Exception as exc:  # noqa: BLE001 - every waiter must get an answer, and the thread live on
            outcomes = self._failed(exc, len(batch))
        else:
            self.last_error = None
        self._settle([done for _, _, done in batch], outcomes)

    @contextmanager
    def _writer(self, wait: bool) -> Iterator[None]:
        """The right to write through the AuditLog; wait=False: LogBusy if the other side
        (loop or thread) has it."""
        if not self._writing.acquire(blocking=wait):
            raise LogBusy("the committer thread is writing")
        try:
            yield
        finally:
            self._writing.release()

    def _failed(self, exc: Exception, count: int) -> list[Outcome]:
        self.last_error = str(exc)
        failure = exc if isinstance(exc, AuditError) else AuditError(str(exc))
        return [failure] * count

    @staticmethod
    def _settle(waiters: list[Waiter], outcomes: Sequence[Outcome]) -> None:
        """Resolve each waiter, on its own loop when it has one and that is not this one."""
        here = _running_loop()
        elsewhere: dict[asyncio.AbstractEventLoop, list[tuple[Waiter, Outcome]]] = {}
        for done, outcome in zip(waiters, outcomes, strict=True):
            if isinstance(done, asyncio.Future) and done.get_loop() is not here:
                elsewhere.setdefault(done.get_loop(), []).append((done, outcome))
            else:
                _resolve(done, outcome)
        for loop, settled in elsewhere.items():
            with suppress(RuntimeError):  # that loop is closed: nobody waits any more
                loop.call_soon_threadsafe(_resolve_all, settled)


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _resolve(done: Waiter, outcome: Outcome) -> None:
    if done.done():  # the caller gave up waiting (its request was cancelled)
        return
    if isinstance(outcome, AuditError):
        done.set_exception(outcome)
    else:
        done.set_result(outcome)


def _resolve_all(settled: list[tuple[Waiter, Outcome]]) -> None:
    for done, outcome in settled:
        _resolve(done, outcome)
