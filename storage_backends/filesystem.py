"""A NAS-style directory tree: <root>/<key>, keys from the target's layout.

Everything below the root is reached through directory descriptors opened one level at a time
with O_NOFOLLOW, so a symbolic link anywhere on the way (planted before or during a run) makes
the operation fail instead of leaving the root: footage, hold manifests and grant exports alike.
Holds and grants live beside the footage under <root>/.cctv-policy/ (not a camera id, so never
listed as footage); that folder must not be writable by group or others, and symbolic links
inside it are reported and skipped, never followed.
"""

from __future__ import annotations

import errno
import json
import os
import stat
from collections.abc import Iterable, Iterator
from datetime import date
from pathlib import Path
from typing import BinaryIO

from storage_backends.base import (
    DeleteResult,
    GrantSpec,
    Segment,
    StateProblem,
    TopEntry,
    UnparsableKey,
)
from storage_backends.layout import Layout

STATE_DIR = ".cctv-policy"
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


class UnsafePath(Exception):
    """A key that would reach outside the root or through a symbolic link."""


class UnsafeState(Exception):
    """The state folder is a symbolic link or writable by others: nothing is done."""


class FilesystemBackend:
    def __init__(self, target_id: str, root: Path | str, layout: Layout) -> None:
        self.target_id = target_id
        self.root = Path(root).resolve()
        self.layout = layout
        # Symbolic links and strangers found in the state folder, for the plan to report.
        self.state_problems: list[StateProblem] = []

    # -- paths ------------------------------------------------------------------------------

    def path_of(self, key: str) -> Path:
        """The file for a key, refusing anything that leaves the root or crosses a symlink."""
        if self.layout.parse(key) is None:
            raise UnsafePath(f"{key!r} does not match the layout {self.layout.pattern!r}")
        path = self.root / key
        current = self.root
        for part in Path(key).parts:
            if part in ("", ".", ".."):
                raise UnsafePath(f"{key!r} has a relative path part")
            current = current / part
            if current.is_symlink():
                raise UnsafePath(f"{key!r} crosses the symbolic link {current}")
        if os.path.commonpath([self.root, path.resolve()]) != str(self.root):
            raise UnsafePath(f"{key!r} resolves outside {self.root}")
        return path

    # -- listing ----------------------------------------------------------------------------

    def top_level(self) -> list[TopEntry]:
        entries = []
        with os.scandir(self.root) as scan:
            for entry in scan:
                if entry.name == STATE_DIR:
                    continue
                kind = "symlink" if entry.is_symlink() else \
                    "dir" if entry.is_dir(follow_symlinks=False) else "file"
                entries.append(TopEntry(entry.name, kind))
        return sorted(entries, key=lambda e: e.name)

    def list_days(self, camera: str) -> list[date] | None:
        probe = self.layout.day_prefix(camera, date(2000, 1, 1))
        if probe is None:
            return None  # no day level in this layout: list the camera whole
        base = self.root / camera
        if not base.is_dir() or base.is_symlink():
            return []
        depth = probe.count("/") - 1
        days = []
        for directory in _dirs_at_depth(base, depth):
            rel = directory.relative_to(self.root).as_posix() + "/"
            day = self.layout.parse_day_prefix(camera, rel)
            if day is not None:
                days.append(day)
        return sorted(days)

    def list_segments(self, camera: str, day: date | None = None
                      ) -> Iterator[Segment | UnparsableKey]:
        prefix = (self.layout.day_prefix(camera, day) if day else None) or f"{camera}/"
        base = self.root / prefix
        if not base.is_dir() or base.is_symlink():
            return
        yield from self._scan(str(base), prefix, camera)

    def _scan(self, directory: str, prefix: str, camera: str
              ) -> Iterator[Segment | UnparsableKey]:
        with os.scandir(directory) as entries:
            ordered = sorted(entries, key=lambda e: e.name)
        parse = self.layout.parse
        for entry in ordered:
            key = prefix + entry.name
            if entry.is_symlink():
                yield UnparsableKey(key, "symbolic link")
            elif entry.is_dir(follow_symlinks=False):
                yield from self._scan(entry.path, key + "/", camera)
            else:
                parsed = parse(key)
                if parsed is None or parsed[0] != camera:
                    yield UnparsableKey(key, "does not match the layout")
                else:
                    yield Segment(parsed[0], parsed[1], parsed[2], key)

    def open(self, key: str) -> BinaryIO:
        """Read one segment, reached through O_NOFOLLOW descriptors from the root."""
        if self.layout.parse(key) is None:
            raise UnsafePath(f"{key!r} does not match the layout {self.layout.pattern!r}")
        directory, _, name = key.rpartition("/")
        try:
            with _DirectoryWalker(self.root) as walker:
                fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC,
                             dir_fd=walker.open(directory))
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                raise UnsafePath(f"{key!r} crosses a symbolic link") from exc
            raise
        return os.fdopen(fd, "rb")

    # -- deleting ---------------------------------------------------------------------------

    def delete(self, keys: Iterable[str]) -> DeleteResult:
        """Unlink each key through directory descriptors opened with O_NOFOLLOW from the root:
        a symbolic link anywhere on the way fails the open, so nothing outside the root can be
        reached, even if the tree changes while we work."""
        result = DeleteResult()
        held = set().union(*self.held_keys().values())
        with _DirectoryWalker(self.root) as walker:
            for key in keys:
                if not self.layout.matches(key):
                    result.refused[key] = f"does not match the layout {self.layout.pattern!r}"
                    continue
                if key in held:
                    result.refused[key] = "under a hold on the storage"
                    continue
                directory, _, name = key.rpartition("/")
                try:
                    os.unlink(name, dir_fd=walker.open(directory))
                    result.deleted.append(key)
                except FileNotFoundError:
                    result.already_gone.append(key)
                except OSError as exc:  # ELOOP/ENOTDIR: a symlink on the way; EISDIR; EACCES
                    result.refused[key] = f"not deleted: {exc.strerror}"
                result.requests += 1
            touched = sorted(walker.opened, key=len, reverse=True)
        for directory in touched:
            _remove_empty_parents(self.root / directory, self.root)
        return result

    # -- the state folder -------------------------------------------------------------------

    def _state(self, folder: str, create: bool) -> int | None:
        """A descriptor of <root>/.cctv-policy/<folder>, or None if it does not exist."""
        root_fd = os.open(self.root, _DIR_FLAGS)
        try:
            state = _open_dir_at(root_fd, STATE_DIR, create, f"{self.root}/{STATE_DIR}")
            if state is None:
                return None
            try:
                return _open_dir_at(state, folder, create, f"{self.root}/{STATE_DIR}/{folder}")
            finally:
                os.close(state)
        finally:
            os.close(root_fd)

    def _state_entries(self, fd: int, where: str) -> list[str]:
        """Names of real files and folders in a state folder; symlinks are reported."""
        names = []
        with os.scandir(fd) as scan:
            for entry in scan:
                if entry.is_symlink():
                    self.state_problems.append(StateProblem(
                        f"{STATE_DIR}/{where}/{entry.name}",
                        "a symbolic link in the state folder: skipped, never followed"))
                else:
                    names.append(entry.name)
        return sorted(names)

    # -- holds ------------------------------------------------------------------------------

    def set_hold(self, hold_id: str, keys: Iterable[str]) -> None:
        current = self.held_keys().get(hold_id, set())
        fd = self._state("holds", create=True)
        assert fd is not None
        try:
            _write_json_at(fd, f"{_safe_id(hold_id)}.json",
                           {"hold": hold_id, "keys": sorted(current | set(keys))})
        finally:
            os.close(fd)

    def clear_hold(self, hold_id: str) -> None:
        fd = self._state("holds", create=False)
        if fd is None:
            return
        try:
            os.unlink(f"{_safe_id(hold_id)}.json", dir_fd=fd)
        except FileNotFoundError:
            pass
        finally:
            os.close(fd)

    def held_keys(self) -> dict[str, set[str]]:
        fd = self._state("holds", create=False)
        if fd is None:
            return {}
        held: dict[str, set[str]] = {}
        try:
            for name in self._state_entries(fd, "holds"):
                if not name.endswith(".json") or name.startswith("."):
                    continue
                document = _read_json_at(fd, name)
                if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
                    self.state_problems.append(StateProblem(
                        f"{STATE_DIR}/holds/{name}", "not a hold manifest: its keys count as "
                        "held until an admin looks at it"))
                    held.setdefault(name, set())
                    continue
                held.setdefault(str(document.get("hold", name)), set()).update(
                    str(k) for k in document["keys"])
        finally:
            os.close(fd)
        return held

    # -- grants -----------------------------------------------------------------------------

    def create_grant(self, grant: GrantSpec) -> None:
        """A read-only export: hard links (copies across file systems) plus a manifest."""
        name = _safe_id(grant.grant_id)
        grants_fd = self._state("grants", create=True)
        assert grants_fd is not None
        try:
            if _exists_at(grants_fd, name):
                return
            staging = f".{name}.tmp"
            _remove_tree_at(grants_fd, staging)
            os.mkdir(staging, 0o700, dir_fd=grants_fd)
            files = self._export(grant, grants_fd, staging)
            staging_fd = os.open(staging, _DIR_FLAGS, dir_fd=grants_fd)
            try:
                _write_json_at(staging_fd, "MANIFEST.json", {
                    "grant": grant.grant_id, "request": grant.request,
                    "recipient": grant.recipient, "starts": grant.starts.isoformat(),
                    "ends": grant.ends.isoformat(), "files": files})
                _chmod_at(staging_fd, "MANIFEST.json", 0o444)
            finally:
                os.close(staging_fd)
            _seal_tree_at(grants_fd, staging)
            os.rename(staging, name, src_dir_fd=grants_fd, dst_dir_fd=grants_fd)
        finally:
            os.close(grants_fd)

    def _export(self, grant: GrantSpec, grants_fd: int, staging: str) -> list[dict[str, object]]:
        files = []
        with _DirectoryWalker(self.root) as source, _DirectoryWalker.at(grants_fd, staging,
                                                                           create=True) as sink:
            for key in grant.keys:
                if self.layout.parse(key) is None:
                    continue
                directory, _, filename = key.rpartition("/")
                try:
                    src_dir = source.open(directory)
                    size = os.stat(filename, dir_fd=src_dir, follow_symlinks=False).st_size
                except FileNotFoundError:
                    continue  # deleted since it was planned
                dst_dir = sink.open(directory)
                try:
                    os.link(filename, filename, src_dir_fd=src_dir, dst_dir_fd=dst_dir,
                            follow_symlinks=False)
                except OSError:
                    _copy_at(src_dir, dst_dir, filename)
                _chmod_at(dst_dir, filename, 0o444)
                files.append({"key": key, "size": size})
        return files

    def revoke_grant(self, grant_id: str) -> None:
        grants_fd = self._state("grants", create=False)
        if grants_fd is None:
            return
        try:
            _remove_tree_at(grants_fd, _safe_id(grant_id))
        finally:
            os.close(grants_fd)

    def grants(self) -> set[str]:
        fd = self._state("grants", create=False)
        if fd is None:
            return set()
        try:
            return {name for name in self._state_entries(fd, "grants")
                    if not name.startswith(".")
                    and stat.S_ISDIR(os.stat(name, dir_fd=fd, follow_symlinks=False).st_mode)}
        finally:
            os.close(fd)

    def grant_manifest(self, grant_id: str) -> dict | None:
        fd = self._state("grants", create=False)
        if fd is None:
            return None
        try:
            grant_fd = os.open(_safe_id(grant_id), _DIR_FLAGS, dir_fd=fd)
        except FileNotFoundError:
            return None
        finally:
            os.close(fd)
        try:
            document = _read_json_at(grant_fd, "MANIFEST.json")
            return document if isinstance(document, dict) else None
        finally:
            os.close(grant_fd)


class _DirectoryWalker:
    """Directory descriptors below a base, each opened with O_NOFOLLOW from its parent."""

    def __init__(self, root: Path | None = None, base_fd: int | None = None,
                 create: bool = False) -> None:
        self.root_fd = base_fd if base_fd is not None else os.open(root, _DIR_FLAGS)
        self.fds: dict[str, int] = {"": self.root_fd}
        self.create = create

    @classmethod
    def at(cls, parent_fd: int, name: str, create: bool = False) -> _DirectoryWalker:
        return cls(base_fd=os.open(name, _DIR_FLAGS, dir_fd=parent_fd), create=create)

    @property
    def opened(self) -> list[str]:
        return [d for d in self.fds if d]

    def open(self, directory: str) -> int:
        if directory in self.fds:
            return self.fds[directory]
        parent, _, name = directory.rpartition("/")
        if name in ("", ".", ".."):
            raise FileNotFoundError(directory)
        parent_fd = self.open(parent)
        if self.create:
            try:
                os.mkdir(name, 0o700, dir_fd=parent_fd)
            except FileExistsError:
                pass
        fd = os.open(name, _DIR_FLAGS, dir_fd=parent_fd)
        self.fds[directory] = fd
        return fd

    def __enter__(self) -> _DirectoryWalker:
        return self

    def __exit__(self, *exc: object) -> None:
        for fd in self.fds.values():
            os.close(fd)


def _open_dir_at(parent_fd: int, name: str, create: bool, where: str) -> int | None:
    """Open a state folder without following links; refuse one that others may write."""
    try:
        fd = os.open(name, _DIR_FLAGS, dir_fd=parent_fd)
    except FileNotFoundError:
        if not create:
            return None
        os.mkdir(name, 0o750, dir_fd=parent_fd)
        fd = os.open(name, _DIR_FLAGS, dir_fd=parent_fd)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR):
            raise UnsafeState(f"{where} is a symbolic link or not a folder; refusing to use it "
                              "(remove it and rerun)") from exc
        raise
    mode = os.fstat(fd).st_mode
    if mode & (stat.S_IWGRP | stat.S_IWOTH):
        os.close(fd)
        raise UnsafeState(f"{where} is writable by group or others (mode {stat.filemode(mode)}); "
                          f"refusing to trust it: chmod go-w {where}")
    return fd


def _exists_at(dir_fd: int, name: str) -> bool:
    try:
        os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        return True
    except FileNotFoundError:
        return False


def _read_json_at(dir_fd: int, name: str) -> object:
    fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dir_fd)
    with os.fdopen(fd, "rb") as handle:
        try:
            return json.loads(handle.read())
        except ValueError:
            return None


def _write_json_at(dir_fd: int, name: str, document: object) -> None:
    tmp = f".{name}.tmp"
    try:
        os.unlink(tmp, dir_fd=dir_fd)
    except FileNotFoundError:
        pass
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                 0o640, dir_fd=dir_fd)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(document, handle, indent=1)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)


def _chmod_at(dir_fd: int, name: str, mode: int) -> None:
    fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dir_fd)
    try:
        os.fchmod(fd, mode)
    finally:
        os.close(fd)


def _copy_at(src_dir: int, dst_dir: int, name: str) -> None:
    source = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=src_dir)
    try:
        sink = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                       0o444, dir_fd=dst_dir)
        try:
            while block := os.read(source, 1 << 20):
                os.write(sink, block)
        finally:
            os.close(sink)
    finally:
        os.close(source)


def _seal_tree_at(parent_fd: int, name: str) -> None:
    """Make a finished export read-only: its folders 0555 (files are already 0444)."""
    fd = os.open(name, _DIR_FLAGS, dir_fd=parent_fd)
    try:
        with os.scandir(fd) as scan:
            children = [e.name for e in scan if e.is_dir(follow_symlinks=False)]
        for child in children:
            _seal_tree_at(fd, child)
        os.fchmod(fd, 0o555)
    finally:
        os.close(fd)


def _remove_tree_at(parent_fd: int, name: str) -> None:
    """Remove a folder tree without ever following a link; a link itself is just unlinked."""
    try:
        fd = os.open(name, _DIR_FLAGS, dir_fd=parent_fd)
    except FileNotFoundError:
        return
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR):
            os.unlink(name, dir_fd=parent_fd)
            return
        raise
    try:
        os.fchmod(fd, 0o700)
        with os.scandir(fd) as scan:
            entries = [(e.name, e.is_dir(follow_symlinks=False)) for e in scan]
        for child, is_dir in entries:
            if is_dir:
                _remove_tree_at(fd, child)
            else:
                os.unlink(child, dir_fd=fd)
    finally:
        os.close(fd)
    os.rmdir(name, dir_fd=parent_fd)


def _safe_id(value: str) -> str:
    if not value or "/" in value or value.startswith(".") or "\0" in value:
        raise UnsafePath(f"{value!r} is not a safe id")
    return value


def _dirs_at_depth(base: Path, depth: int) -> Iterator[Path]:
    if depth <= 0:
        yield base
        return
    try:
        children = sorted(p for p in base.iterdir() if p.is_dir() and not p.is_symlink())
    except OSError:
        return
    for child in children:
        yield from _dirs_at_depth(child, depth - 1)


def _remove_empty_parents(directory: Path, root: Path) -> None:
    while directory != root and root in directory.parents:
        try:
            directory.rmdir()
        except OSError:
            return
        directory = directory.parent
