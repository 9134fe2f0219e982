"""Exit codes, and which error ends a command with which code: the one table (README "Exit
codes"). Commands raise; `refusing` turns a known error into a plain message and its code."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import NoReturn

import click

from cctv_policy.audit.anchor import AnchorError
from cctv_policy.audit.log import AuditError
from cctv_policy.authz.decide import InvalidQuestion
from cctv_policy.bundle.build import BundleRefused
from cctv_policy.bundle.signing import SigningKeyError
from cctv_policy.checks.provenance import ProvenanceUnavailable
from cctv_policy.enforce.clock import ClockDisagrees
from cctv_policy.engine.base import EngineError
from cctv_policy.extract.extraction import ExtractRefused
from cctv_policy.gate import RegistryNotEnforceable
from cctv_policy.notices import NoticeError
from cctv_policy.registry.loader import RegistryNotFound
from cctv_policy.review import DecideRefused
from cctv_policy.targets import TargetError
from storage_backends.fdtree import UnsafeState

EXIT_OK = 0
EXIT_VIOLATIONS = 1  # the answer is no: violations, deny, tampered, refused
EXIT_TOOL_ERROR = 2  # the tool could not run; nothing was done
EXIT_BAD_INPUT = 3  # the registry (or the question) cannot be read as written
EXIT_UNPINNED = 4  # extract verify: intact, but only against the key inside the package

# First match wins: more specific classes before their bases.
EXIT_CODES: tuple[tuple[type[Exception], int], ...] = (
    (RegistryNotEnforceable, EXIT_BAD_INPUT),
    (InvalidQuestion, EXIT_BAD_INPUT),
    (BundleRefused, EXIT_BAD_INPUT),
    (DecideRefused, EXIT_VIOLATIONS),
    (ExtractRefused, EXIT_VIOLATIONS),
    (NoticeError, EXIT_VIOLATIONS),
    (RegistryNotFound, EXIT_TOOL_ERROR),
    (EngineError, EXIT_TOOL_ERROR),
    (TargetError, EXIT_TOOL_ERROR),
    (ClockDisagrees, EXIT_TOOL_ERROR),
    (AuditError, EXIT_TOOL_ERROR),
    (AnchorError, EXIT_TOOL_ERROR),
    (UnsafeState, EXIT_TOOL_ERROR),
    (ProvenanceUnavailable, EXIT_TOOL_ERROR),
    (SigningKeyError, EXIT_TOOL_ERROR),
    (OSError, EXIT_TOOL_ERROR),  # a file or folder that cannot be read or written
)
KNOWN_ERRORS = tuple(kind for kind, _ in EXIT_CODES)


def exit_code_for(error: Exception) -> int:
    return next(code for kind, code in EXIT_CODES if isinstance(error, kind))


def fail(message: str, code: int = EXIT_TOOL_ERROR) -> NoReturn:
    click.echo(f"cctv-policy: {message}", err=True)
    raise SystemExit(code)


@contextmanager
def refusing(
    consequence: str, on_error: Callable[[Exception], str | None] | None = None
) -> Iterator[None]:
    """Turn a known error into `cctv-policy: <error>` + the consequence (what was not done),
    with the error's exit code. `on_error` runs first (e.g. to log the refusal) and may return
    more to say."""
    try:
        yield
    except KNOWN_ERRORS as error:
        extra = on_error(error) if on_error is not None else None
        fail(f"{error}{extra or ''}\n{consequence}", exit_code_for(error))
