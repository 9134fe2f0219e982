"""GitHub workflow commands: one ::error/::warning annotation per violation."""

from __future__ import annotations

from cctv_policy.checks.renderers.base import display_path
from cctv_policy.checks.rulebook import CheckResult


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render(result: CheckResult, prefix: str) -> str:
    lines = []
    for v in result.violations:
        props = [f"file={_escape_property(display_path(prefix, v.file))}"]
        if v.line:
            props.append(f"line={v.line}")
        if v.column:
            props.append(f"col={v.column}")
        props.append(f"title={_escape_property(v.code)}")
        lines.append(f"::{v.severity.value} {','.join(props)}::{_escape_data(v.message)}")
    lines.append(
        f"::notice title=cctv-policy::{len(result.errors)} error(s), "
        f"{len(result.warnings)} warning(s)"
    )
    return "\n".join(lines)
