"""Files and folders reached only through directory descriptors, one level at a time with
O_NOFOLLOW: a symbolic link anywhere on the way (planted before or during a run) makes the
operation fail instead of leaving the folder it started from. Used for footage, the state
folder's holds and grants, and extraction packages."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import stat
from pathlib import Path

DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


class UnsafeState(Exception):
    """A folder is a symbolic link, or others may write it: nothing is done there."""


class DirectoryWalker:
    """Directory descriptors below a base, each opened with O_NOFOLLOW from its parent."""

    def __init__(
        self, root: Path | None = None, base_fd: int | None = None, create: bool = False
    ) -> None:
        if base_fd is None and root is None:
            raise ValueError("DirectoryWalker needs a root or a base descriptor")
        self.root_fd = base_fd if base_fd is not None else os.open(str(root), DIR_FLAGS)
        self.fds: dict[str, int] = {"": self.root_fd}
        self.create = create

    @classmethod
    def at(cls, parent_fd: int, name: str, create: bool = False) -> DirectoryWalker:
        return cls(base_fd=os.open(name, DIR_FLAGS, dir_fd=parent_fd), create=create)

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
            with contextlib.suppress(FileExistsError):
                os.mkdir(name, 0o700, dir_fd=parent_fd)
        fd = os.open(name, DIR_FLAGS, dir_fd=parent_fd)
        self.fds[directory] = fd
        return fd

    def __enter__(self) -> DirectoryWalker:
        return self

    def __exit__(self, *exc: object) -> None:
        for fd in self.fds.values():
            os.close(fd)


def open_state_dir(parent_fd: int, name: str, create: bool, where: str) -> int | None:
    """Open a state folder without following links; refuse one that others may write."""
    try:
        fd = os.open(name, DIR_FLAGS, dir_fd=parent_fd)
    except FileNotFoundError:
        if not create:
            return None
        os.mkdir(name, 0o750, dir_fd=parent_fd)
        fd = os.open(name, DIR_FLAGS, dir_fd=parent_fd)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR):
            raise UnsafeState(
                f"{where} is a symbolic link or not a folder; refusing to use it "
                "(remove it and rerun)"
            ) from exc
        raise
    info = os.fstat(fd)
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        os.close(fd)
        raise UnsafeState(
            f"{where} is writable by group or others (mode "
            f"{stat.filemode(info.st_mode)}); refusing to trust it: "
            f"chmod go-w {where}"
        )
    if info.st_uid != os.geteuid():
        os.close(fd)
        raise UnsafeState(
            f"{where} belongs to uid {info.st_uid}, not to the account running "
            f"the enforcer (uid {os.geteuid()}); someone else could have written "
            "its holds and grants: refusing to trust it (have an admin check it, "
            "then chown it)"
        )
    return fd


def exists_at(dir_fd: int, name: str) -> bool:
    try:
        os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        return True
    except FileNotFoundError:
        return False


def read_json_at(dir_fd: int, name: str) -> object:
    fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=dir_fd)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        return None
    with os.fdopen(fd, "rb") as handle:
        try:
            return json.loads(handle.read())
        except ValueError:
            return None


def write_json_at(dir_fd: int, name: str, document: object) -> None:
    tmp = f".{name}.tmp"
    with contextlib.suppress(FileNotFoundError):
        os.unlink(tmp, dir_fd=dir_fd)
    fd = os.open(
        tmp,
        os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
        0o640,
        dir_fd=dir_fd,
    )
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(document, handle, indent=1)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)


def chmod_at(dir_fd: int, name: str, mode: int) -> None:
    fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=dir_fd)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file")
        os.fchmod(fd, mode)
    finally:
        os.close(fd)


def copy_at(src_dir: int, dst_dir: int, name: str) -> None:
    source = os.open(
        name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=src_dir
    )
    try:
        sink = os.open(
            name,
            os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
            0o444,
            dir_fd=dst_dir,
        )
        try:
            while block := os.read(source, 1 << 20):
                os.write(sink, block)
        finally:
            os.close(sink)
    finally:
        os.close(source)


def seal_tree_at(parent_fd: int, name: str) -> None:
    """Make a finished export read-only: its folders 0555 (files are already 0444)."""
    fd = os.open(name, DIR_FLAGS, dir_fd=parent_fd)
    try:
        with os.scandir(fd) as scan:
            children = [e.name for e in scan if e.is_dir(follow_symlinks=False)]
        for child in children:
            seal_tree_at(fd, child)
        os.fchmod(fd, 0o555)
    finally:
        os.close(fd)


def remove_tree_at(parent_fd: int, name: str) -> None:
    """Remove a folder tree without ever following a link; a link itself is just unlinked."""
    try:
        fd = os.open(name, DIR_FLAGS, dir_fd=parent_fd)
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
                remove_tree_at(fd, child)
            else:
                os.unlink(child, dir_fd=fd)
    finally:
        os.close(fd)
    os.rmdir(name, dir_fd=parent_fd)
