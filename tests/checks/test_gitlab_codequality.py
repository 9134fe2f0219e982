"""`check --format gitlab`: GitLab's Code Quality report (the merge request widget), checked by
check-jsonschema against the format GitLab documents (tests/data/schemas/gitlab-codequality.json,
written from GitLab's docs: no package ships it)."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from cctv_policy.checks.renderers import RENDERERS
from cctv_policy.cli.main import cli
from tests.checks.test_renderers import RESULT
from tests.conftest import DATA, DEMO_REGISTRY, NOW_TEXT
from tests.workflows.test_workflows import tool

SCHEMA = DATA / "schemas" / "gitlab-codequality.json"
NEWCOMER = DATA / "newcomer" / "REQ-2026-0090.yaml"


def validate(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [tool("check-jsonschema"), "--schemafile", str(SCHEMA), str(path)],
        capture_output=True,
        text=True,
    )


@pytest.fixture
def school(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A registry in a folder with a space and a non-ASCII name, with input and rule errors."""
    registry = tmp_path / "school registry 校园"
    shutil.copytree(DEMO_REGISTRY, registry)
    shutil.copy(NEWCOMER, registry / "requests" / NEWCOMER.name)
    monkeypatch.chdir(tmp_path)
    return registry


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_gitlab_report_passes_the_documented_format(school: Path, tmp_path: Path, lang: str):
    out = tmp_path / "gl-code-quality-report.json"
    args = ["check", "--registry", school.name, "--now", NOW_TEXT, "--lang", lang]
    result = CliRunner().invoke(cli, [*args, "--format", "gitlab", "--out", str(out)])
    assert result.exit_code == 3, result.output  # the newcomer's request has input errors
    checked = validate(out)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    issues = json.loads(out.read_text())
    assert issues, "problems were found, so the report is not empty"
    fingerprints = [issue["fingerprint"] for issue in issues]
    assert len(set(fingerprints)) == len(fingerprints), "GitLab shows one issue per fingerprint"
    paths = {issue["location"]["path"] for issue in issues}
    assert "school registry 校园/requests/REQ-2026-0090.yaml" in paths  # relative, not encoded
    assert {issue["severity"] for issue in issues} >= {"blocker", "minor"}


def test_renderer_maps_severity_and_keeps_the_fix():
    issues = json.loads(RENDERERS["gitlab"](RESULT, "registry"))
    by_code = {issue["check_name"]: issue for issue in issues}
    assert by_code["REQUEST_NO_PURPOSE"]["severity"] == "major"
    assert by_code["CAMERA_NO_SIGN"]["severity"] == "minor"
    assert by_code["REQUEST_NO_PURPOSE"]["location"] == {
        "path": "registry/requests/REQ-1.yaml",
        "lines": {"begin": 3},
    }


def test_two_problems_alike_get_two_fingerprints():
    """GitLab keeps only the first issue of a fingerprint: a second, identical problem in the
    same file (another line) must not vanish from the merge request."""
    twin = RESULT.violations[0].model_copy(update={"line": 9})
    result = replace(RESULT, violations=[*RESULT.violations, twin])
    issues = json.loads(RENDERERS["gitlab"](result, "registry"))
    assert len({issue["fingerprint"] for issue in issues}) == 3


def test_a_clean_registry_gives_an_empty_array(tmp_path: Path):
    out = tmp_path / "report.json"
    result = replace(RESULT, violations=[])
    out.write_text(RENDERERS["gitlab"](result, "registry"))
    assert json.loads(out.read_text()) == []
    assert validate(out).returncode == 0


def test_the_schema_catches_what_gitlab_would_drop(tmp_path: Path):
    """The fixture can fail: an unknown severity and an absolute path are rejected."""
    bad = [
        {
            "description": "d",
            "check_name": "c",
            "fingerprint": "f",
            "severity": "error",
            "location": {"path": "/abs/a.yaml", "lines": {"begin": 1}},
        }
    ]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad))
    assert validate(path).returncode != 0
