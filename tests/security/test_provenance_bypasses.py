"""Provenance that holds (issue 8, hole 4): each way an applicant could make a decision look
like the security office's, tried in a real git repository."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from cctv_policy.cli.main import cli
from tests.conftest import DEMO_REGISTRY, NOW_TEXT
from tests.helpers import EMAIL, campus_repo, git

DECISION = "registry/decisions/REQ-2026-0042.yaml"  # names h.liu


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return campus_repo(tmp_path / "campus", DEMO_REGISTRY)


def provenance(repo: Path, *extra: str) -> tuple[int, list[dict]]:
    result = CliRunner().invoke(cli, ["check", "--registry", str(repo / "registry"), "--now",
                                      NOW_TEXT, "--verify-provenance", "--format", "json",
                                      *extra])
    assert result.exit_code in (0, 1, 3), result.output
    return result.exit_code, json.loads(result.stdout)["violations"]


def on_decision(violations: list[dict], code: str) -> list[dict]:
    return [v for v in violations if v["code"] == code and v["file"].endswith(DECISION[9:])]


def widen_decision(repo: Path) -> None:
    path = repo / DECISION
    path.write_text(path.read_text() + "scope:\n  ends: 2026-11-28T18:00:00+08:00\n")


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
    git(repo, "commit", "-q", "--amend", "--no-edit", "-a", committer="t.wang",
        extra_env={"GIT_AUTHOR_NAME": "h.liu", "GIT_AUTHOR_EMAIL": EMAIL.format("h.liu")})
    author = git(repo, "log", "-1", "--format=%ae %ce").split()
    assert author == [EMAIL.format("h.liu"), EMAIL.format("t.wang")]
    code, violations = provenance(repo)
    mismatches = on_decision(violations, "PROVENANCE_MISMATCH")
    assert code == 1 and len(mismatches) == 1 and "committed by" in mismatches[0]["message"]


def test_identities_come_from_the_trust_base_not_the_branch(repo: Path):
    base = git(repo, "rev-parse", "HEAD").strip()
    people = repo / "registry/people.yaml"
    people.write_text(people.read_text().replace(
        "git_identities: [h.liu@campus.example.edu]",
        "git_identities: [h.liu@campus.example.edu, t.wang@campus.example.edu]"))
    widen_decision(repo)
    git(repo, "commit", "-q", "-am", "add my alias; approve", person="t.wang")
    code, violations = provenance(repo, "--trust-base", base)
    assert code == 1 and on_decision(violations, "PROVENANCE_MISMATCH"), violations


def test_backdated_request_is_caught(repo: Path):
    path = repo / "registry/requests/REQ-2026-0090.yaml"
    path.write_text((repo / "registry/requests/REQ-2026-0046.yaml").read_text()
                    .replace("REQ-2026-0046", "REQ-2026-0090"))
    git(repo, "add", str(path))
    git(repo, "commit", "-q", "-m", "file late", person="x.huang",
        date="2026-11-27T09:00:00+08:00")  # 2.7 days after its submitted_at
    code, violations = provenance(repo)
    backdated = [v for v in violations if v["code"] == "REQUEST_BACKDATED"]
    assert code == 1 and len(backdated) == 1 and backdated[0]["field"] == "submitted_at"


# -- signatures ------------------------------------------------------------------------------

def keygen(folder: Path, name: str) -> Path:
    key = folder / name
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(key)],
                   check=True)
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
        text = text.replace(f"git_identities: [{person}@campus.example.edu]",
                            f"git_identities: [{person}@campus.example.edu]\n"
                            f"    signing_keys: [\"{public}\"]")
    people.write_text(text)
    config = repo / "registry/config.yaml"
    config.write_text(config.read_text() + "require_signed_commits: true\n")
    git(repo, "commit", "-q", "-am", "require signatures")
    path = repo / DECISION
    path.write_text(path.read_text() + "# signed by the officer\n")
    sign(repo, keys["h.liu"], "h.liu")
    return repo, keys


def sign(repo: Path, key: Path, person: str) -> None:
    git(repo, "-c", "gpg.format=ssh", "-c", f"user.signingkey={key}", "commit", "-q", "-S",
        "-am", "decision", person=person)


def test_officers_signature_passes(signed_repo):
    repo, _ = signed_repo
    _, violations = provenance(repo)
    assert not [v for v in violations if v["file"].endswith(DECISION[9:])
                and v["code"].startswith("PROVENANCE")], violations


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
