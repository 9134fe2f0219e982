"""The SARIF output against the official SARIF 2.1.0 schema (OASIS, errata 01, in
tests/data/schemas), checked by check-jsonschema, a validator this repository did not write."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from cctv_policy.cli.main import cli
from tests.conftest import DATA, DEMO_REGISTRY, NOW_TEXT
from tests.workflows.test_workflows import tool

SCHEMA = DATA / "schemas" / "sarif-schema-2.1.0.json"
NEWCOMER = DATA / "newcomer" / "REQ-2026-0090.yaml"


@pytest.fixture
def school(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A registry in a folder with a space and a non-ASCII name, under the working directory."""
    registry = tmp_path / "school registry 校园"
    shutil.copytree(DEMO_REGISTRY, registry)
    shutil.copy(NEWCOMER, registry / "requests" / NEWCOMER.name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GITHUB_SERVER_URL", "https://github.com")
    monkeypatch.setenv("GITHUB_REPOSITORY", "school/cctv registry")
    monkeypatch.setenv("GITHUB_SHA", "0" * 40)
    return registry


def sarif_of(registry: Path, tmp_path: Path, *args: str) -> Path:
    out = tmp_path / "out.sarif"
    result = CliRunner().invoke(
        cli,
        [
            "check",
            "--registry",
            registry.name,
            "--now",
            NOW_TEXT,
            "--format",
            "sarif",
            "--out",
            str(out),
            *args,
        ],
    )
    assert result.exit_code == 3, result.output
    return out


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_sarif_passes_the_official_schema(school: Path, tmp_path: Path, lang: str):
    out = sarif_of(school, tmp_path, "--lang", lang)
    checked = subprocess.run(
        [tool("check-jsonschema"), "--schemafile", str(SCHEMA), str(out)],
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_sarif_rules_and_results(school: Path, tmp_path: Path):
    run = json.loads(sarif_of(school, tmp_path).read_text())["runs"][0]
    rules = {rule["id"]: rule for rule in run["tool"]["driver"]["rules"]}
    rule = rules["REQUEST_USE_TOO_LONG"]
    assert rule["name"] == "RequestUseTooLong" != rule["id"]
    assert rule["shortDescription"]["text"] and rule["fullDescription"]["text"]
    assert rule["helpUri"].endswith("/docs/codes.md#request_use_too_long")
    assert rule["defaultConfiguration"]["level"] == "error"
    uris = {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in run["results"]
    }
    assert "school%20registry%20%E6%A0%A1%E5%9B%AD/requests/REQ-2026-0090.yaml" in uris
    assert all(r["partialFingerprints"]["cctvPolicyProblem/v1"] for r in run["results"])


def test_the_schema_validator_catches_an_unencoded_space(tmp_path: Path):
    """The check above would catch the bug the issue reports (a raw space in a URI)."""
    bad = {
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": {"name": "x"}},
                "results": [
                    {
                        "message": {"text": "m"},
                        "locations": [
                            {
                                "physicalLocation": {
                                    "artifactLocation": {"uri": "my registry/a.yaml"}
                                }
                            }
                        ],
                    }
                ],
            }
        ],
    }
    path = tmp_path / "bad.sarif"
    path.write_text(json.dumps(bad))
    checked = subprocess.run(
        [tool("check-jsonschema"), "--schemafile", str(SCHEMA), str(path)],
        capture_output=True,
        text=True,
    )
    assert checked.returncode != 0
