"""History people can read (issue 30): since CHANGES.md began, every commit subject is
`area: what (#N)` in at most 72 characters, and every issue a commit names has its section in
CHANGES.md. Skipped outside a git checkout (an unpacked sdist, a shallow clone without it)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SUBJECT = re.compile(r"[a-z][a-z0-9/_.-]*(?:, [a-z][a-z0-9/_.-]*)*: \S.* \(#\d+(?:, #\d+)*\)")


def _git(*args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(REPO), *args], capture_output=True, text=True, check=True
    ).stdout


def _subjects_since_changelog() -> list[str]:
    try:
        first = _git("log", "--diff-filter=A", "--format=%H", "--", "CHANGES.md").split()
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    if not first:
        pytest.skip("CHANGES.md is not in this checkout's history (a shallow clone)")
    return _git("log", "--no-merges", "--format=%s", f"{first[-1]}^..HEAD").splitlines()


def test_every_subject_is_short_and_names_its_area_and_issue() -> None:
    bad = [s for s in _subjects_since_changelog() if len(s) > 72 or not SUBJECT.fullmatch(s)]
    assert not bad, "subjects not `area: what (#N)` within 72 characters:\n" + "\n".join(bad)


def test_every_issue_named_in_a_commit_has_its_changelog_section() -> None:
    named = {n for s in _subjects_since_changelog() for n in re.findall(r"#(\d+)", s)}
    changelog = (REPO / "CHANGES.md").read_text(encoding="utf-8")
    missing = sorted(n for n in named if f"(#{n})" not in changelog)
    assert not missing, f"issues with commits but no section in CHANGES.md: {missing}"
