"""GitHub workflow commands: one ::error/::warning annotation per violation.

GitHub shows ten errors and ten warnings per step, so with --changed-since only the pull
request's own files are annotated; the rest are counted in a notice (the job summary lists them).
"""

from __future__ import annotations

from cctv_policy.checks.renderers.base import display_path
from cctv_policy.rulebook.check import CheckResult


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render(result: CheckResult, prefix: str) -> str:
    lines = []
    for v in result.ordered:
        if not result.in_focus(v):
            continue
        props = [f"file={_escape_property(display_path(prefix, v.file))}"]
        if v.line:
            props.append(f"line={v.line}")
        if v.column:
            props.append(f"col={v.column}")
        props.append(f"title={_escape_property(v.code)}")
        lines.append(f"::{v.severity.value} {','.join(props)}::{_escape_data(v.message)}")
    elsewhere = sum(1 for v in result.violations if not result.in_focus(v))
    more = f"; {elsewhere} more in files this change does not touch" if elsewhere else ""
    lines.append(
        f"::notice title=cctv-policy::{len(result.errors)} error(s), "
        f"{len(result.warnings)} warning(s){more}"
    )
    return "\n".join(lines)
