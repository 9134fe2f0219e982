"""`cctv-policy check` from the outside: exit codes, formats, helpful errors."""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from click.testing import CliRunner

from cctv_policy.cli.main import cli
from tests.conftest import DEMO_REGISTRY, NOW_TEXT


def invoke(*args: str):
    return CliRunner().invoke(cli, ["check", "--registry", str(DEMO_REGISTRY), *args])


def test_demo_registry_passes_with_at_most_warnings():
    result = invoke("--now", NOW_TEXT)
    assert result.exit_code == 0, result.output
    assert "0 error(s)" in result.output


def test_demo_registry_stays_clean_far_in_the_future():
    # Only REPORT_OVERDUE and CAMERA_MAINTENANCE_OVERDUE depend on now, and both are warnings:
    # the demo never turns red.
    result = invoke("--now", "2027-06-01T00:00:00+08:00", "--format", "json")
    assert result.exit_code == 0
    assert {v["severity"] for v in json.loads(result.stdout)["violations"]} <= {"warning"}


def test_json_shape():
    result = invoke("--now", NOW_TEXT, "--format", "json")
    document = json.loads(result.stdout)
    assert set(document) == {"violations", "waived", "summary"}
    maintenance, report = document["violations"]
    assert {"code", "severity", "subject", "message", "file", "line"} <= set(report)
    assert maintenance["file"].endswith("registry/cameras.yaml")
    assert report["file"].endswith("registry/requests/REQ-2026-0018.yaml")
    summary = document["summary"]
    assert summary["errors"] == 0 and summary["warnings"] == 2
    assert summary["engine"] == "embedded" and summary["policy_version"]
    assert summary["input_hash"].startswith("sha256:")


def test_text_puts_file_line_first():
    line = invoke("--now", NOW_TEXT).output.splitlines()[0]
    assert line.split(": ")[0].endswith("registry/cameras.yaml:115:5")


def test_github_annotations():
    lines = invoke("--now", NOW_TEXT, "--format", "github").output.splitlines()
    assert lines[0].startswith("::warning file=")
    assert ",line=115," in lines[0] and "title=CAMERA_MAINTENANCE_OVERDUE::" in lines[0]
    assert ",line=16," in lines[1] and "title=REPORT_OVERDUE::" in lines[1]


def test_sarif_is_valid_2_1_0():
    document = json.loads(invoke("--now", NOW_TEXT, "--format", "sarif").stdout)
    assert document["version"] == "2.1.0"
    run = document["runs"][0]
    rules = [rule["id"] for rule in run["tool"]["driver"]["rules"]]
    assert rules == ["CAMERA_MAINTENANCE_OVERDUE", "REPORT_OVERDUE"]
    location = run["results"][1]["locations"][0]["physicalLocation"]
    assert location["region"]["startLine"] == 16


def test_junit_is_xml_with_a_case_per_rule_and_kind():
    root = ET.fromstring(invoke("--now", NOW_TEXT, "--format", "junit").stdout.split("?>", 1)[1])
    suite = root.find("testsuite")
    assert suite is not None and suite.get("failures") == "0"
    names = {(case.get("classname"), case.get("name")) for case in suite.findall("testcase")}
    assert ("request", "REQUEST_USE_TOO_LONG") in names and ("camera", "E_SCHEMA") in names
    assert int(suite.get("tests", "0")) == len(names) > 40


def test_out_writes_a_file(tmp_path: Path):
    out = tmp_path / "report.sarif"
    result = invoke("--now", NOW_TEXT, "--format", "sarif", "--out", str(out))
    assert result.exit_code == 0 and result.stdout == ""
    assert json.loads(out.read_text())["version"] == "2.1.0"


def test_naive_now_is_refused_with_exit_2():
    result = invoke("--now", "2026-11-25T12:00:00")
    assert result.exit_code == 2
    assert "no UTC offset" in result.output


def test_missing_registry_exit_2(tmp_path: Path):
    result = CliRunner().invoke(cli, ["check", "--registry", str(tmp_path / "nope")])
    assert result.exit_code == 2
    assert "is not a registry" in result.output


def test_unreachable_opa_server_exit_2_never_a_pass():
    result = invoke("--engine", "opa", "--opa-url", "http://127.0.0.1:9", "--now", NOW_TEXT)
    assert result.exit_code == 2
    assert "not a pass" in result.output


def test_opa_engine_without_url_exit_2():
    result = invoke("--engine", "opa")
    assert result.exit_code == 2 and "--opa-url" in result.output


def test_broken_policies_exit_2(tmp_path: Path):
    (tmp_path / "x.rego").write_text("package cctv.check\nviolations := {{{\n")
    result = invoke("--policies", str(tmp_path), "--now", NOW_TEXT)
    assert result.exit_code == 2


@pytest.mark.parametrize("command", [["--help"], ["check", "--help"], ["test", "--help"]])
def test_help_teaches(command: list[str]):
    result = CliRunner().invoke(cli, command)
    assert result.exit_code == 0
    assert "Usage" in result.output and len(result.output) > 300
