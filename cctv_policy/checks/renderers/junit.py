"""JUnit XML: one test case per rule and document kind, so rules that pass count as passed.

A case fails with every error of its rule on that kind of document; warnings are reported as
skipped with their messages. Problems of a rule and kind outside the table (e.g. a file that
is not a document) get cases of their own. Text is shown through `printable`: XML cannot
carry most control characters at all.
"""

from __future__ import annotations

from xml.etree import ElementTree as ET

from cctv_policy.checks.renderers.base import display_path
from cctv_policy.messages import RULES
from cctv_policy.output import printable
from cctv_policy.rulebook.check import CheckResult
from cctv_policy.violations import Violation

INPUT_KINDS = ("config", "person", "camera", "target", "request", "decision", "report", "hold")
_KIND_OF_PREFIX = {
    "CAMERA": "camera",
    "REQUEST": "request",
    "DECISION": "decision",
    "REPORT": "request",
    "HOLD": "hold",
    "CONFIG": "config",
    "MAINTENANCE": "maintenance",
    "VIOLATION": "violation",
    "FEEDBACK": "unit",
}


def rule_cases(result: CheckResult) -> list[tuple[str, str]]:
    """(code, kind) of every rule checked in this run, plus any that reported something."""
    cases = [
        (code, kind) for code in sorted(RULES) if code.startswith("E_") for kind in INPUT_KINDS
    ]
    if result.policies_ran:
        cases += [
            (code, _KIND_OF_PREFIX[code.split("_")[0]])
            for code in sorted(RULES)
            if code.split("_")[0] in _KIND_OF_PREFIX and code != "REQUEST_BACKDATED"
        ]
    reported = {(v.code, _kind(v)) for v in result.violations}
    return sorted(set(cases) | reported)


def _kind(v: Violation) -> str:
    return v.subject.partition(":")[0]


def render(result: CheckResult, prefix: str) -> str:
    by_case: dict[tuple[str, str], list[Violation]] = {}
    for v in result.ordered:
        by_case.setdefault((v.code, _kind(v)), []).append(v)
    cases = rule_cases(result)
    failed = sum(
        1 for case in cases if any(v.severity.value == "error" for v in by_case.get(case, []))
    )
    warned = sum(
        1
        for case in cases
        if by_case.get(case) and all(v.severity.value == "warning" for v in by_case[case])
    )
    suite = ET.Element(
        "testsuite",
        name="cctv-policy check",
        tests=str(len(cases)),
        failures=str(failed),
        errors="0",
        skipped=str(warned),
    )
    for code, kind in cases:
        found = by_case.get((code, kind), [])
        case = ET.SubElement(suite, "testcase", classname=kind, name=code)
        lines = [_line(v, prefix) for v in found]
        if any(v.severity.value == "error" for v in found):
            failure = ET.SubElement(case, "failure", type=code, message=f"{len(found)} problem(s)")
            failure.text = "\n".join(lines)
        elif found:
            ET.SubElement(case, "skipped", message=f"warning {code}: " + "; ".join(lines))
    suites = ET.Element("testsuites")
    suites.append(suite)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True)


def _line(v: Violation, prefix: str) -> str:
    location = display_path(prefix, v.file) + (f":{v.line}" if v.line else "")
    fix = f" -> {v.fix}" if v.fix else ""
    return printable(f"{location}: {v.severity.value} {v.subject} {v.message}{fix}")
