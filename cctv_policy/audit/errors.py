"""What goes wrong with the audit log: nothing may happen without it."""

from __future__ import annotations

from pathlib import Path


class AuditError(Exception):
    """The audit log cannot be written or read: nothing may happen without it."""


class LogBusy(AuditError):
    """wait=False and someone else holds the log's lock (a writer, or a reader such as `audit
    verify`): nothing was done; try again where waiting is allowed."""


def write_error(path: Path, exc: OSError) -> AuditError:
    return AuditError(
        f"cannot write the audit log {path}: {exc.strerror}; the "
        "action was not done (fix the path or permissions and rerun)"
    )
