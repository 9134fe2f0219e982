"""Reading and deleting whole day folders in worker processes.

A day folder is read (scandir, every name checked against the layout) and emptied (one unlink
per file) mostly in the kernel and in C, and that work scales over the cores when processes do
it in different folders: on bench/sweep_bench.py's tree (2 cores) 240,000 files are unlinked in
1.2 s by one process and in 0.62 s by two. Python threads do not scale the same way: each
waits for the GIL after every call. So the filesystem backend hands batches of days to a small
pool of processes. Every folder is still reached from the root through O_NOFOLLOW
descriptors, now in the worker.

Workers start from a fork server, not by forking this process: the embedded OPA's Go runtime
(loaded by then) does not survive a fork. Where no worker can run, the work is done here.
"""

from __future__ import annotations

import errno
import os
import select
import threading
import time
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from storage_backends.base import DayListing, day_listing
from storage_backends.fdtree import DirectoryWalker
from storage_backends.layout import Layout

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

WORKERS = max(1, min(os.cpu_count() or 1, 4))

# (folder, names to unlink) in; per folder: the names that failed with why (None: already
# gone), or why the folder could not be opened.
DayWork = tuple[str, list[str]]
DayOutcome = dict[str, str | None] | str
Result = TypeVar("Result")


def read_days(root: str, layout: Layout, wanted: Sequence[tuple[str, date]]) -> list[DayListing]:
    """Each wanted camera-day folder in one listing (see day_listing)."""
    listings = []
    with DirectoryWalker(Path(root)) as walker:
        for camera, day in wanted:
            prefix = layout.day_prefix(camera, day)
            assert prefix is not None  # callers ask only for layouts with a day level
            listings.append(read_day(walker, layout, camera, prefix))
    return listings


def read_day(walker: DirectoryWalker, layout: Layout, camera: str, prefix: str) -> DayListing:
    try:
        fd = walker.open(prefix.rstrip("/"))  # O_NOFOLLOW all the way down
        with os.scandir(fd) as entries:
            found = [(e.name, e.is_file(follow_symlinks=False)) for e in entries]
    except FileNotFoundError:
        return DayListing(prefix, (), 0)
    except OSError:  # a link or a file on the way: the day is read the slow way, reported
        return DayListing(prefix, (), 0, odd=True)
    return day_listing(layout, camera, prefix, found)


def unlink_days(root: str, work: list[DayWork]) -> list[DayOutcome]:
    """Unlink each folder's names, then remove the folders (and their parents) left empty."""
    outcomes: list[DayOutcome] = []
    with DirectoryWalker(Path(root)) as walker:
        for directory, names in work:
            try:
                fd = walker.open(directory)
            except FileNotFoundError as exc:
                if exc.errno == errno.ENOENT:  # the whole folder is gone: so are its files
                    outcomes.append(dict.fromkeys(names))
                    continue
                outcomes.append("not deleted: not a folder of the layout")
                continue
            except OSError as exc:  # a link or a file on the way: nothing of it is touched
                outcomes.append(f"not deleted: {exc.strerror}")
                continue
            outcomes.append(unlink_names(fd, names))
        for directory in sorted(walker.opened, key=lambda d: d.count("/"), reverse=True):
            remove_if_empty(walker, directory)
    return outcomes


def unlink_names(fd: int, names: list[str]) -> dict[str, str | None]:
    """Unlink names in one folder; the names that failed, with why (None: already gone)."""
    failed: dict[str, str | None] = {}
    unlink = os.unlink
    for name in names:
        try:
            unlink(name, dir_fd=fd)
        except FileNotFoundError:
            failed[name] = None
        except OSError as exc:
            failed[name] = f"not deleted: {exc.strerror}"
    return failed


def remove_if_empty(walker: DirectoryWalker, directory: str) -> None:
    """Remove an emptied day (then month, year) folder by name in its parent's descriptor:
    a folder swapped for a symbolic link meanwhile is never followed."""
    while directory:
        parent, _, name = directory.rpartition("/")
        try:
            os.rmdir(name, dir_fd=walker.open(parent))
        except OSError:
            return
        directory = parent


def watch_parent(pid: int) -> None:
    """In each worker: exit as soon as the enforcer that started it is gone. A worker's parent
    is the fork server, and it waits for work on a queue it holds both ends of, so without
    this an enforcer killed by a signal (OOM killer, a timeout) leaves the workers and their
    fork server running for good."""

    def watch() -> None:
        try:
            pidfd = os.pidfd_open(pid)
        except ProcessLookupError:
            os._exit(0)
        except (AttributeError, OSError):  # no pidfd_open here: look every second
            while True:
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    os._exit(0)
                except OSError:
                    pass
                time.sleep(1)
        select.select([pidfd], [], [])
        os._exit(0)

    threading.Thread(target=watch, name="watch-enforcer", daemon=True).start()


class DayWorkers:
    """A pool of worker processes for one run, started on first use and shared by every
    backend the run makes. Its owner (the command that runs) closes it; a backend made
    without one does its work in this process."""

    def __init__(self, processes: int = 1) -> None:
        """`processes`: how many runs share this machine's cores (--shard I/N: N), this one
        takes its share. With fewer than two cores for it, the work is done in-process: the
        shards already fill the cores, and a fork server per shard only costs (two shards on
        2 cores in bench/sweep_bench.py: 1.62-1.78 s in-process, 1.84-1.95 s with workers)."""
        self._lock = threading.Lock()
        self._pool: ProcessPoolExecutor | None = None
        self._broken = False
        self._warming = False
        self._size = min(WORKERS, (os.cpu_count() or 1) // max(1, processes))

    @classmethod
    def none(cls) -> DayWorkers:
        """No worker processes: everything in this process."""
        return cls(processes=1 << 16)

    def __enter__(self) -> DayWorkers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the workers (work nobody waits for any more is cancelled)."""
        with self._lock:
            pool, self._pool, self._broken = self._pool, None, True
        if pool is not None:
            pool.shutdown(cancel_futures=True)

    def start(self) -> None:
        """Start the workers in the background (the fork server takes a moment to come up)."""
        with self._lock:
            if self._warming or self._pool is not None or self._broken or self._size < 2:
                return
            self._warming = True
        # One call per worker at once: the pool starts a process per call that finds none idle.
        warm_up = [()] * self._size
        threading.Thread(target=self.map, args=(os.getpid, warm_up), daemon=True).start()

    def workers(self) -> int:
        return max(1, self._size)

    def call(self, work: Callable[..., Result], *args: object) -> Result:
        """work(*args) in a worker process; here when none can run (the work is idempotent:
        a batch a dying worker left half done is redone)."""
        return self.map(work, [args])[0]

    def map(self, work: Callable[..., Result], calls: Sequence[tuple[object, ...]]) -> list[Result]:
        """work(*args) for each args, spread over the workers; results in order."""
        pool = self._get()
        if pool is not None:
            from concurrent.futures.process import BrokenProcessPool

            try:
                futures = [pool.submit(work, *args) for args in calls]
                return [future.result() for future in futures]
            except (BrokenProcessPool, OSError, RuntimeError):  # RuntimeError: closed meanwhile
                self._broken = True
        return [work(*args) for args in calls]

    def _get(self) -> ProcessPoolExecutor | None:
        with self._lock:
            if self._size < 2:
                return None  # one core for this run: no process to hand work to
            if self._pool is None and not self._broken:
                self._pool = _new_pool(self._size)
                self._broken = self._pool is None
            return None if self._broken else self._pool


def _new_pool(size: int) -> ProcessPoolExecutor | None:
    """A pool started from a fork server (None where none can start). Imported here: a run
    that shares out no work (one shard of several) never loads multiprocessing."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    try:
        context = multiprocessing.get_context("forkserver")
        return ProcessPoolExecutor(
            max_workers=size,
            mp_context=context,
            initializer=watch_parent,
            initargs=(os.getpid(),),
        )
    except (OSError, ValueError):
        return None
