"""Provenance, third round (issue 26): a revoked approval replayed, provenance where approvals
act, the officer a mismatch names. Real git repositories, real SSH-signed commits."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from cctv_policy.authz.reload import SnapshotLoader
from cctv_policy.cli.main import cli
from cctv_policy.rulebook.gate import RegistryNotEnforceable
from testing.helpers import (
    apply_argv,
    campus_repo,
    demo_footage,
    footage_keys,
    git,
    require_provenance,
)
from testing.serving import SERVE_NOW, audit_entries, serving
from tests.conftest import DEMO_REGISTRY
from tests.security.test_provenance_bypasses import (
    DECISION,
    keygen,
    on_decision,
    provenance,
    sign,
    widen_decision,
)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return campus_repo(tmp_path / "campus", DEMO_REGISTRY)


@pytest.fixture
def signed_repo(repo: Path, tmp_path: Path) -> tuple[Path, dict[str, Path]]:
    """As in test_provenance_bypasses: signatures required, h.liu re-signs REQ-2026-0042's
    decision (the approval)."""
    keys = {name: keygen(tmp_path, name) for name in ("h.liu", "t.wang")}
    people = repo / "registry/people.yaml"
    text = people.read_text()
    for person, key in keys.items():
        public = Path(f"{key}.pub").read_text().strip()
        text = text.replace(
            f"git_identities: [{person}@campus.example.edu]",
            f'git_identities: [{person}@campus.example.edu]\n    signing_keys: ["{public}"]',
        )
    people.write_text(text)
    config = repo / "registry/config.yaml"
    config.write_text(config.read_text() + "require_signed_commits: true\n")
    git(repo, "commit", "-q", "-am", "require signatures")
    path = repo / DECISION
    path.write_text(path.read_text() + "# signed by the officer\n")
    sign(repo, keys["h.liu"], "h.liu")
    return repo, keys


NOW = datetime.now(UTC)  # apply runs on the system clock
GITHUB = {"GIT_COMMITTER_NAME": "GitHub", "GIT_COMMITTER_EMAIL": "noreply@github.com"}


def reject(repo: Path) -> None:
    """The officer changes their mind: the approval becomes a rejection (the content differs)."""
    path = repo / DECISION
    path.write_text(path.read_text() + "# revoked: the footage is no longer needed\n")


def trust_github_merges(repo: Path) -> None:
    config = repo / "registry/config.yaml"
    config.write_text(config.read_text() + "trusted_committers: [noreply@github.com]\n")
    git(repo, "commit", "-q", "-am", "GitHub merges pull requests", person="s.zhou")


# -- 1. a revoked approval replayed ------------------------------------------------------------


def test_revoked_approval_restored_byte_for_byte_is_not_the_officers(signed_repo):
    repo, keys = signed_repo
    approval = (repo / DECISION).read_bytes()  # signed by h.liu (the fixture)
    reject(repo)
    sign(repo, keys["h.liu"], "h.liu")
    (repo / DECISION).write_bytes(approval)
    git(repo, "commit", "-q", "-am", "restore", person="t.wang")
    code, violations = provenance(repo)
    assert code == 1 and on_decision(violations, "PROVENANCE_UNSIGNED"), violations
    assert on_decision(violations, "PROVENANCE_MISMATCH")


def test_revoked_approval_restored_with_the_officers_typed_name_is_unsigned(signed_repo):
    repo, keys = signed_repo
    approval = (repo / DECISION).read_bytes()
    reject(repo)
    sign(repo, keys["h.liu"], "h.liu")
    (repo / DECISION).write_bytes(approval)
    git(repo, "commit", "-q", "-am", "restore", person="h.liu")  # typed, not signed
    code, violations = provenance(repo)
    assert code == 1 and on_decision(violations, "PROVENANCE_UNSIGNED"), violations


def test_revoked_approval_restored_by_a_merge_is_caught(signed_repo):
    """The applicant branched after the approval, keeps it through an "ours" merge of the
    rejection, and the pull request is merged: no commit of the pull request wrote the
    approval, the merge brought it back."""
    repo, keys = signed_repo
    trust_github_merges(repo)
    git(repo, "checkout", "-q", "-b", "pr")
    (repo / "registry/README.md").write_text("notes\n")
    git(repo, "add", "registry/README.md")
    git(repo, "commit", "-q", "-m", "docs", person="t.wang")
    git(repo, "checkout", "-q", "main")
    reject(repo)
    sign(repo, keys["h.liu"], "h.liu")
    git(repo, "checkout", "-q", "pr")
    git(repo, "merge", "-q", "-s", "ours", "main", "-m", "Merge main", person="t.wang")
    git(repo, "checkout", "-q", "main")
    git(
        repo,
        "merge",
        "-q",
        "--no-ff",
        "pr",
        "-m",
        "Merge pull request",
        person="h.liu",
        extra_env=GITHUB,
    )
    assert "revoked" not in (repo / DECISION).read_text()
    code, violations = provenance(repo)
    assert code == 1 and on_decision(violations, "PROVENANCE_UNSIGNED"), violations


def test_officers_signed_decision_merged_by_github_passes(signed_repo):
    """The normal flow: the officer's signed commit on a branch, merged with a merge commit
    GitHub makes (committer GitHub, no signature of a listed key)."""
    repo, keys = signed_repo
    trust_github_merges(repo)
    git(repo, "checkout", "-q", "-b", "decide")
    reject(repo)
    sign(repo, keys["h.liu"], "h.liu")
    git(repo, "checkout", "-q", "main")
    (repo / "registry/README.md").write_text("notes\n")
    git(repo, "add", "registry/README.md")
    git(repo, "commit", "-q", "-m", "docs", person="s.zhou")
    git(
        repo,
        "merge",
        "-q",
        "--no-ff",
        "decide",
        "-m",
        "Merge pull request",
        person="h.liu",
        extra_env=GITHUB,
    )
    _, violations = provenance(repo)
    assert not [
        v
        for v in violations
        if v["code"].startswith("PROVENANCE") and v["file"].endswith(DECISION[9:])
    ], violations


def test_rewritten_then_restored_in_one_pull_request_is_the_last_writers(signed_repo):
    """Inside one pull request: the officer's signed approval, then the applicant's edit, then
    the applicant's byte-for-byte restore. The last writer counts."""
    repo, keys = signed_repo
    trust_github_merges(repo)
    git(repo, "checkout", "-q", "-b", "pr")
    reject(repo)
    sign(repo, keys["h.liu"], "h.liu")
    signed = (repo / DECISION).read_bytes()
    widen_decision(repo)
    git(repo, "commit", "-q", "-am", "widen", person="t.wang")
    (repo / DECISION).write_bytes(signed)
    git(repo, "commit", "-q", "-am", "undo", person="t.wang")
    git(repo, "checkout", "-q", "main")
    git(
        repo,
        "merge",
        "-q",
        "--no-ff",
        "pr",
        "-m",
        "Merge pull request",
        person="h.liu",
        extra_env=GITHUB,
    )
    code, violations = provenance(repo)
    assert code == 1 and on_decision(violations, "PROVENANCE_UNSIGNED"), violations


# -- 4. who a mismatch names ---------------------------------------------------------------------


def test_a_request_filed_by_someone_else_names_the_applicant(repo: Path):
    path = repo / "registry/requests/REQ-2026-0091.yaml"
    path.write_text(
        (repo / "registry/requests/REQ-2026-0046.yaml")
        .read_text()
        .replace("REQ-2026-0046", "REQ-2026-0091")
    )
    applicant = next(
        line.split(":", 1)[1].strip()
        for line in path.read_text().splitlines()
        if line.startswith("applicant:")
    )
    git(repo, "add", str(path))
    git(repo, "commit", "-q", "-m", "file", person="l.chen", date="2026-11-24T16:30:00+08:00")
    _, violations = provenance(repo)
    mismatch = [
        v
        for v in violations
        if v["code"] == "PROVENANCE_MISMATCH" and v["file"].endswith("REQ-2026-0091.yaml")
    ]
    assert mismatch, violations
    messages = [m["message"] for m in mismatch]
    # Officers no longer file in an applicant's name without saying so (submitted_by): the
    # applicant alone is named.
    assert any(f"must be written by {applicant}" in m for m in messages), messages


# -- 2. provenance where approvals act -----------------------------------------------------------


def applicant_approves(repo: Path) -> None:
    """t.wang widens the officer's approval of their own request and commits it as themself."""
    widen_decision(repo)
    git(repo, "commit", "-q", "-am", "approve my own request", person="t.wang")


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


def test_apply_refuses_an_approval_the_applicant_wrote(repo: Path, tmp_path: Path):
    nas = demo_footage(tmp_path / "nas", ["CAM-LIB-01"], NOW)
    before = footage_keys(nas)
    applicant_approves(repo)
    code, output = run(*apply_argv(nas, tmp_path / "audit.jsonl", registry=repo / "registry"))
    assert code == 1, output
    assert "PROVENANCE_MISMATCH" in output and "来源核验未通过" in output
    assert "Nothing was changed" in output and footage_keys(nas) == before
    refused = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
    assert "provenance" in refused[-1]["reason"]


def test_apply_refuses_a_registry_that_is_not_a_git_checkout(tmp_path: Path):
    registry = tmp_path / "registry"
    shutil.copytree(DEMO_REGISTRY, registry)
    require_provenance(registry)
    nas = demo_footage(tmp_path / "nas", ["CAM-LIB-01"], NOW)
    code, output = run(*apply_argv(nas, tmp_path / "audit.jsonl", registry=registry))
    assert code == 2, output
    assert "provenance: {required: false}" in output and "无法核验来源" in output
    assert footage_keys(nas) == footage_keys(demo_footage(tmp_path / "same", ["CAM-LIB-01"], NOW))


def test_the_opt_out_in_config_lets_a_copy_act(tmp_path: Path):
    registry = tmp_path / "registry"
    shutil.copytree(DEMO_REGISTRY, registry)  # the example says provenance: {required: false}
    nas = demo_footage(tmp_path / "nas", ["CAM-LIB-01"], NOW)
    code, output = run(*apply_argv(nas, tmp_path / "audit.jsonl", registry=registry))
    assert code == 0, output


def test_bundle_refuses_an_approval_the_applicant_wrote(repo: Path, tmp_path: Path):
    applicant_approves(repo)
    out = tmp_path / "bundle.tar.gz"
    code, output = run("bundle", "--registry", str(repo / "registry"), "--out", str(out))
    assert code == 1 and "PROVENANCE_MISMATCH" in output, output
    assert not out.exists()


def test_extract_refuses_an_approval_the_applicant_wrote(repo: Path, tmp_path: Path):
    applicant_approves(repo)
    assert run("extract", "keygen", "--out", str(tmp_path / "key"))[0] == 0
    code, output = run(
        "extract",
        "REQ-2026-0042",
        "--registry",
        str(repo / "registry"),
        "--supervisor",
        "s.zhou",
        "--to",
        "nas-export",
        "--signing-key",
        str(tmp_path / "key"),
        "--audit-log",
        str(tmp_path / "audit.jsonl"),
    )
    assert code == 1 and "PROVENANCE_MISMATCH" in output, output
    assert "Nothing was copied" in output


def test_serve_does_not_start_on_an_approval_the_applicant_wrote(repo: Path):
    applicant_approves(repo)
    with pytest.raises(RegistryNotEnforceable, match="PROVENANCE_MISMATCH"):
        SnapshotLoader(repo / "registry").load(SERVE_NOW)


def test_serve_refuses_to_reload_an_approval_the_applicant_wrote(repo: Path, tmp_path: Path):
    audit = tmp_path / "audit.jsonl"
    with serving(audit, repo / "registry", reload_interval=0.3) as service:
        applicant_approves(repo)
        deadline = time.monotonic() + 20
        while not audit_entries(audit, "serve_registry_refused"):
            assert time.monotonic() < deadline, "the changed registry was not refused"
            time.sleep(0.1)
        assert service.state.degraded
    reason = audit_entries(audit, "serve_registry_refused")[-1]["reason"]
    assert "PROVENANCE_MISMATCH" in reason


def test_check_warns_when_the_trust_base_opts_out(tmp_path: Path):
    root = campus_repo(tmp_path / "campus", DEMO_REGISTRY)
    config = root / "registry/config.yaml"
    config.write_text(config.read_text() + "provenance: {required: false}\n")
    git(root, "commit", "-q", "-am", "no provenance here", person="s.zhou")
    applicant_approves(root)
    code, violations = provenance(root)
    assert code == 0 and [v["code"] for v in violations if "PROVENANCE" in v["code"]] == [
        "PROVENANCE_NOT_REQUIRED"
    ]


# -- 5. an issue-form request is the filing account's --------------------------------------------


def github_logins(registry: Path, logins: dict[str, str]) -> None:
    people = registry / "people.yaml"
    text = people.read_text()
    for person, login in logins.items():
        text = text.replace(
            f"git_identities: [{person}@campus.example.edu]",
            f"git_identities: [{person}@campus.example.edu]\n    github: {login}",
        )
    people.write_text(text)


def file_from_issue(registry: Path, tmp_path: Path, *extra: str) -> tuple[int, str]:
    from tests.cli.test_new_request import ANSWERS, issue_body

    body = tmp_path / "body.md"
    body.write_text(issue_body(ANSWERS))  # the form names t.wang as the applicant
    return run(
        "new",
        "request",
        "--registry",
        str(registry),
        "--now",
        "2026-11-25T09:00:00+08:00",
        "--from-issue",
        str(body),
        *extra,
    )


def test_an_issue_filed_by_another_account_is_refused(registry_copy: Path, tmp_path: Path):
    github_logins(registry_copy, {"t.wang": "t-wang", "l.chen": "l-chen"})
    code, output = file_from_issue(registry_copy, tmp_path, "--filed-by", "l-chen")
    assert code == 3, output
    assert "l-chen" in output and "t.wang" in output and "申请人" in output
    assert not list((registry_copy / "requests").glob("REQ-2026-0048.yaml"))


def test_an_issue_without_its_filing_account_is_refused(registry_copy: Path, tmp_path: Path):
    code, output = file_from_issue(registry_copy, tmp_path)
    assert code == 2 and "--filed-by" in output, output


def test_an_issue_filed_by_the_applicants_account_is_written(registry_copy: Path, tmp_path):
    github_logins(registry_copy, {"t.wang": "t-wang"})
    code, output = file_from_issue(registry_copy, tmp_path, "--filed-by", "T-Wang")
    assert code == 0, output
    assert (registry_copy / "requests/REQ-2026-0048.yaml").exists()


def test_apply_refuses_a_shallow_clone(repo: Path, tmp_path: Path):
    """A shallow clone has one commit: everything looks written by its author. Refused."""
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{repo}", str(clone)], check=True)
    nas = demo_footage(tmp_path / "nas", ["CAM-LIB-01"], NOW)
    code, output = run(*apply_argv(nas, tmp_path / "audit.jsonl", registry=clone / "registry"))
    assert code == 2 and "shallow" in output, output


# -- an edit git status does not show ------------------------------------------------------------


@pytest.mark.parametrize("flag", ["--skip-worktree", "--assume-unchanged"])
def test_an_edit_hidden_from_git_status_is_not_the_officers(repo: Path, tmp_path: Path, flag):
    """Whoever can write the checkout marks the officer's decision so that `git status` stops
    looking at it, then widens it: the committed file is the officer's, the one apply reads is
    not. The working file's bytes are compared with the commit's, whatever git is told."""
    decision = repo / DECISION
    git(repo, "update-index", flag, str(decision))
    widen_decision(repo)
    assert "decisions" not in git(repo, "status", "--porcelain")  # what the old check read
    nas = demo_footage(tmp_path / "nas", ["CAM-LIB-01"], NOW)
    before = footage_keys(nas)
    code, output = run(*apply_argv(nas, tmp_path / "audit.jsonl", registry=repo / "registry"))
    assert code == 1, output
    assert "PROVENANCE_UNCOMMITTED" in output and footage_keys(nas) == before
