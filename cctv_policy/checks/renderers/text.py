"""Human text: one line per violation, file:line first, its fix below it, then a summary.

Everything that comes from the registry is shown through `printable`: a newline in a YAML
value cannot start a line of its own (and forge a workflow command in a CI log)."""

from __future__ import annotations

from cctv_policy.checks.renderers.base import display_path
from cctv_policy.messages import SEVERITY_WORDS
from cctv_policy.output import printable
from cctv_policy.rulebook.check import CheckResult


def render(result: CheckResult, prefix: str) -> str:
    lines = []
    for v in result.ordered:
        where = printable(display_path(prefix, v.file))
        if v.line:
            where += f":{v.line}" + (f":{v.column}" if v.column else "")
        severity = SEVERITY_WORDS[result.lang][v.severity.value]
        lines.append(
            f"{where}: {severity} {v.code} [{printable(v.subject)}] {printable(v.message)}"
        )
        if v.fix:
            lines.append(f"    -> {printable(v.fix)}")
    if not result.policies_ran:
        lines.append(
            "policy checks skipped: config.yaml, people.yaml, cameras.yaml or storage.yaml "
            "could not be read at all; fix the input errors above first"
        )
    counts = ", ".join(f"{n} {k}" for k, n in result.counts.items())
    if result.lang == "zh":
        lines.append(f"共 {len(result.errors)} 个错误、{len(result.warnings)} 个警告。")
    lines.append(
        f"{len(result.errors)} error(s), {len(result.warnings)} warning(s) in {counts} "
        f"(engine {result.engine}, policies {result.policy_version}, now {result.now.isoformat()})"
    )
    return "\n".join(lines)
