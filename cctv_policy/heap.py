"""Python's cycle collector around bulk loads.

Loading a registry makes millions of small objects that live for the whole run and hold no
cycles. Each full collection walks all of them, and the collector runs one every so many
allocations: on bench/check_bench.py's registry (10,000 requests) the collections took about a
third of the load (2.5 s with them, 1.8 s without), and again most of the time of encoding
the policy input. So a load runs with the collector paused, and what it loaded is then moved
out of the collector's sight (gc.freeze): later collections walk only new objects.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """No cycle collection inside; afterwards everything alive is frozen: never walked by
    the collector again (freed by reference counting as ever; only a cycle made before the
    freeze would outlive its use, and a registry load makes none)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


def settle_heap() -> None:
    """Collect the garbage of a registry load and keep what survives out of the collector's
    sight: a full collection over a large snapshot stops every request for 0.1-0.2 s. What an
    earlier call froze (a snapshot swapped out since) becomes collectable again first."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()
