"""Human text: one line per violation, file:line first, then a summary."""

from __future__ import annotations

from cctv_policy.checks.renderers.base import display_path
from cctv_policy.checks.rulebook import CheckResult


def render(result: CheckResult, prefix: str) -> str:
    lines = []
    for v in result.violations:
        where = display_path(prefix, v.file)
        if v.line:
            where += f":{v.line}" + (f":{v.column}" if v.column else "")
        lines.append(f"{where}: {v.severity.value} {v.code} [{v.subject}] {v.message}")
    if not result.policies_ran:
        lines.append(
            "policy checks skipped: fix the input errors above in config.yaml, "
            "people.yaml, cameras.yaml or storage.yaml first"
        )
    counts = ", ".join(f"{n} {k}" for k, n in result.counts.items())
    lines.append(
        f"{len(result.errors)} error(s), {len(result.warnings)} warning(s) in {counts} "
        f"(engine {result.engine}, policies {result.policy_version}, now {result.now.isoformat()})"
    )
    return "\n".join(lines)
