"""The tool's state folder beside the footage, <root>/.cctv-policy/: hold manifests (holds/)
and read-only grant exports (grants/). Reached through directory descriptors opened with
O_NOFOLLOW like the footage; symbolic links and strangers inside it are reported (as
StateProblems, some of which block deletions) and skipped, never followed."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path

from storage_backends.base import GrantSpec, StateProblem
from storage_backends.fdtree import (
    DIR_FLAGS,
    DirectoryWalker,
    chmod_at,
    copy_at,
    exists_at,
    open_state_dir,
    read_json_at,
    remove_tree_at,
    seal_tree_at,
    write_json_at,
)
from storage_backends.layout import Layout

STATE_DIR = ".cctv-policy"


class UnsafePath(Exception):
    """A key that would reach outside the root or through a symbolic link."""


class StateFolder:
    def __init__(self, root: Path, layout: Layout, problems: list[StateProblem]) -> None:
        self.root = root
        self.layout = layout
        self.problems = problems  # the backend's list: what the plan reports

    def open(self, folder: str, create: bool) -> int | None:
        """A descriptor of <root>/.cctv-policy/<folder>, or None if it does not exist."""
        root_fd = os.open(self.root, DIR_FLAGS)
        try:
            state = open_state_dir(root_fd, STATE_DIR, create, f"{self.root}/{STATE_DIR}")
            if state is None:
                return None
            try:
                return open_state_dir(state, folder, create, f"{self.root}/{STATE_DIR}/{folder}")
            finally:
                os.close(state)
        finally:
            os.close(root_fd)

    def entries(self, fd: int, where: str, want_dirs: bool) -> list[str]:
        """Names of the entries of a state folder that are what it keeps (manifest files, or
        export folders); anything else (symlinks included) is reported and skipped."""
        names = []
        with os.scandir(fd) as scan:
            for entry in scan:
                if entry.name.startswith(".") and entry.name.endswith(".tmp"):
                    continue  # our own unfinished write, redone on the next run
                is_dir = entry.is_dir(follow_symlinks=False)
                if entry.is_symlink():
                    why = "a symbolic link in the state folder: skipped, never followed"
                elif is_dir != want_dirs or not (is_dir or entry.is_file(follow_symlinks=False)):
                    why = "not what this folder keeps: skipped"
                else:
                    names.append(entry.name)
                    continue
                self.problems.append(
                    StateProblem(
                        f"{STATE_DIR}/{where}/{entry.name}", why, blocks_deletes=where == "holds"
                    )
                )
        return sorted(names)

    def check(self) -> None:
        """Report entries of the state folder that are neither holds/ nor grants/."""
        root_fd = os.open(self.root, DIR_FLAGS)
        try:
            state = open_state_dir(root_fd, STATE_DIR, False, f"{self.root}/{STATE_DIR}")
        finally:
            os.close(root_fd)
        if state is None:
            return
        try:
            with os.scandir(state) as scan:
                for entry in scan:
                    if entry.name not in ("holds", "grants"):
                        self.problems.append(
                            StateProblem(
                                f"{STATE_DIR}/{entry.name}", "not part of the state folder: skipped"
                            )
                        )
        finally:
            os.close(state)

    # -- holds ------------------------------------------------------------------------------

    def set_hold(self, hold_id: str, keys: Iterable[str]) -> None:
        current = self.held_keys().get(hold_id, set())
        fd = self.open("holds", create=True)
        assert fd is not None
        try:
            write_json_at(
                fd,
                f"{_safe_name(hold_id)}.json",
                {"hold": hold_id, "keys": sorted(current | set(keys))},
            )
        finally:
            os.close(fd)

    def clear_hold(self, hold_id: str) -> None:
        fd = self.open("holds", create=False)
        if fd is None:
            return
        try:
            os.unlink(f"{_safe_name(hold_id)}.json", dir_fd=fd)
        except FileNotFoundError:
            pass
        finally:
            os.close(fd)

    def held_keys(self) -> dict[str, set[str]]:
        fd = self.open("holds", create=False)
        if fd is None:
            return {}
        held: dict[str, set[str]] = {}
        try:
            for name in self.entries(fd, "holds", want_dirs=False):
                document = read_json_at(fd, name) if name.endswith(".json") else None
                hold_id = document.get("hold") if isinstance(document, dict) else None
                keys = document.get("keys") if isinstance(document, dict) else None
                if not (
                    isinstance(hold_id, str)
                    and f"{_safe_name(hold_id)}.json" == name
                    and isinstance(keys, list)
                    and all(isinstance(k, str) for k in keys)
                ):
                    self.problems.append(
                        StateProblem(
                            f"{STATE_DIR}/holds/{name}",
                            "not a hold manifest written by us: what "
                            "it held cannot be known, so nothing is deleted on this target until "
                            "an admin looks at it",
                            blocks_deletes=True,
                        )
                    )
                    continue
                held.setdefault(hold_id, set()).update(keys)
        finally:
            os.close(fd)
        return held

    # -- grants -----------------------------------------------------------------------------

    def create_grant(self, grant: GrantSpec) -> None:
        """A read-only export: hard links (copies across file systems) plus a manifest."""
        name = _safe_id(grant.grant_id)
        grants_fd = self.open("grants", create=True)
        assert grants_fd is not None
        try:
            if exists_at(grants_fd, name):
                return
            staging = f".{name}.tmp"
            remove_tree_at(grants_fd, staging)
            os.mkdir(staging, 0o700, dir_fd=grants_fd)
            files = self._export(grant, grants_fd, staging)
            staging_fd = os.open(staging, DIR_FLAGS, dir_fd=grants_fd)
            try:
                write_json_at(
                    staging_fd,
                    "MANIFEST.json",
                    {
                        "grant": grant.grant_id,
                        "request": grant.request,
                        "recipient": grant.recipient,
                        "starts": grant.starts.isoformat(),
                        "ends": grant.ends.isoformat(),
                        "files": files,
                    },
                )
                chmod_at(staging_fd, "MANIFEST.json", 0o444)
            finally:
                os.close(staging_fd)
            seal_tree_at(grants_fd, staging)
            os.rename(staging, name, src_dir_fd=grants_fd, dst_dir_fd=grants_fd)
        finally:
            os.close(grants_fd)

    def _export(self, grant: GrantSpec, grants_fd: int, staging: str) -> list[dict[str, object]]:
        files = []
        with (
            DirectoryWalker(self.root) as source,
            DirectoryWalker.at(grants_fd, staging, create=True) as sink,
        ):
            for key in grant.keys:
                if self.layout.parse(key) is None:
                    continue
                directory, _, filename = key.rpartition("/")
                try:
                    src_dir = source.open(directory)
                    info = os.stat(filename, dir_fd=src_dir, follow_symlinks=False)
                except FileNotFoundError:
                    continue  # deleted since it was planned
                except OSError as exc:  # a symlink swapped in on the way
                    self.problems.append(StateProblem(key, f"not exported: {exc.strerror}"))
                    continue
                if not stat.S_ISREG(info.st_mode):
                    self.problems.append(StateProblem(key, "not exported: not a regular file"))
                    continue
                dst_dir = sink.open(directory)
                try:
                    os.link(
                        filename,
                        filename,
                        src_dir_fd=src_dir,
                        dst_dir_fd=dst_dir,
                        follow_symlinks=False,
                    )
                except OSError:
                    copy_at(src_dir, dst_dir, filename)
                chmod_at(dst_dir, filename, 0o444)
                files.append({"key": key, "size": info.st_size})
        return files

    def revoke_grant(self, grant_id: str) -> None:
        grants_fd = self.open("grants", create=False)
        if grants_fd is None:
            return
        try:
            remove_tree_at(grants_fd, _safe_id(grant_id))
        finally:
            os.close(grants_fd)

    def grants(self) -> set[str]:
        fd = self.open("grants", create=False)
        if fd is None:
            return set()
        try:
            return set(self.entries(fd, "grants", want_dirs=True))
        finally:
            os.close(fd)


def _safe_id(value: str) -> str:
    if not value or "/" in value or value.startswith(".") or "\0" in value:
        raise UnsafePath(f"{value!r} is not a safe id")
    return value


def _safe_name(value: str) -> str:
    """A hold id as a file name, or a name no manifest can have (so a forged id never
    matches, and never raises)."""
    try:
        return _safe_id(value)
    except UnsafePath:
        return "/"
