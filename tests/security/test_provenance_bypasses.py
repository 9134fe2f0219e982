"""Provenance that holds (issue 8, hole 4): each way an applicant could make a decision look
like the security office's, tried in a real git repository."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from cctv_policy.cli.main import cli
from testing.helpers import EMAIL, campus_repo, git
from tests.conftest import DEMO_REGISTRY, NOW_TEXT

DECISION = "registry/decisions/REQ-2026-0042.yaml"  # names h.liu


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return campus_repo(tmp_path / "campus", DEMO_REGISTRY)


def provenance(repo: Path, *extra: str) -> tuple[int, list[dict]]:
    result = CliRunner().invoke(
        cli,
        [
            "check",
            "--registry",
            str(repo / "registry"),
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


def on_decision(violations: list[dict], code: str) -> list[dict]:
    return [v for v in violations if v["code"] == code and v["file"].endswith(DECISION[9:])]


def widen_decision(repo: Path) -> None:
    path = repo / DECISION
    path.write_text(
        path.read_text().replace(
            "scope: as_requested\n", "scope:\n  ends: 2026-11-28T18:00:00+08:00\n"
        )
    )


def test_evil_merge_is_attributed_to_the_merge(repo: Path):
    git(repo, "checkout", "-q", "-b", "side")
    (repo / "registry/README.md").write_text("notes\n")
    git(repo, "add", "registry/README.md")
    git(repo, "commit", "-q", "-m", "docs", person="t.wang")
    git(repo, "checkout", "-q", "main")
    (repo / "registry/CODEOWNERS").write_text("")
    git(repo, "add", "registry/CODEOWNERS")
    git(repo, "commit", "-q", "-m", "admin", person="s.zhou")
    git(repo, "merge", "-q", "--no-commit", "side", person="t.wang")
    widen_decision(repo)
    git(repo, "add", DECISION)
    git(repo, "commit", "-q", "-m", "Merge branch side", person="t.wang")
    code, violations = provenance(repo)
    assert code == 1 and on_decision(violations, "PROVENANCE_MISMATCH"), violations


def test_amend_that_keeps_the_officer_as_author_is_caught_by_the_committer(repo: Path):
    widen_decision(repo)
    git(repo, "commit", "-q", "-am", "scope", person="h.liu")
    path = repo / DECISION
    path.write_text(path.read_text().replace("2026-11-28T18:00", "2026-11-28T17:00"))
    git(
        repo,
        "commit",
        "-q",
        "--amend",
        "--no-edit",
        "-a",
        committer="t.wang",
        extra_env={"GIT_AUTHOR_NAME": "h.liu", "GIT_AUTHOR_EMAIL": EMAIL.format("h.liu")},
    )
    author = git(repo, "log", "-1", "--format=%ae %ce").split()
    assert author == [EMAIL.format("h.liu"), EMAIL.format("t.wang")]
    code, violations = provenance(repo)
    mismatches = on_decision(violations, "PROVENANCE_MISMATCH")
    assert code == 1 and len(mismatches) == 1 and "committed by" in mismatches[0]["message"]


def test_identities_come_from_the_trust_base_not_the_branch(repo: Path):
    base = git(repo, "rev-parse", "HEAD").strip()
    people = repo / "registry/people.yaml"
    people.write_text(
        people.read_text().replace(
            "git_identities: [h.liu@campus.example.edu]",
            "git_identities: [h.liu@campus.example.edu, t.wang@campus.example.edu]",
        )
    )
    widen_decision(repo)
    git(repo, "commit", "-q", "-am", "add my alias; approve", person="t.wang")
    code, violations = provenance(repo, "--trust-base", base)
    assert code == 1 and on_decision(violations, "PROVENANCE_MISMATCH"), violations


def test_backdated_request_is_caught(repo: Path):
    path = repo / "registry/requests/REQ-2026-0090.yaml"
    path.write_text(
        (repo / "registry/requests/REQ-2026-0046.yaml")
        .read_text()
        .replace("REQ-2026-0046", "REQ-2026-0090")
    )
    git(repo, "add", str(path))
    git(
        repo, "commit", "-q", "-m", "file late", person="x.huang", date="2026-11-27T09:00:00+08:00"
    )  # 2.7 days after its submitted_at
    code, violations = provenance(repo)
    backdated = [v for v in violations if v["code"] == "REQUEST_BACKDATED"]
    assert code == 1 and len(backdated) == 1 and backdated[0]["field"] == "submitted_at"


# -- signatures ------------------------------------------------------------------------------


def keygen(folder: Path, name: str) -> Path:
    key = folder / name
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(key)], check=True
    )
    return key


@pytest.fixture
def signed_repo(repo: Path, tmp_path: Path) -> tuple[Path, dict[str, Path]]:
    """Signed commits required; h.liu and t.wang have keys in people.yaml; h.liu re-signs the
    decision on REQ-2026-0042."""
    keys = {name: keygen(tmp_path, name) for name in ("h.liu", "t.wang", "stranger")}
    people = repo / "registry/people.yaml"
    text = people.read_text()
    for person in ("h.liu", "t.wang"):
        public = Path(f"{keys[person]}.pub").read_text().strip()
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


def sign(repo: Path, key: Path, person: str) -> None:
    git(
        repo,
        "-c",
        "gpg.format=ssh",
        "-c",
        f"user.signingkey={key}",
        "commit",
        "-q",
        "-S",
        "-am",
        "decision",
        person=person,
    )


def test_officers_signature_passes(signed_repo):
    repo, _ = signed_repo
    _, violations = provenance(repo)
    assert not [
        v
        for v in violations
        if v["file"].endswith(DECISION[9:]) and v["code"].startswith("PROVENANCE")
    ], violations


def test_typed_identity_without_signature_is_an_error(signed_repo):
    repo, _ = signed_repo
    widen_decision(repo)
    git(repo, "commit", "-q", "-am", "scope", person="h.liu")  # anyone can type this e-mail
    code, violations = provenance(repo)
    unsigned = on_decision(violations, "PROVENANCE_UNSIGNED")
    assert code == 1 and unsigned and unsigned[0]["severity"] == "error"


def test_signature_by_another_listed_key_is_an_error(signed_repo):
    repo, keys = signed_repo
    widen_decision(repo)
    sign(repo, keys["t.wang"], "h.liu")
    code, violations = provenance(repo)
    assert code == 1 and on_decision(violations, "PROVENANCE_WRONG_SIGNER"), violations


def test_signature_by_an_unlisted_key_is_an_error(signed_repo):
    repo, keys = signed_repo
    widen_decision(repo)
    sign(repo, keys["stranger"], "h.liu")
    code, violations = provenance(repo)
    assert code == 1 and on_decision(violations, "PROVENANCE_UNSIGNED"), violations


def test_applicant_edit_merged_over_the_officers_signed_commit_is_caught(signed_repo):
    """The applicant branches before the officer's signed decision, edits request and
    decision (re-pinning it), merges main keeping their versions, and an officer merges the
    pull request: the decision's content comes from the applicant's commit, and says so."""
    repo, keys = signed_repo
    decision_commit = git(repo, "log", "-1", "--format=%H", "--", DECISION).strip()
    git(repo, "checkout", "-q", "-b", "pr", f"{decision_commit}~1")
    request = repo / "registry/requests/REQ-2026-0042.yaml"
    request.write_text(
        request.read_text().replace("cameras: [CAM-LIB-01]", "cameras: [CAM-LIB-01, CAM-LIB-02]")
    )
    from testing.helpers import request_digest

    decision = repo / DECISION
    text = decision.read_text()
    old_pin = next(line for line in text.splitlines() if line.startswith("request_sha256:"))
    decision.write_text(
        text.replace(
            old_pin, "request_sha256: " + request_digest(repo / "registry", "REQ-2026-0042")
        )
    )
    git(repo, "commit", "-q", "-am", "add CAM-LIB-02", person="t.wang")
    mine = git(repo, "rev-parse", "HEAD").strip()
    subprocess.run(["git", "merge", "-q", "--no-commit", "main"], cwd=repo, capture_output=True)
    for path in (DECISION, "registry/requests/REQ-2026-0042.yaml"):
        (repo / path).write_text(git(repo, "show", f"{mine}:{path}"))
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--no-edit", person="t.wang")
    git(repo, "checkout", "-q", "main")
    git(
        repo,
        "-c",
        "gpg.format=ssh",
        "-c",
        f"user.signingkey={keys['h.liu']}",
        "merge",
        "-q",
        "--no-ff",
        "-S",
        "pr",
        "-m",
        "Merge pull request",
        person="h.liu",
    )
    code, violations = provenance(repo)
    assert code == 1 and on_decision(violations, "PROVENANCE_MISMATCH"), violations
    assert on_decision(violations, "PROVENANCE_UNSIGNED")


def test_a_request_filed_in_someone_elses_name_is_caught(repo: Path):
    """l.chen owes a usage report (R11) and files as y.zhang to get round it."""
    path = repo / "registry/requests/REQ-2026-0091.yaml"
    path.write_text(
        (repo / "registry/requests/REQ-2026-0046.yaml")
        .read_text()
        .replace("REQ-2026-0046", "REQ-2026-0091")
        .replace("recipients: [y.zhang]", "recipients: [l.chen]")
    )
    git(repo, "add", str(path))
    git(repo, "commit", "-q", "-m", "file", person="l.chen", date="2026-11-24T16:30:00+08:00")
    _, violations = provenance(repo)
    assert [
        v
        for v in violations
        if v["code"] == "PROVENANCE_MISMATCH"
        and v["file"].endswith("REQ-2026-0091.yaml")
        and v["field"] == "applicant"
    ]


def test_backdating_cannot_hide_behind_a_typed_commit_date(repo: Path):
    """The pull request was opened (GitHub's clock) after the date the applicant typed."""
    base = git(repo, "rev-parse", "HEAD").strip()
    path = repo / "registry/requests/REQ-2026-0090.yaml"
    path.write_text(
        (repo / "registry/requests/REQ-2026-0046.yaml")
        .read_text()
        .replace("REQ-2026-0046", "REQ-2026-0090")
    )
    git(repo, "add", str(path))
    git(repo, "commit", "-q", "-m", "file", person="y.zhang", date="2026-11-24T16:30:00+08:00")
    code, _ = provenance(repo, "--trust-base", base)
    assert code == 0
    code, violations = provenance(
        repo, "--trust-base", base, "--opened-at", "2026-11-27T09:00:00+08:00"
    )
    assert code == 1 and [v for v in violations if v["code"] == "REQUEST_BACKDATED"]


@pytest.mark.parametrize(
    "codeowners",
    [
        "* @t-wang\n",
        "* @your-school/security-office\n/registry/decisions/*.yml\n",
        "* @your-school/security-office\n"
        "/registry/people.yaml @your-school/security-office @t-wang\n",
        "* @your-school/security-office\n/registry/requests/ @t-wang\n",
    ],
)
def test_codeowners_that_only_look_like_they_cover_are_reported(repo: Path, codeowners: str):
    (repo / ".github/CODEOWNERS").write_text(codeowners)
    git(repo, "commit", "-q", "-am", "loosen", person="s.zhou")
    _, violations = provenance(repo)
    assert [v for v in violations if v["code"] == "PROVENANCE_TRUST_ROOT_UNOWNED"]


def test_codeowners_is_read_from_the_trust_base(repo: Path):
    base = git(repo, "rev-parse", "HEAD").strip()
    (repo / ".github/CODEOWNERS").write_text("* @t-wang\n")
    git(repo, "commit", "-q", "-am", "loosen in the branch", person="t.wang")
    _, violations = provenance(repo, "--trust-base", base)
    assert not [v for v in violations if v["code"] == "PROVENANCE_TRUST_ROOT_UNOWNED"]


def test_one_signing_key_for_two_people_is_an_error(signed_repo):
    repo, keys = signed_repo
    people = repo / "registry/people.yaml"
    public = Path(f"{keys['h.liu']}.pub").read_text().strip()
    people.write_text(
        people.read_text().replace(
            "git_identities: [m.guo@campus.example.edu]",
            f'git_identities: [m.guo@campus.example.edu]\n    signing_keys: ["{public}"]',
        )
    )
    git(repo, "commit", "-q", "-am", "keys")
    code, violations = provenance(repo)
    assert code == 1 and [v for v in violations if v["code"] == "PROVENANCE_SHARED_KEY"]
