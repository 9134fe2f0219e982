"""Approval provenance on real git repositories made by the tests (the bypasses each have a
test in tests/security/test_provenance_bypasses.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from cctv_policy.cli.main import cli
from testing.helpers import campus_repo, git
from tests.conftest import DEMO_REGISTRY, NOW_TEXT


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return campus_repo(tmp_path / "campus", DEMO_REGISTRY)


def check(root: Path, *extra: str) -> tuple[int, list[dict]]:
    result = CliRunner().invoke(
        cli,
        [
            "check",
            "--registry",
            str(root / "registry"),
            "--now",
            NOW_TEXT,
            "--verify-provenance",
            "--format",
            "json",
            *extra,
        ],
    )
    assert result.exit_code in (0, 1, 3), result.output
    return result.exit_code, json.loads(result.stdout)["violations"]


def test_decisions_committed_by_the_named_officers_pass(repo: Path):
    code, violations = check(repo)
    assert code == 0, violations
    assert not [v for v in violations if v["code"].startswith(("PROVENANCE", "REQUEST_BACK"))]


def test_decision_committed_by_the_applicant_is_flagged(repo: Path):
    decision = repo / "registry/decisions/REQ-2026-0042.yaml"
    decision.write_text(decision.read_text().replace("Theft reported", "Theft reported (edited)"))
    git(repo, "commit", "-q", "-am", "approve my own request", person="t.wang")
    code, violations = check(repo)
    mismatches = [v for v in violations if v["code"] == "PROVENANCE_MISMATCH"]
    assert code == 1 and len(mismatches) == 2  # author and committer
    assert all(m["file"].endswith("decisions/REQ-2026-0042.yaml") for m in mismatches)
    assert all(m["field"] == "decided_by" for m in mismatches)
    assert "t.wang@campus.example.edu" in mismatches[0]["message"]


def test_uncommitted_decision_is_reported(repo: Path):
    decision = repo / "registry/decisions/REQ-2026-0042.yaml"
    decision.write_text(decision.read_text() + "# a note\n")
    _, violations = check(repo)
    assert any(
        v["code"] == "PROVENANCE_UNCOMMITTED" and "REQ-2026-0042" in v["file"] for v in violations
    )


def test_not_a_git_repository_is_a_tool_error(registry_copy: Path):
    result = CliRunner().invoke(
        cli, ["check", "--registry", str(registry_copy), "--verify-provenance"]
    )
    assert result.exit_code == 2 and "git" in result.output


def test_unknown_trust_base_is_a_tool_error(repo: Path):
    result = CliRunner().invoke(
        cli,
        [
            "check",
            "--registry",
            str(repo / "registry"),
            "--verify-provenance",
            "--trust-base",
            "no-such-ref",
        ],
    )
    assert result.exit_code == 2 and "trust base" in result.output


def test_changes_lists_requests_of_the_branch(repo: Path):
    base = git(repo, "rev-parse", "HEAD").strip()
    request = repo / "registry/requests/REQ-2026-0047.yaml"
    request.write_text(request.read_text().replace("06:00-07:00", "06:00-07:30"))
    git(repo, "commit", "-q", "-am", "clarify", person="x.huang")
    result = CliRunner().invoke(
        cli, ["changes", "--registry", str(repo / "registry"), "--base", base]
    )
    assert result.exit_code == 0
    assert "| REQ-2026-0047 | x.huang | insurance_claim |" in result.output
    assert "pending" in result.output


def _shorten_retention(repo: Path, effective_from: str) -> None:
    config = repo / "registry/config.yaml"
    text = config.read_text().replace("retention_days: 30 ", "retention_days: 15 ")
    config.write_text(text.replace("2026-09-01T00:00:00+08:00", effective_from))


def test_a_changed_rule_book_dated_in_the_past_is_refused(repo: Path):
    _shorten_retention(repo, "2026-11-01T00:00:00+08:00")
    code, violations = check(repo)
    (past,) = [v for v in violations if v["code"] == "CONFIG_EFFECTIVE_FROM_PAST"]
    assert code == 1 and past["file"].endswith("config.yaml") and past["field"] == "effective_from"
    assert "compared with HEAD" in past["message"] and "already past" in past["message"]


def test_a_changed_rule_book_taking_effect_later_passes(repo: Path):
    _shorten_retention(repo, "2026-12-01T00:00:00+08:00")
    _, violations = check(repo)
    assert not [v for v in violations if v["code"] == "CONFIG_EFFECTIVE_FROM_PAST"]
