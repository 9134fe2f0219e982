"""What a pull request changes in the registry, for the job summary."""

from __future__ import annotations

import subprocess
from pathlib import Path

from cctv_policy.registry.loader import LoadedRegistry


def changed_request_ids(registry_root: Path, base: str) -> list[str]:
    root = registry_root.resolve()
    top = Path(
        subprocess.run(
            ["git", "rev-parse", "--show-toplevel"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    names = subprocess.run(
        ["git", "diff", "--name-only", f"{base}...HEAD", "--", str(root.relative_to(top))],
        cwd=top,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    ids = set()
    for name in names:
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
