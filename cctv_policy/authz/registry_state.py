"""What serve knows of a registry folder without loading it: a cheap fingerprint taken every
poll (has anything changed?), the revision of a snapshot (a digest of every file, and the git
HEAD) with the digest of each file that backs an approval, and when the clock-dependent part of
the answer changes. Read by the reloading server and by the child process that checks."""

from __future__ import annotations

import hashlib
import os
import stat
import subprocess
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from cctv_policy.authz.backing import BACKING_FOLDERS, UNREADABLE
from cctv_policy.registry.loader import LoadedRegistry

# decisions.rego, DECISION_IN_FUTURE: "dated more than an hour after now".
FUTURE_DECISION_SLACK = timedelta(hours=1)
# (git HEAD, sha256 of every entry's path, type, mtime, ctime, size and inode: files, links,
# folders, FIFOs, ...; all but the top-level .git, which is not part of the registry). The
# ctime catches an edit whose writer set the mtime back: nobody can set a ctime. Folders and
# odd entries count because the loader reads them too (an empty sub-folder or a FIFO is an
# input error): taking one away must be seen, or a registry refused for it stays refused.
Fingerprint = tuple[str | None, str]
# The tree is listed by GNU find in a child process, so the watcher thread waits for it without
# holding the GIL: a Python walk of 20,000 files holds it for 0.1 s on every poll, and every
# request in flight waits with it (bench/authz_bench.py). Without GNU find, Python walks.
FIND_ROWS = (
    *("find", "-P", ".", "-path", "./.git", "-prune", "-o"),
    *("-printf", r"%P\0%y\0%T@\0%C@\0%s\0%i\n"),
)


@dataclass(frozen=True)
class RegistryRevision:
    digest: str  # sha256 over every registry file's path and content
    commit: str | None  # git HEAD of the repository that holds the registry, if any

    def label(self) -> str:
        short = self.digest.removeprefix("sha256:")[:16]
        return f"sha256:{short}" + (f" (git {self.commit[:12]})" if self.commit else "")


def git_head(registry_dir: Path) -> str | None:
    try:
        done = subprocess.run(
            ["git", "-C", str(registry_dir), "rev-parse", "--verify", "-q", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    head = done.stdout.strip()
    return head if done.returncode == 0 and head else None


def _registry_files(registry_dir: Path) -> list[Path]:
    return sorted(p for p in registry_dir.rglob("*") if p.is_file() and ".git" not in p.parts)


def fingerprint(registry_dir: Path) -> Fingerprint:
    """Cheap to take every poll, and taken mostly outside this process."""
    rows = _rows_by_find(registry_dir)
    if rows is None:
        rows = "".join(_rows_here(str(registry_dir), "")).encode("utf-8", "surrogateescape")
    return git_head(registry_dir), hashlib.sha256(rows).hexdigest()


def _rows_by_find(registry_dir: Path) -> bytes | None:
    try:
        done = subprocess.run(
            FIND_ROWS, cwd=registry_dir, capture_output=True, timeout=60, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 and not done.stderr else None


def _rows_here(folder: str, prefix: str) -> list[str]:
    try:
        with os.scandir(folder) as listing:
            entries = sorted(listing, key=lambda entry: entry.name)
    except OSError:
        return []
    rows = []
    for entry in entries:
        if not prefix and entry.name == ".git":
            continue
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        kind = stat.S_IFMT(st.st_mode)
        times = f"{st.st_mtime_ns}\0{st.st_ctime_ns}"
        rows.append(f"{prefix}{entry.name}\0{kind}\0{times}\0{st.st_size}\0{st.st_ino}\n")
        if stat.S_ISDIR(st.st_mode):
            rows += _rows_here(entry.path, f"{prefix}{entry.name}/")
    return rows


def revision(registry_dir: Path) -> tuple[RegistryRevision, dict[str, str]]:
    """The revision, and the digest of each request and decision file (see backing.py)."""
    digest = hashlib.sha256()
    files: dict[str, str] = {}
    for path in _registry_files(registry_dir):
        name = path.relative_to(registry_dir).as_posix()
        digest.update(name.encode() + b"\0")
        try:
            content = path.read_bytes()
        except OSError:
            content, files[name] = b"\0unreadable", UNREADABLE
        else:
            if name.split("/", 1)[0] in BACKING_FOLDERS:
                files[name] = hashlib.sha256(content).hexdigest()
        digest.update(content + b"\0")
    return RegistryRevision("sha256:" + digest.hexdigest(), git_head(registry_dir)), files


def next_validity_change(registry: LoadedRegistry, now: datetime) -> datetime | None:
    """The first moment a decision dated in the future stops being too far ahead."""
    later = [
        decision.decided_at - FUTURE_DECISION_SLACK
        for decision in registry.decisions.values()
        if decision.decided_at - FUTURE_DECISION_SLACK > now
    ]
    return min(later, default=None)
