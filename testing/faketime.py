"""A process whose system clock is off by a given amount, for the clock-fault tests.

libfaketime from PyPI ships the real libfaketime shared library (the one Debian's `faketime`
preloads), so the tests need no system package: the child process is started with it in
LD_PRELOAD and FAKETIME set, and every clock read of that process (Python's, the OPA library's)
is shifted. The monotonic clock is left alone, as an NTP step leaves it.
"""

from __future__ import annotations

import os
from importlib.resources import files
from pathlib import Path

_LIBRARY = "vendor/libfaketime/src/libfaketime.so.1"


def faketime_library() -> Path | None:
    """The shared library, or None where the package is missing or ships no Linux build."""
    try:
        path = Path(str(files("libfaketime") / _LIBRARY))
    except ModuleNotFoundError:
        return None
    return path if path.is_file() else None


def shifted_clock_env(offset: str) -> dict[str, str]:
    """This process's environment with the wall clock moved by `offset` (libfaketime's
    relative syntax: "+400d", "-2d"). Raises RuntimeError when libfaketime is unavailable."""
    library = faketime_library()
    if library is None:
        raise RuntimeError("libfaketime is not installed (pip install libfaketime)")
    preload = " ".join(filter(None, [str(library), os.environ.get("LD_PRELOAD", "")]))
    return {
        **os.environ,
        "LD_PRELOAD": preload,
        "FAKETIME": offset,
        "DONT_FAKE_MONOTONIC": "1",
    }
