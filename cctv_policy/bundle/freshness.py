"""A bundle never replaces a newer one where the fleet polls (SPEC §5).

Before publishing, the publisher reads what the published object says of itself (its S3
metadata: registry-commit and issued-at, written by publish.py) and refuses to put an older
bundle in its place: one built earlier, or from a registry commit that the published one's
commit does not descend from (a re-run of an old workflow, a late job, a checkout of an old
branch). A bundle put back by hand, around the publisher, is what the bundle's validity
(fleet.rego: valid_until) is for.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

_COMMIT = re.compile(r"git:([0-9a-f]{40,64})(\+uncommitted)?")


def rollback_reason(
    published: Mapping[str, str], commit: str, issued_at: str, root: Path
) -> str | None:
    """Why publishing a bundle of `commit` built at `issued_at` over the published one (its
    metadata) would put an older one in place, or None when it would not."""
    theirs_at = published.get("issued-at", "")
    try:
        later = bool(theirs_at) and _moment(theirs_at) > _moment(issued_at)
    except ValueError:
        return f"the published bundle's issued-at {theirs_at[:40]!r} is not a time"
    if later:
        return f"the published bundle was built at {theirs_at}, after this one ({issued_at})"
    theirs = _COMMIT.fullmatch(published.get("registry-commit", ""))
    if theirs is None:
        return None  # the published one names no commit: nothing to compare with
    ours = _COMMIT.fullmatch(commit)
    if ours is None:
        return (
            f"the published bundle was built from registry commit {theirs[1]}; this registry "
            f"({commit}) cannot be shown to be newer"
        )
    if ours[1] == theirs[1] or _is_ancestor(theirs[1], ours[1], root):
        return None
    return (
        f"the published bundle was built from registry commit {theirs[1]}, which this "
        f"registry's commit {ours[1]} does not descend from (it is newer, or not in this "
        "clone's history: fetch the whole history)"
    )


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _is_ancestor(older: str, newer: str, root: Path) -> bool:
    try:
        result = subprocess.run(
            ["git", "merge-base", "--is-ancestor", older, newer],
            cwd=root,
            capture_output=True,
            timeout=60,
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return result.returncode == 0
