"""Which registry commit a bundle was built from, claimed only when it is true.

`git status` does not see every difference between the working files and the commit: a file
marked --skip-worktree or --assume-unchanged, or an ignored file the loader reads anyway. So
each file of the registry folder is hashed as git would store it (`git hash-object
--no-filters`, byte for byte) and compared with the commit's tree; any difference, added or
missing file marks the revision `+uncommitted`.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path


def registry_commit(root: Path) -> str:
    """`git:<commit>` of the registry when its files are exactly the commit's; with
    `+uncommitted` when any differs; `not-in-git` outside a repository."""
    try:
        commit = _git(root, "rev-parse", "HEAD").strip()
    except (OSError, subprocess.SubprocessError):
        return "not-in-git"
    try:
        clean = _committed_blobs(root) == _working_blobs(root)
    except (OSError, subprocess.SubprocessError, ValueError):
        clean = False  # what cannot be compared is not claimed
    return f"git:{commit}" + ("" if clean else "+uncommitted")


def _git(root: Path, *args: str, stdin: str | None = None) -> str:
    return subprocess.run(
        ["git", *args],
        cwd=root,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout


def _committed_blobs(root: Path) -> dict[str, str]:
    """Path (relative to root) -> blob id of every file of HEAD under root."""
    listing = _git(root, "ls-tree", "-r", "-z", "--full-tree", "HEAD", "--", ".")
    prefix = _git(root, "rev-parse", "--show-prefix").strip()
    blobs: dict[str, str] = {}
    for entry in filter(None, listing.split("\0")):
        meta, _, path = entry.partition("\t")
        if path.startswith(prefix):
            blobs[path[len(prefix) :]] = meta.split()[2]
    return blobs


def _working_blobs(root: Path) -> dict[str, str]:
    """Path (relative to root) -> blob id of every file in the folder, as its bytes are."""
    paths = sorted(_files(root))
    if any("\n" in path for path in paths):
        raise ValueError("a file name with a line break cannot be hashed by --stdin-paths")
    if not paths:
        return {}
    # Absolute paths: git reads --stdin-paths from the top of the work tree, not from root.
    absolute = "\n".join(str(root.resolve() / path) for path in paths)
    ids = _git(root, "hash-object", "--no-filters", "--stdin-paths", stdin=absolute)
    return dict(zip(paths, ids.split(), strict=True))


def _files(root: Path) -> list[str]:
    found = []
    for folder, subfolders, names in os.walk(root):
        subfolders[:] = [d for d in subfolders if not (folder == str(root) and d == ".git")]
        for name in names:
            found.append(str((Path(folder) / name).relative_to(root)))
    return found
