"""Group commit for the audit log: decisions made at the same time share one write and one fsync.

Each caller hands in its entry and waits for its own future; the committer thread takes every
entry waiting, appends them with AuditLog.append_many (one lock, one write, one fsync) and only
then resolves their futures. So an answer leaves only after its own record is durable, and under
load one fsync serves as many decisions as arrived while the previous one ran.
"""

from __future__ import annotations

import threading
from collections import deque
from concurrent.futures import Future
from typing import Any

from cctv_policy.audit.log import AuditError, AuditLog

# One batch is one write(); a bound keeps a burst from building one huge line block.
MAX_BATCH = 512


class CommitterStopped(AuditError):
    """The server is stopping: no more entries are accepted."""


class GroupCommitter:
    def __init__(self, audit: AuditLog) -> None:
        self.audit = audit
        self.last_error: str | None = None
        self._waiting: deque[tuple[str, dict[str, Any], Future[dict[str, Any]]]] = deque()
        self._wake = threading.Condition()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="audit-group-commit", daemon=True)
        self._thread.start()

    def submit(self, event: str, details: dict[str, Any]) -> Future[dict[str, Any]]:
        """The future of the entry as written (with its seq and hash), once it is durable."""
        done: Future[dict[str, Any]] = Future()
        with self._wake:
            if self._stopping:
                done.set_exception(CommitterStopped("the decision service is stopping"))
                return done
            self._waiting.append((event, details, done))
            self._wake.notify()
        return done

    def append(self, event: str, **details: Any) -> dict[str, Any]:
        """Append one entry and wait until it is durable (for the server's own events)."""
        return self.submit(event, details).result()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def stop(self) -> None:
        """Write what is waiting, then stop."""
        with self._wake:
            self._stopping = True
            self._wake.notify()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._waiting and not self._stopping:
                    self._wake.wait()
                if not self._waiting:
                    return
                batch = [self._waiting.popleft() for _ in range(min(len(self._waiting), MAX_BATCH))]
            self._commit(batch)

    def _commit(self, batch: list[tuple[str, dict[str, Any], Future[dict[str, Any]]]]) -> None:
        try:
            written = self.audit.append_many([(event, details) for event, details, _ in batch])
        except Exception as exc:  # noqa: BLE001 - every waiter must get an answer, and the thread live on
            self.last_error = str(exc)
            for _, _, done in batch:
                done.set_exception(exc if isinstance(exc, AuditError) else AuditError(str(exc)))
            return
        self.last_error = None
        for (_, _, done), entry in zip(batch, written, strict=True):
            done.set_result(entry)
