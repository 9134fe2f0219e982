"""Each check renderer on its own, over one result with an error and a warning."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from xml.etree import ElementTree

import pytest

from cctv_policy.checks.renderers import RENDERERS, display_path
from cctv_policy.rulebook.check import CheckResult
from cctv_policy.violations import Severity, Violation

RESULT = CheckResult(
    violations=[
        Violation(
            code="REQUEST_NO_PURPOSE",
            severity=Severity.error,
            subject="request:REQ-1",
            message="a request needs a purpose, 需要用途",
            file="requests/REQ-1.yaml",
            line=3,
            column=1,
        ),
        Violation(
            code="CAMERA_NO_SIGN",
            severity=Severity.warning,
            subject="camera:CAM-A",
            message="no sign: 50%,\nsee",
            file="cameras.yaml",
            line=7,
        ),
    ],
    policy_version="test",
    engine="embedded",
    now=datetime(2026, 11, 25, tzinfo=UTC),
)


def test_display_path() -> None:
    assert display_path("registry/", "cameras.yaml") == "registry/cameras.yaml"
    assert display_path(".", "cameras.yaml") == "cameras.yaml"


def test_text_puts_file_and_line_first() -> None:
    out = RENDERERS["text"](RESULT, "registry")
    assert "registry/requests/REQ-1.yaml:3:1: error REQUEST_NO_PURPOSE" in out


def test_json_is_a_document_with_the_summary() -> None:
    document = json.loads(RENDERERS["json"](RESULT, "registry"))
    assert document["summary"]["errors"] == 1 and document["summary"]["warnings"] == 1
    assert {v["code"] for v in document["violations"]} == {"REQUEST_NO_PURPOSE", "CAMERA_NO_SIGN"}


def test_github_annotations_escape_what_would_break_them() -> None:
    out = RENDERERS["github"](RESULT, "registry")
    assert "::error file=registry/requests/REQ-1.yaml,line=3" in out
    assert "50%25" in out and "%0A" in out  # % and newline escaped in the message


def test_sarif_has_one_result_per_violation_with_a_location() -> None:
    sarif = json.loads(RENDERERS["sarif"](RESULT, "registry"))
    results = sarif["runs"][0]["results"]
    assert [r["ruleId"] for r in results] == ["REQUEST_NO_PURPOSE", "CAMERA_NO_SIGN"]
    location = results[0]["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "registry/requests/REQ-1.yaml"
    assert location["region"]["startLine"] == 3


@pytest.mark.parametrize("prefix", ["registry", "."])
def test_junit_is_xml_with_one_failure_per_error(prefix: str) -> None:
    root = ElementTree.fromstring(RENDERERS["junit"](RESULT, prefix))
    assert len(root.findall(".//failure")) >= 1
