"""check --changed-since REF: the pull request's own files first; annotations only for them."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from click.testing import CliRunner

from cctv_policy.cli.main import cli
from tests.conftest import DEMO_REGISTRY, NOW_TEXT


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def test_github_annotations_cover_the_changed_files_only(tmp_path: Path):
    repo = tmp_path / "school"
    shutil.copytree(DEMO_REGISTRY, repo / "registry")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "registry")
    git(repo, "checkout", "-qb", "request")
    request = repo / "registry/requests/REQ-2026-0047.yaml"
    request.write_text(request.read_text().replace("ends: 2026-12-04", "ends: 2027-02-04"))
    git(repo, "commit", "-qam", "longer")
    args = ["check", "--registry", str(repo / "registry"), "--now", NOW_TEXT]
    everything = CliRunner().invoke(cli, [*args, "--format", "github"]).output
    focused = (
        CliRunner().invoke(cli, [*args, "--format", "github", "--changed-since", "main"]).output
    )
    annotations = [line for line in focused.splitlines() if line.startswith(("::error", "::warn"))]
    assert annotations and all("REQ-2026-0047.yaml" in line for line in annotations)
    assert "more in files this change does not touch" in focused
    assert len(everything.splitlines()) > len(focused.splitlines())
    text = CliRunner().invoke(cli, [*args, "--changed-since", "main"]).output
    assert "REQ-2026-0047.yaml" in text.splitlines()[0]


def test_an_unknown_base_is_a_tool_error(tmp_path: Path):
    repo = tmp_path / "school"
    shutil.copytree(DEMO_REGISTRY, repo / "registry")
    git(repo, "init", "-q")
    result = CliRunner().invoke(
        cli, ["check", "--registry", str(repo / "registry"), "--changed-since", "nope"]
    )
    assert result.exit_code == 2 and "cannot tell which files changed" in result.output
