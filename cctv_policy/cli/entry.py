"""The `cctv-policy` console entry point: the command group, in a process set up for it.

The embedded OPA is Go, and Go reads its collector settings from the environment once, when
the library loads; setting them from Python later has no effect. So a command that wants other
settings is started again at once, as the same process (exec), with them in its environment.
A variable the operator has set is always left as it is.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from cctv_policy.cli.main import cli

# serve: the collector runs a quarter as often (GOGC=400). On bench/authz_bench.py its p99
# latency over six runs was 3.6-5.1 ms instead of 3.6-6.5 ms. Its engine holds only the lean
# decision data (the registry is checked in a child process, with GOGC=100: authz/validate.py),
# so the server's peak stays about 270 MiB.
GO_SETTINGS: dict[str, dict[str, str]] = {"serve": {"GOGC": "400"}}


def main() -> None:
    restart_with_go_settings(sys.argv)
    cli()


def restart_with_go_settings(argv: Sequence[str]) -> None:
    """Exec this command again with its Go settings, unless it has them (or cannot)."""
    command = argv[1] if len(argv) > 1 else ""
    missing = {
        name: value
        for name, value in GO_SETTINGS.get(command, {}).items()
        if name not in os.environ
    }
    if not missing:
        return
    try:
        os.execve(
            sys.executable,
            [sys.executable, "-m", "cctv_policy.cli", *argv[1:]],
            {**os.environ, **missing},
        )
    except OSError:
        return  # it runs as it is, with Go's defaults
