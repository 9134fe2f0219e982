"""Which files of a folder differ from the commit checked out, whatever git has been told.

`git status` does not see every difference between the working files and the commit: a file
marked --skip-worktree or --assume-unchanged, or an ignored file the loader reads anyway. So
each file of the folder is hashed as git would store it (`git hash-object --no-filters`, byte
for byte) and compared with HEAD's tree: a changed, added or missing file differs. Read by the
provenance check (an uncommitted decision is nobody's) and by the bundle's revision (a commit
is claimed only when the files are its).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path


class TreeUnreadable(Exception):
    """The folder cannot be compared with the commit (not in git, no HEAD, git failing)."""


def differing_files(root: Path) -> set[str]:
    """Paths relative to `root` whose bytes are not HEAD's: changed, added or missing."""
    try:
        committed, working = _committed_blobs(root), _working_blobs(root)
    except (OSError, subprocess.SubprocessError, ValueError) as exc:
        raise TreeUnreadable(f"cannot compare {root} with its commit: {exc}") from exc
    return {
        path
        for path in committed.keys() | working.keys()
        if committed.get(path) != working.get(path)
    }


def git(root: Path, *args: str, stdin: str | None = None) -> str:
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
    listing = git(root, "ls-tree", "-r", "-z", "--full-tree", "HEAD", "--", ".")
    prefix = git(root, "rev-parse", "--show-prefix").strip()
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
    ids = git(root, "hash-object", "--no-filters", "--stdin-paths", stdin=absolute)
    return dict(zip(paths, ids.split(), strict=True))


def _files(root: Path) -> list[str]:
    found = []
    for folder, subfolders, names in os.walk(root):
        subfolders[:] = [d for d in subfolders if not (folder == str(root) and d == ".git")]
        for name in names:
            found.append(str((Path(folder) / name).relative_to(root)))
    return found
