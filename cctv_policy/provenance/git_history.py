"""Which commit wrote each registry file's current content, read from git history.

The writer is found along the branch the registry is on (HEAD's first-parent chain, as GitHub
merges pull requests): the newest commit of that chain that set the file to its current blob is
its *arrival*. A plain commit arriving is the writer itself. A merge arriving brings the
content from the merged branch: the writer is the newest commit of that branch (the commits
the merge brought in, `arrival^1..arrival`) whose change produced the blob (merges shown with
`--cc`, so an evil merge that writes the blob produces it itself). When none of them did, the
merge restored content written before and replaced since (a revoked approval replayed): the
merge is the writer, and answers for it. An older commit that once wrote the same bytes is no
alibi: only the commit that brought the current content back counts.
"""

from __future__ import annotations

import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

FIELDS = ("%H", "%ae", "%an", "%ce", "%cn", "%G?", "%GS", "%at")


class ProvenanceUnavailable(Exception):
    """The registry is not in a git repository, the trust base cannot be read, or git failed."""


@dataclass(frozen=True)
class Commit:
    sha: str
    author_email: str
    author_name: str
    committer_email: str
    committer_name: str
    signature: str  # git's %G?: G good (by an allowed signer), U unknown key, N none, B bad...
    signer: str  # %GS: the allowed-signers principal, i.e. the person id whose key signed
    authored_at: datetime


@dataclass(frozen=True)
class Paths:
    """The repository and the registry files of interest, as git names them."""

    top: Path
    prefix: str  # the registry folder relative to the top with a slash, "" at the top
    folders: tuple[str, ...]

    def pathspecs(self) -> list[str]:
        return [self.prefix + folder for folder in self.folders]

    def registry_file(self, name: str) -> str | None:
        return name[len(self.prefix) :] if name.startswith(self.prefix) else None


def last_writers(paths: Paths, signers: Path | None) -> dict[str, Commit]:
    """registry file -> the commit that wrote its current content (see the module's doc)."""
    current = _current_blobs(paths)
    log = _log_args(signers)
    # The two walks of the history are the cost (about 0.5 ms a commit each): side by side.
    with ThreadPoolExecutor(max_workers=2) as pool:
        every = pool.submit(_changes, paths, [*log, "--topo-order", "--cc"])
        branch = pool.submit(
            _changes, paths, [*log, "--first-parent", "--diff-merges=first-parent"]
        )
        entered = _entered_by(paths.top)
        produced: dict[str, list[Commit]] = {}
        for commit, changes in every.result():
            for file, blob in changes:
                if current.get(file) == blob:
                    produced.setdefault(file, []).append(commit)
        arrivals: dict[str, Commit] = {}
        for commit, changes in branch.result():
            for file, _blob in changes:
                arrivals.setdefault(file, commit)  # newest first: the last change on the branch
    writers = {}
    for file, commits in produced.items():
        arrival = arrivals.get(file)
        if arrival is None:  # not reached by the first-parent log (a shallow clone's edge)
            writers[file] = commits[0]
            continue
        brought = [c for c in commits if entered.get(c.sha) == arrival.sha]
        writers[file] = brought[0] if brought else arrival
    for file, arrival in arrivals.items():
        if file in current and file not in writers:
            writers[file] = arrival
    return writers


def _current_blobs(paths: Paths) -> dict[str, str]:
    current = {}
    for line in git(paths.top, "ls-tree", "-r", "HEAD", "--", *paths.pathspecs()).splitlines():
        meta, _, name = line.partition("\t")
        file = paths.registry_file(name)
        if file is not None:
            current[file] = meta.split()[2]
    return current


def _log_args(signers: Path | None) -> list[str]:
    config = ["-c", f"gpg.ssh.allowedSignersFile={signers}"] if signers else []
    fields = FIELDS if signers else tuple(f if f not in ("%G?", "%GS") else "-" for f in FIELDS)
    return [*config, "log", "--format=%x1e" + "%x1f".join(fields)]


def _changes(paths: Paths, args: list[str]) -> list[tuple[Commit, list[tuple[str, str]]]]:
    """Each commit the log shows, with (registry file, blob it wrote) for each change line."""
    output = git(paths.top, *args, "--raw", "--no-abbrev", "--no-renames", "--", *paths.pathspecs())
    found = []
    for header, lines in records(output):
        changes = []
        for line in lines:
            meta, _, name = line.partition("\t")
            file = paths.registry_file(name)
            if meta.startswith(":") and file is not None:
                changes.append((file, meta.split()[-2]))
        found.append((commit_of(header), changes))
    return found


def _entered_by(top: Path) -> dict[str, str]:
    """commit -> the commit of HEAD's first-parent chain that brought it into the branch (a
    merge brings in every commit reachable from it and not from its first parent)."""
    parents = {}
    for line in git(top, "rev-list", "--parents", "HEAD").splitlines():
        sha, *rest = line.split()
        parents[sha] = rest
    chain = git(top, "rev-list", "--first-parent", "HEAD").split()
    entered: dict[str, str] = {}
    for arrival in reversed(chain):  # oldest first: earlier arrivals claim their commits
        stack = [arrival]
        while stack:
            sha = stack.pop()
            if sha in entered:
                continue
            entered[sha] = arrival
            stack.extend(p for p in parents.get(sha, ()) if p not in entered)
    return entered


def records(output: str) -> list[tuple[str, list[str]]]:
    found = []
    for record in output.split("\x1e")[1:]:
        header, _, names = record.partition("\n")
        found.append((header, [n for n in names.splitlines() if n.strip()]))
    return found


def commit_of(header: str) -> Commit:
    sha, ae, an, ce, cn, signature, signer, at = header.split("\x1f")
    return Commit(sha, ae, an, ce, cn, signature, signer, datetime.fromtimestamp(int(at), UTC))


def git(cwd: Path, *args: str) -> str:
    try:
        return subprocess.run(
            ["git", "-c", "log.showSignature=false", *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            check=True,
            timeout=300,
        ).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        detail = getattr(exc, "stderr", "") or str(exc)
        raise ProvenanceUnavailable(f"git {' '.join(args[:2])} failed: {detail.strip()}") from exc
