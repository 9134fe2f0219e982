"""The in-memory backend under the enforcer's threads: one thread deletes while another lists
(tests/enforce/test_day_batches.py failed 1 run in 7 with "dictionary changed size during
iteration" before the backend read a snapshot of its keys under a lock)."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

from storage_backends.memory import MemoryBackend
from testing.helpers import DEMO_LAYOUT as LAYOUT

DAY = date(2026, 6, 1)


def test_listing_while_another_thread_deletes_never_fails() -> None:
    start = datetime(2026, 6, 1, tzinfo=UTC)
    keys = [LAYOUT.key("CAM-A", start + timedelta(seconds=s), 1) for s in range(20_000)]
    backend = MemoryBackend("nas", LAYOUT, keys)
    failures: list[BaseException] = []

    def delete_one_by_one() -> None:
        for key in keys:
            backend.delete([key])

    deleter = threading.Thread(target=delete_one_by_one)
    deleter.start()
    try:
        while deleter.is_alive():
            backend.list_day("CAM-A", DAY)
            backend.list_days("CAM-A")
            backend.top_level()
            list(backend.list_segments("CAM-A", DAY))
    except RuntimeError as exc:  # "dictionary changed size during iteration"
        failures.append(exc)
    finally:
        deleter.join()
    assert not failures, failures
    assert not backend.objects
