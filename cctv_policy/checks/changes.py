"""What a pull request changes in the registry, for the job summary."""

from __future__ import annotations

import subprocess
from pathlib import Path

from cctv_policy.registry.loader import LoadedRegistry


class ChangesUnavailable(Exception):
    """git could not say what changed (not a checkout, or the base commit is not fetched)."""


def changed_files(registry_root: Path, base: str) -> list[str]:
    """The registry files (relative to the registry) that differ between `base` and HEAD."""
    root = registry_root.resolve()
    try:
        top = Path(_git(root, "rev-parse", "--show-toplevel").strip())
        names = _git(
            top, "diff", "--name-only", f"{base}...HEAD", "--", str(root.relative_to(top))
        ).splitlines()
    except (subprocess.CalledProcessError, OSError, ValueError) as exc:
        raise ChangesUnavailable(
            f"cannot tell which files changed since {base} ({exc}); fetch the base commit "
            "(actions/checkout with fetch-depth: 0) or leave out --changed-since"
        ) from None
    prefix = root.relative_to(top).as_posix()
    return sorted(n if prefix == "." else n.removeprefix(prefix + "/") for n in names)


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, check=True
    ).stdout


def changed_request_ids(registry_root: Path, base: str) -> list[str]:
    ids = set()
    for name in changed_files(registry_root, base):
        parts = Path(name).parts
        if len(parts) >= 2 and parts[-2] in ("requests", "decisions", "reports"):
            ids.add(Path(name).stem)
    return sorted(ids)


def summary_markdown(registry: LoadedRegistry, ids: list[str]) -> str:
    if not ids:
        return "### cctv-policy\n\nThis pull request changes no request, decision or report.\n"
    lines = [
        "### Requests in this pull request",
        "",
        "| request | applicant | purpose | cameras | use period (UTC) | status |",
        "|---|---|---|---|---|---|",
    ]
    for request_id in ids:
        request = registry.requests.get(request_id)
        decision = registry.decisions.get(request_id)
        status: str = "pending" if decision is None else decision.decision
        if (
            decision is not None
            and decision.decision == "approved"
            and request_id in registry.reports
        ):
            status += ", report in"
        if request is None:
            lines.append(f"| {request_id} | | | | | request file missing or invalid ({status}) |")
            continue
        lines.append(
            f"| {request_id} | {request.applicant} | {request.purpose.category} | "
            f"{', '.join(request.footage.cameras)} | {request.use.starts:%Y-%m-%d %H:%M} – "
            f"{request.use.ends:%Y-%m-%d %H:%M} | {status} |"
        )
    return "\n".join(lines) + "\n"
