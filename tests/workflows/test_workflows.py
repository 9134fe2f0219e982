"""The GitHub workflows pass actionlint and zizmor; CODEOWNERS guards what decides."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from tests.conftest import REPO

WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.yml"))
BIN = Path(sys.executable).parent


def tool(name: str) -> str:
    path = shutil.which(name, path=str(BIN)) or shutil.which(name)
    assert path, f"{name} is a test dependency (pip install -e '.[test]')"
    return path


def test_actionlint_is_clean():
    result = subprocess.run(
        [tool("actionlint"), *map(str, WORKFLOWS)], cwd=REPO, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_zizmor_is_clean():
    result = subprocess.run(
        [tool("zizmor"), "--offline", "--no-progress", ".github/workflows"],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_actions_are_pinned_and_permissions_least():
    for path in WORKFLOWS:
        document = yaml.safe_load(path.read_text())
        assert document["permissions"] == {}, f"{path.name}: default permissions must be none"
        for job in document["jobs"].values():
            assert "write-all" not in str(job.get("permissions"))
            for step in job["steps"]:
                if "uses" in step:
                    ref = step["uses"].split("@")[1]
                    assert len(ref) == 40 and all(c in "0123456789abcdef" for c in ref), step


def test_enforce_never_overlaps():
    document = yaml.safe_load((REPO / ".github/workflows/enforce.yml").read_text())
    assert document["concurrency"] == {"group": "enforce", "cancel-in-progress": False}


def test_codeowners_guards_decisions_holds_policies_and_config():
    owners = (REPO / ".github" / "CODEOWNERS").read_text()
    for path in ("/registry/decisions/", "/registry/holds/", "/policies/", "/registry/config.yaml"):
        assert any(
            line.startswith(path) and "security-office" in line for line in owners.splitlines()
        ), path
