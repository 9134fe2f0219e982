"""Progress on standard error: a live bar on a terminal, and otherwise (a CI log, cron mail) a
plain line every few seconds, so a long run is never silent until it ends."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

from cctv_policy.output import printable

Advance = Callable[[int, str | None], None]
# Seconds between progress lines when standard error is not a terminal.
INTERVAL_ENV = "CCTV_POLICY_PROGRESS_SECONDS"


@contextmanager
def progress(verb: str, unit: str, total: int, stream: TextIO | None = None) -> Iterator[Advance]:
    """Yield advance(n, description): a bar on a terminal, periodic lines elsewhere."""
    stream = stream or sys.stderr
    if stream.isatty():
        with _bar(verb, unit, total) as advance:
            yield advance
        return
    lines = _Lines(verb, unit, total, stream, float(os.environ.get(INTERVAL_ENV, "10")))
    yield lines.advance
    lines.finish()


@contextmanager
def _bar(verb: str, unit: str, total: int) -> Iterator[Advance]:
    # Imported here: a run without a terminal (cron, CI) has no use for the bar.
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    with Progress(
        TextColumn(f"{verb} {{task.description}}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task(unit, total=total)

        def advance(n: int, description: str | None = None) -> None:
            bar.update(task, advance=n, description=description or unit)

        yield advance


class _Lines:
    def __init__(self, verb: str, unit: str, total: int, stream: TextIO, every: float) -> None:
        self.verb, self.unit, self.total, self.stream, self.every = verb, unit, total, stream, every
        self.done = 0
        self.started = self.last = time.monotonic()
        self.current: str | None = None

    def advance(self, n: int, description: str | None = None) -> None:
        self.done += n
        self.current = description or self.current
        now = time.monotonic()
        if now - self.last >= self.every:
            self.last = now
            self.write()

    def write(self) -> None:
        share = f" ({100 * self.done // self.total}%)" if self.total else ""
        at = f", at {printable(self.current)}" if self.current else ""
        elapsed = time.monotonic() - self.started
        print(
            f"{self.verb}: {self.done}/{self.total} {self.unit}{share}{at}, {elapsed:.0f} s",
            file=self.stream,
            flush=True,
        )

    def finish(self) -> None:
        if self.done and time.monotonic() - self.started >= self.every:
            self.current = None
            self.write()
