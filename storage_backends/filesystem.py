"""A NAS-style directory tree: <root>/<key>, keys from the target's layout.

Every path is derived from a key that matches the layout, resolved, and checked to be inside
the root with no symbolic link on the way: nothing outside the root is ever read or removed.
Holds and grants live beside the footage under <root>/.cctv-policy/ (not a camera id, so never
listed as footage).
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterable, Iterator
from typing import BinaryIO
from datetime import date
from pathlib import Path

from storage_backends.base import DeleteResult, GrantSpec, Segment, UnparsableKey
from storage_backends.layout import Layout

STATE_DIR = ".cctv-policy"


class UnsafePath(Exception):
    """A key that would reach outside the root or through a symbolic link."""


class FilesystemBackend:
    def __init__(self, target_id: str, root: Path | str, layout: Layout) -> None:
        self.target_id = target_id
        self.root = Path(root).resolve()
        self.layout = layout
        self._holds = self.root / STATE_DIR / "holds"
        self._grants = self.root / STATE_DIR / "grants"

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
        """Read one segment (through the same path checks as every other access)."""
        return open(self.path_of(key), "rb")  # noqa: SIM115 - the caller closes it

    # -- deleting ---------------------------------------------------------------------------

    def delete(self, keys: Iterable[str]) -> DeleteResult:
        """Unlink each key through directory descriptors opened with O_NOFOLLOW from the root:
        a symbolic link anywhere on the way fails the open, so nothing outside the root can be
        reached, even if the tree changes while we work."""
        result = DeleteResult()
        held = set().union(*self.held_keys().values()) if self._holds.exists() else set()
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

    # -- holds ------------------------------------------------------------------------------

    def set_hold(self, hold_id: str, keys: Iterable[str]) -> None:
        current = self.held_keys().get(hold_id, set())
        _write_json_atomic(self._holds / f"{_safe_id(hold_id)}.json",
                           {"hold": hold_id, "keys": sorted(current | set(keys))})

    def clear_hold(self, hold_id: str) -> None:
        (self._holds / f"{_safe_id(hold_id)}.json").unlink(missing_ok=True)

    def held_keys(self) -> dict[str, set[str]]:
        if not self._holds.is_dir():
            return {}
        return {document["hold"]: set(document["keys"])
                for document in (json.loads(p.read_text()) for p in sorted(self._holds.glob("*.json")))}

    # -- grants -----------------------------------------------------------------------------

    def create_grant(self, grant: GrantSpec) -> None:
        """A read-only export: hard links (copies across file systems) plus a manifest."""
        final = self._grants / _safe_id(grant.grant_id)
        if final.exists():
            return
        staging = self._grants / f".{_safe_id(grant.grant_id)}.tmp"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        files = []
        for key in grant.keys:
            source = self.path_of(key)
            if not source.exists():
                continue
            target = staging / key
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(source, target)
            except OSError:
                shutil.copy2(source, target)
            files.append({"key": key, "size": target.stat().st_size})
        _write_json_atomic(staging / "MANIFEST.json", {
            "grant": grant.grant_id, "request": grant.request, "recipient": grant.recipient,
            "starts": grant.starts.isoformat(), "ends": grant.ends.isoformat(), "files": files,
        })
        for dirpath, dirnames, filenames in os.walk(staging):
            for name in filenames:
                os.chmod(Path(dirpath) / name, 0o444)
        os.replace(staging, final)
        for dirpath, dirnames, _ in os.walk(final):
            for name in dirnames:
                os.chmod(Path(dirpath) / name, 0o555)
        os.chmod(final, 0o555)

    def revoke_grant(self, grant_id: str) -> None:
        final = self._grants / _safe_id(grant_id)
        if not final.exists():
            return
        for dirpath, dirnames, _ in os.walk(final):
            os.chmod(dirpath, 0o755)
        shutil.rmtree(final)

    def grants(self) -> set[str]:
        if not self._grants.is_dir():
            return set()
        return {p.name for p in self._grants.iterdir() if p.is_dir() and not p.name.startswith(".")}

    def grant_manifest(self, grant_id: str) -> dict | None:
        path = self._grants / _safe_id(grant_id) / "MANIFEST.json"
        return json.loads(path.read_text()) if path.exists() else None


class _DirectoryWalker:
    """Directory descriptors below a root, each opened with O_NOFOLLOW from its parent."""

    _FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW

    def __init__(self, root: Path) -> None:
        self.root_fd = os.open(root, self._FLAGS)
        self.fds: dict[str, int] = {"": self.root_fd}

    @property
    def opened(self) -> list[str]:
        return [d for d in self.fds if d]

    def open(self, directory: str) -> int:
        if directory in self.fds:
            return self.fds[directory]
        parent, _, name = directory.rpartition("/")
        if name in ("", ".", ".."):
            raise FileNotFoundError(directory)
        fd = os.open(name, self._FLAGS, dir_fd=self.open(parent))
        self.fds[directory] = fd
        return fd

    def __enter__(self) -> _DirectoryWalker:
        return self

    def __exit__(self, *exc: object) -> None:
        for fd in self.fds.values():
            os.close(fd)


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


def _write_json_atomic(path: Path, document: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(document, handle, indent=1)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
