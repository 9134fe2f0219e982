"""GitLab Code Quality report (`artifacts: reports: codequality`): the merge request widget.

A JSON array of {description, check_name, fingerprint, severity, location: {path, lines:
{begin}}}, the subset of the Code Climate spec GitLab reads. Paths are relative to the
repository root (the job's working directory) and not percent-encoded. GitLab shows one issue
per fingerprint, so two alike problems in one file (another line) get distinct fingerprints;
the fingerprint leaves the line out otherwise, so the widget follows a problem when lines move.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from cctv_policy.checks.renderers.base import display_path
from cctv_policy.rulebook.check import CheckResult
from cctv_policy.violations import Violation

# Input errors (the registry cannot be read as written, exit 3) block everything downstream;
# other errors break the rule book; warnings are worth a look.
BLOCKER, ERROR, WARNING = "blocker", "major", "minor"


def render(result: CheckResult, prefix: str) -> str:
    issues = []
    seen: dict[str, int] = {}
    for v in result.ordered:
        path = repository_path(display_path(prefix, v.file))
        base = hashlib.sha256(f"{v.code}\0{path}\0{v.subject}\0{v.field}".encode()).hexdigest()
        seen[base] = seen.get(base, 0) + 1
        fingerprint = base if seen[base] == 1 else _again(base, seen[base])
        issues.append(_issue(v, path, fingerprint))
    return json.dumps(issues, indent=2, ensure_ascii=False)


def _issue(v: Violation, path: str, fingerprint: str) -> dict[str, object]:
    return {
        "description": f"{v.code} {v.subject}: {v.message}" + (f" -> {v.fix}" if v.fix else ""),
        "check_name": v.code,
        "fingerprint": fingerprint,
        "severity": severity(v),
        "location": {"path": path, "lines": {"begin": v.line or 1}},
    }


def severity(v: Violation) -> str:
    if v.is_input_error:
        return BLOCKER
    return ERROR if v.severity.value == "error" else WARNING


def _again(base: str, occurrence: int) -> str:
    return hashlib.sha256(f"{base}\0{occurrence}".encode()).hexdigest()


def repository_path(path: str) -> str:
    """A file relative to the working directory (the repository root in a pipeline), in
    forward slashes; a file outside it keeps its absolute path."""
    resolved = Path(path).absolute()
    try:
        return resolved.relative_to(Path.cwd()).as_posix()
    except ValueError:
        return resolved.as_posix()
