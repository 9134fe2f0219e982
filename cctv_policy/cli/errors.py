"""Exit codes, and which error ends a command with which code: the one table (README "Exit
codes"). Commands raise; `refusing` turns a known error into a plain message and its code."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import NoReturn

import click

EXIT_OK = 0
EXIT_VIOLATIONS = 1  # the answer is no: violations, deny, tampered, refused
EXIT_TOOL_ERROR = 2  # the tool could not run; nothing was done
EXIT_BAD_INPUT = 3  # the registry (or the question) cannot be read as written
EXIT_UNPINNED = 4  # extract verify: intact, but only against the key inside the package
EXIT_DELIVERY_FAILED = 5  # notify: some notices were not delivered; tried again next run

# The error classes, by where they are defined (named, not imported: a command imports only
# what it uses). An error ends a command with the code of the first class in its ancestry.
EXIT_CODES: dict[str, int] = {
    "cctv_policy.rulebook.gate.ProvenanceNotVerified": EXIT_VIOLATIONS,
    "cctv_policy.rulebook.gate.ProvenanceUnverifiable": EXIT_TOOL_ERROR,
    "cctv_policy.rulebook.gate.RegistryNotEnforceable": EXIT_BAD_INPUT,
    "cctv_policy.authz.decide.InvalidQuestion": EXIT_BAD_INPUT,
    "cctv_policy.bundle.build.BundleRefused": EXIT_BAD_INPUT,
    "cctv_policy.office.decide.DecideRefused": EXIT_VIOLATIONS,
    "cctv_policy.bundle.publish.NewerBundlePublished": EXIT_VIOLATIONS,
    "cctv_policy.extract.errors.VideoToolsMissing": EXIT_TOOL_ERROR,
    "cctv_policy.extract.errors.ExtractRefused": EXIT_VIOLATIONS,
    "cctv_policy.extract.supervisor.SupervisorKeyRefused": EXIT_TOOL_ERROR,
    "cctv_policy.office.notices.NoticeError": EXIT_VIOLATIONS,
    "cctv_policy.registry.loader.RegistryNotFound": EXIT_TOOL_ERROR,
    "cctv_policy.engine.base.EngineError": EXIT_TOOL_ERROR,
    "cctv_policy.targets.TargetError": EXIT_TOOL_ERROR,
    "cctv_policy.enforce.clock.ClockDisagrees": EXIT_TOOL_ERROR,
    "cctv_policy.audit.errors.AuditError": EXIT_TOOL_ERROR,
    "cctv_policy.audit.anchor.AnchorError": EXIT_TOOL_ERROR,
    "storage_backends.fdtree.UnsafeState": EXIT_TOOL_ERROR,
    "cctv_policy.provenance.git_history.ProvenanceUnavailable": EXIT_TOOL_ERROR,
    "cctv_policy.checks.changes.ChangesUnavailable": EXIT_TOOL_ERROR,
    "cctv_policy.bundle.signing.SigningKeyError": EXIT_TOOL_ERROR,
    "builtins.OSError": EXIT_TOOL_ERROR,  # a file or folder that cannot be read or written
}


def exit_code_for(error: BaseException) -> int | None:
    """The exit code of a known error, None for anything else (a bug: not caught here)."""
    for kind in type(error).__mro__:
        code = EXIT_CODES.get(f"{kind.__module__}.{kind.__qualname__}")
        if code is not None:
            return code
    return None


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
    except Exception as error:
        code = exit_code_for(error)
        if code is None:
            raise
        extra = on_error(error) if on_error is not None else None
        fail(f"{error}{extra or ''}\n{consequence}", code)
