"""Which registry commit a bundle was built from, claimed only when it is true: every file of
the registry folder must be the commit's, byte for byte, whatever git has been told
(provenance/working_tree.py); any difference marks the revision `+uncommitted`."""

from __future__ import annotations

import subprocess
from pathlib import Path

from cctv_policy.provenance.working_tree import TreeUnreadable, differing_files, git


def registry_commit(root: Path) -> str:
    """`git:<commit>` of the registry when its files are exactly the commit's; with
    `+uncommitted` when any differs; `not-in-git` outside a repository."""
    try:
        commit = git(root, "rev-parse", "HEAD").strip()
    except (OSError, subprocess.SubprocessError):
        return "not-in-git"
    try:
        clean = not differing_files(root)
    except TreeUnreadable:
        clean = False  # what cannot be compared is not claimed
    return f"git:{commit}" + ("" if clean else "+uncommitted")
