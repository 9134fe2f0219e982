"""Approval provenance on real git repositories made by the tests."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from cctv_policy.cli.main import cli
from tests.conftest import DEMO_REGISTRY, NOW_TEXT

EMAIL = "{}@campus.example.edu"  # the demo's people.yaml git_identities


def git(repo: Path, *args: str, person: str | None = None) -> str:
    env = {"GIT_AUTHOR_NAME": person or "setup", "GIT_COMMITTER_NAME": person or "setup",
           "GIT_AUTHOR_EMAIL": EMAIL.format(person) if person else "setup@example.org",
           "GIT_COMMITTER_EMAIL": EMAIL.format(person) if person else "setup@example.org",
           "PATH": "/usr/bin:/bin", "HOME": str(repo)}
    return subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True,
                          text=True).stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """The demo registry in git: everything by 'setup', then each decision and hold committed
    by the person it names, as the security office would."""
    root = tmp_path / "campus"
    shutil.copytree(DEMO_REGISTRY, root / "registry")
    git(root, "init", "-q", "-b", "main")
    decisions = sorted((root / "registry" / "decisions").glob("*.yaml"))
    holds = sorted((root / "registry" / "holds").glob("*.yaml"))
    git(root, "add", "--", "registry/config.yaml", "registry/people.yaml", "registry/cameras.yaml",
        "registry/storage.yaml", "registry/requests", "registry/reports")
    git(root, "commit", "-q", "-m", "campus")
    for path in [*decisions, *holds]:
        text = path.read_text()
        key = "decided_by: " if "decided_by: " in text else "created_by: "
        person = text.split(key, 1)[1].split("\n", 1)[0].strip()
        git(root, "add", str(path.relative_to(root)))
        git(root, "commit", "-q", "-m", f"{path.stem}", person=person)
    return root


def check(root: Path) -> tuple[int, list[dict]]:
    result = CliRunner().invoke(cli, ["check", "--registry", str(root / "registry"), "--now",
                                      NOW_TEXT, "--verify-provenance", "--format", "json"])
    return result.exit_code, json.loads(result.stdout)["violations"]


def test_decisions_committed_by_the_named_officers_pass(repo: Path):
    code, violations = check(repo)
    assert code == 0, violations
    assert not [v for v in violations if v["code"].startswith("PROVENANCE")]


def test_decision_committed_by_the_applicant_is_flagged(repo: Path):
    decision = repo / "registry/decisions/REQ-2026-0042.yaml"
    decision.write_text(decision.read_text().replace("Theft reported", "Theft reported (edited)"))
    git(repo, "commit", "-q", "-am", "approve my own request", person="t.wang")
    code, violations = check(repo)
    mismatches = [v for v in violations if v["code"] == "PROVENANCE_MISMATCH"]
    assert code == 1 and len(mismatches) == 1
    assert mismatches[0]["file"].endswith("decisions/REQ-2026-0042.yaml")
    assert mismatches[0]["line"] == 3  # decided_by
    assert "t.wang@campus.example.edu" in mismatches[0]["message"]


def test_unsigned_commits_warn_when_config_asks(repo: Path):
    config = repo / "registry/config.yaml"
    config.write_text(config.read_text() + "require_signed_commits: true\n")
    git(repo, "commit", "-q", "-am", "require signatures")
    code, violations = check(repo)
    unsigned = [v for v in violations if v["code"] == "PROVENANCE_UNSIGNED"]
    assert code == 0 and unsigned and all(v["severity"] == "warning" for v in unsigned)


def test_uncommitted_decision_is_reported(repo: Path):
    (repo / "registry/decisions/REQ-2026-0046.yaml").write_text(
        "request: REQ-2026-0046\ndecision: approved\ndecided_by: h.liu\n"
        "decided_at: 2026-11-25T09:00:00+08:00\nreasons: [ok]\n")
    _, violations = check(repo)
    assert any(v["code"] == "PROVENANCE_UNCOMMITTED" for v in violations)


def test_not_a_git_repository_is_a_tool_error(registry_copy: Path):
    result = CliRunner().invoke(cli, ["check", "--registry", str(registry_copy),
                                      "--verify-provenance"])
    assert result.exit_code == 2 and "git" in result.output


def test_changes_lists_requests_of_the_branch(repo: Path):
    base = git(repo, "rev-parse", "HEAD").strip()
    request = repo / "registry/requests/REQ-2026-0047.yaml"
    request.write_text(request.read_text().replace("06:00-07:00", "06:00-07:30"))
    git(repo, "commit", "-q", "-am", "clarify", person="x.huang")
    result = CliRunner().invoke(cli, ["changes", "--registry", str(repo / "registry"),
                                      "--base", base])
    assert result.exit_code == 0
    assert "| REQ-2026-0047 | x.huang | insurance_claim |" in result.output
    assert "pending" in result.output
