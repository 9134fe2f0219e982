"""JUnit XML: one test case per violation code family checked, failures per violation."""

from __future__ import annotations

from xml.etree import ElementTree as ET

from cctv_policy.checks.renderers.base import display_path
from cctv_policy.checks.rulebook import CheckResult


def render(result: CheckResult, prefix: str) -> str:
    suite = ET.Element(
        "testsuite",
        name="cctv-policy check",
        tests=str(max(1, len(result.violations))),
        failures=str(len(result.errors)),
        errors="0",
        skipped=str(len(result.warnings)),
    )
    if not result.violations:
        ET.SubElement(suite, "testcase", classname="registry", name="rule book")
    for v in result.violations:
        location = display_path(prefix, v.file) + (f":{v.line}" if v.line else "")
        case = ET.SubElement(
            suite,
            "testcase",
            classname=v.subject,
            name=f"{v.code} {location}",
            file=display_path(prefix, v.file),
        )
        if v.severity.value == "error":
            failure = ET.SubElement(case, "failure", type=v.code, message=v.message)
            failure.text = f"{location}: {v.message}"
        else:
            ET.SubElement(case, "skipped", message=f"warning {v.code}: {v.message}")
    suites = ET.Element("testsuites")
    suites.append(suite)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True)
