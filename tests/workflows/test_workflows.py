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


# Actions on releases that run on Node 24 (GitHub retires Node 20): action -> lowest version.
NODE24_RELEASES = {
    "actions/checkout": (5, 0),
    "actions/setup-python": (6, 0),
    "actions/upload-artifact": (5, 0),
    "open-policy-agent/setup-opa": (2, 3),
    "github/codeql-action/upload-sarif": (4, 0),
}


def test_actions_are_on_node24_releases():
    for path in WORKFLOWS:
        for line in path.read_text().splitlines():
            if "uses:" not in line:
                continue
            action, _, rest = line.split("uses:")[1].strip().partition("@")
            version = rest.split("# v")[1].split(".")
            assert (int(version[0]), int(version[1])) >= NODE24_RELEASES[action], line


def gate_steps() -> list[dict]:
    document = yaml.safe_load((REPO / ".github/workflows/policy-check.yml").read_text())
    return list(document["jobs"]["registry"]["steps"])


def test_sarif_upload_only_with_code_scanning_and_never_failing():
    upload = next(s for s in gate_steps() if "upload-sarif" in s.get("uses", ""))
    assert "vars.CCTV_CODE_SCANNING == 'true'" in upload["if"]
    assert "github.event.pull_request.head.repo.full_name == github.repository" in upload["if"]
    assert upload["continue-on-error"] is True


def test_sarif_always_kept_as_an_artifact():
    steps = gate_steps()
    artifact = next(s for s in steps if "upload-artifact" in s.get("uses", ""))
    assert artifact["with"]["path"] == "cctv-policy.sarif"
    assert "cancelled()" in artifact["if"]  # runs after a failed check too
    sarif = next(s for s in steps if "--format sarif" in s.get("run", ""))
    assert "cancelled()" in sarif["if"]


def test_annotations_are_for_the_pull_requests_files():
    annotate = next(s for s in gate_steps() if "--format github" in s.get("run", ""))
    assert '--changed-since "$BASE_SHA"' in annotate["run"]


def test_a_clean_pull_request_without_code_scanning_runs_no_step_that_needs_it():
    """Read as GitHub would on a private repository without code scanning, or a fork's pull
    request: every step that needs code scanning is skipped, every other step needs only
    `contents: read`, so a clean registry is green."""
    for context in ({"var": "", "fork": False}, {"var": "true", "fork": True}):
        for step in gate_steps():
            needs_scanning = "upload-sarif" in step.get("uses", "")
            runs = _runs(step.get("if", "${{ success() }}"), context)
            assert not (needs_scanning and runs), (context, step)


def _runs(condition: str, context: dict) -> bool:
    """The step conditions used in policy-check.yml, evaluated for a context."""
    if "CCTV_CODE_SCANNING" in condition and context["var"] != "true":
        return False
    return not ("head.repo.full_name == github.repository" in condition and context["fork"])
