"""Human text: one line per violation, file:line first, its fix below it, then a summary.

Everything that comes from the registry is shown through `printable`: a newline in a YAML
value cannot start a line of its own (and forge a workflow command in a CI log)."""

from __future__ import annotations

from cctv_policy.campus_time import campus_time
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
    lines += _waived_lines(result, prefix)
    if not result.policies_ran:
        lines.append(
            "policy checks skipped: config.yaml, people.yaml, cameras.yaml or storage.yaml "
            "could not be read at all; fix the input errors above first"
        )
    counts = ", ".join(f"{n} {k}" for k, n in result.counts.items())
    if result.lang == "zh":
        waived = f"（另有 {len(result.waived)} 个已豁免）" if result.waived else ""
        lines.append(f"共 {len(result.errors)} 个错误、{len(result.warnings)} 个警告{waived}。")
    lines.append(
        f"{len(result.errors)} error(s), {len(result.warnings)} warning(s)"
        + (f" ({len(result.waived)} waived)" if result.waived else "")
        + f" in {counts} "
        f"(engine {result.engine}, policies {result.policy_version}, now {result.now.isoformat()})"
    )
    return "\n".join(lines)


def _waived_lines(result: CheckResult, prefix: str) -> list[str]:
    """Warnings a waiver in force sets aside: shown (so nobody forgets them), not counted."""
    word = "已豁免" if result.lang == "zh" else "waived"
    lines = []
    for w in result.waived:
        v = w.violation
        where = printable(display_path(prefix, v.file)) + (f":{v.line}" if v.line else "")
        until = campus_time(w.until, result.timezone, result.lang)
        lines.append(
            f"{where}: {word} {v.code} [{printable(v.subject)}] {printable(v.message)} "
            f"({w.waiver}, until {until})"
        )
    return lines
