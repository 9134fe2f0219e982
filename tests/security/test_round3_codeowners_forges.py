"""Issue 28: CODEOWNERS where GitLab and Gitea read it. A repository can hold a good
.github/CODEOWNERS (GitHub's first choice) and another file GitLab or Gitea reads first (the
root, docs/, .gitlab/, .gitea/): `check --verify-provenance` must judge every file some forge
uses, each in that forge's syntax, in a real git repository."""

from __future__ import annotations

from pathlib import Path

import pytest

from cctv_policy.provenance.codeowners import parse, unowned_trust_roots
from testing.helpers import campus_repo, git
from tests.conftest import DEMO_REGISTRY
from tests.security.test_provenance_bypasses import provenance

OFFICE = "@your-school/security-office"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return campus_repo(tmp_path / "campus", DEMO_REGISTRY)


def unowned_warnings(repo: Path) -> list[dict]:
    _, violations = provenance(repo)
    return [v for v in violations if v["code"] == "PROVENANCE_TRUST_ROOT_UNOWNED"]


@pytest.mark.parametrize(
    ("location", "text"),
    [
        ("CODEOWNERS", "* @t-wang\n"),  # GitLab and Gitea read the root before their folders
        ("docs/CODEOWNERS", "* @t-wang\n"),
        (".gitlab/CODEOWNERS", "[Office]\n* @t-wang\n"),
        (".gitea/CODEOWNERS", ".* @t-wang\n"),
    ],
)
def test_a_loose_codeowners_another_forge_reads_is_reported(repo: Path, location: str, text: str):
    assert not unowned_warnings(repo)  # the good .github/CODEOWNERS alone
    (repo / location).parent.mkdir(exist_ok=True)
    (repo / location).write_text(text)
    git(repo, "add", location)
    git(repo, "commit", "-q", "-m", "another forge's owners", person="s.zhou")
    warnings = unowned_warnings(repo)
    assert warnings and warnings[0]["file"].endswith(location), warnings


def test_every_codeowners_location_is_a_trust_root(tmp_path: Path):
    """A new file at a location a forge reads first replaces the owners: it needs the office."""
    (tmp_path / ".github").mkdir()
    (tmp_path / ".github/CODEOWNERS").write_text(f"/registry/ {OFFICE}\n/.github/ {OFFICE}\n")
    (tmp_path / "registry").mkdir()
    unowned = set(unowned_trust_roots(tmp_path, tmp_path / "registry"))
    assert {"CODEOWNERS", "docs/CODEOWNERS", ".gitlab/CODEOWNERS", ".gitea/CODEOWNERS"} <= unowned
    assert {".gitlab-ci.yml", ".gitea/workflows/new.yml", ".forgejo/workflows/new.yml"} <= unowned


def test_gitlab_sections_each_need_their_approval():
    """GitLab asks one approval per required section that matches: an extra section adds a
    reviewer, an optional one (^[...]) asks for none."""
    office_and_docs = parse(f"[Office] {OFFICE}\n*\n[Docs]\n/registry/people.yaml @t-wang\n")
    assert unowned_trust_roots(Path("."), Path("."), text="", office=[OFFICE]) != []  # no file
    from cctv_policy.provenance.codeowners import office_must_approve

    assert office_must_approve(office_and_docs, "registry/people.yaml", {OFFICE})
    optional_only = parse(f"* @t-wang\n^[Office] {OFFICE}\n/registry/\n")
    assert not office_must_approve(optional_only, "registry/people.yaml", {OFFICE})
    required = parse(f"* @t-wang\n[Office] {OFFICE}\n/registry/\n")
    assert office_must_approve(required, "registry/people.yaml", {OFFICE})


def test_gitea_rules_are_regular_expressions_and_all_matches_count():
    from cctv_policy.provenance.codeowners import office_must_approve

    rules = parse(f"registry/.* {OFFICE}\n", dialect="gitea")
    assert office_must_approve(rules, "registry/decisions/REQ-1.yaml", {OFFICE})
    assert not office_must_approve(rules, "policies/cctv/x.rego", {OFFICE})
    extra = parse(f".* {OFFICE}\nregistry/people\\.yaml @t-wang\n", dialect="gitea")
    assert not office_must_approve(extra, "registry/people.yaml", {OFFICE})  # t-wang too
    negative = parse(f".* {OFFICE}\n!registry/.* @t-wang\n", dialect="gitea")
    assert office_must_approve(negative, "registry/people.yaml", {OFFICE})
    assert not office_must_approve(negative, "policies/cctv/x.rego", {OFFICE})
    broken = parse(f"* {OFFICE}\n", dialect="gitea")  # not a Go regexp: Gitea skips the line
    assert not office_must_approve(broken, "registry/people.yaml", {OFFICE})
