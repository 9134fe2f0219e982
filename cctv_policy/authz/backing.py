"""Which served approvals the files on disk still back, while the registry cannot be reloaded.

Reload takes only a registry with no input errors; until then the last good snapshot answers.
That must not keep alive an approval the security office has since revoked: a rejection written
over it, its decision removed, its request edited (or either file made unreadable) while some
unrelated file is broken. So a snapshot remembers, for each approval it can allow, the bytes of
every file that could hold that request or its decision (SHA-256, or absent), read before the
registry was loaded; when a reload is refused, an approval whose files differ now is withdrawn
from the snapshot at once. New approvals still wait for a clean registry: only less is allowed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from pathlib import Path

# relative path -> SHA-256 of its bytes (None: absent; UNREADABLE: there but not readable)
FileDigests = Mapping[str, str | None]
UNREADABLE = "unreadable"
BACKING_FOLDERS = ("requests", "decisions")
SUFFIXES = ("yaml", "yml")  # the loader reads both: a second file with one id counts too


def backing_paths(request_id: str) -> tuple[str, ...]:
    return tuple(
        f"{folder}/{request_id}.{suffix}" for folder in BACKING_FOLDERS for suffix in SUFFIXES
    )


def digest_of(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except FileNotFoundError:
        return None
    except OSError:  # a folder, no permission, a dangling link, ...
        return UNREADABLE


def backing(read: FileDigests, approvals: Iterable[str]) -> dict[str, dict[str, str | None]]:
    """approval -> the digests (as read before loading) of the files that back it."""
    return {
        request_id: {path: read.get(path) for path in backing_paths(request_id)}
        for request_id in approvals
    }


def withdrawn(registry_dir: Path, backed: Mapping[str, Mapping[str, str | None]]) -> frozenset[str]:
    """The approvals whose files on disk are no longer the ones the snapshot was built from."""
    return frozenset(
        request_id
        for request_id, files in backed.items()
        if any(digest_of(registry_dir / path) != digest for path, digest in files.items())
    )
