"""Checking a registry for `serve` in a process of its own, which hands back only what serving
needs.

Finding which approvals are valid runs the whole rule book over the whole registry: the YAML
loaded as models, the policy input, and OPA's evaluation of it (hundreds of MiB for 10,000
approvals, most of it in Go's heap, which the Go runtime returns to the system only slowly).
The server holds none of it: a child process (`python -m cctv_policy.authz.checked`) loads
and checks the registry, exactly as serve did in-process (the gate, the approval floor, the
revision and the backing files, read before loading), and writes one line of JSON (all but the
engine's data), then the lean data the engine loads as it is (lean.py). Its memory is returned
when it exits. A check that fails raises, in the server, the error it raised in the child; a
child that dies or writes anything else is an EngineError: nothing is served from it.

The child's embedded OPA runs with Go's default collector (GOGC=100): it answers no request,
so it trades time for memory the other way from the server.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cctv_policy.engine import EngineChoice, EngineError
from cctv_policy.registry.loader import RegistryNotFound
from cctv_policy.rulebook.gate import (
    ProvenanceNotVerified,
    ProvenanceUnverifiable,
    RegistryNotEnforceable,
)

# The errors a check may end with, by name: raised again in the server as they were raised.
KNOWN_ERRORS: dict[str, type[Exception]] = {
    cls.__name__: cls
    for cls in (
        RegistryNotEnforceable,
        ProvenanceNotVerified,
        ProvenanceUnverifiable,
        RegistryNotFound,
        EngineError,
        OSError,
        ValueError,
    )
}
CHILD_GO_SETTINGS = {"GOGC": "100"}
CHILD_ARGS = ("-m", "cctv_policy.authz.checked")  # after the Python interpreter (the child)


@dataclass(frozen=True)
class CheckRequest:
    registry_dir: str
    now: str  # ISO 8601 with offset
    engine: str
    opa_url: str | None
    opa_upload: bool
    policy_dir: str | None

    @classmethod
    def of(cls, registry_dir: Path, now: datetime, choice: EngineChoice) -> CheckRequest:
        policy_dir = None if choice.policy_dir is None else str(choice.policy_dir)
        return cls(
            str(registry_dir), now.isoformat(), choice.name, choice.opa_url, choice.opa_upload,
            policy_dir,
        )  # fmt: skip

    def choice(self) -> EngineChoice:
        policy_dir = None if self.policy_dir is None else Path(self.policy_dir)
        return EngineChoice(self.engine, self.opa_url, self.opa_upload, policy_dir)


def check_in_child(request: CheckRequest, timeout: float = 1800) -> tuple[dict[str, Any], bytes]:
    """(the checked snapshot's facts, the engine's lean data as JSON); raises what the check
    raised, or EngineError."""
    env = {**os.environ, **CHILD_GO_SETTINGS}
    try:
        done = subprocess.run(
            [sys.executable, *CHILD_ARGS],
            input=json.dumps(asdict(request)).encode(),
            capture_output=True,
            env=env,
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise EngineError(f"the registry check could not run: {exc}") from exc
    head, _, data = done.stdout.partition(b"\n")
    try:
        facts = json.loads(head)
    except ValueError:
        facts = None
    if done.returncode != 0 or not isinstance(facts, dict):
        tail = done.stderr.decode(errors="replace").strip()[-500:]
        raise EngineError(f"the registry check failed (exit {done.returncode}): {tail}")
    if "error" in facts:
        raise error_of(facts["error"])
    return facts, data


def error_of(raw: Any) -> Exception:
    """The check's error as it was raised (its message; RegistryNotEnforceable without its
    list of errors, which only its message reports here)."""
    kind = KNOWN_ERRORS.get(str(raw.get("type"))) if isinstance(raw, dict) else None
    message = str(raw.get("message")) if isinstance(raw, dict) else repr(raw)
    if kind is None:
        return EngineError(f"the registry check failed: {message}")
    error = kind.__new__(kind)
    Exception.__init__(error, message)
    if isinstance(error, RegistryNotEnforceable):
        error.errors = []
    return error
