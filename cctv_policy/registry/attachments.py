"""The attachment store: attachments/<REQ-ID>/<name>, the proof a request names by
`{name, sha256}` (R4). Read here into digests; whether they match is the rule book's call
(data.cctv.attachments: REQUEST_ATTACHMENT_MISSING / _MISMATCH)."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable
from pathlib import Path

from cctv_policy.registry.types import DOCUMENT_ID

STORE = "attachments"
_REQUEST_FOLDER = re.compile(f"^{DOCUMENT_ID}$")

# (entry relative to the registry, the message key of why it is not read)
Problem = Callable[[str, str], None]


def read_store(root: Path, not_read: Problem) -> dict[str, dict[str, str]]:
    """request id -> {file name -> SHA-256 hex} of every file under attachments/<id>/.
    Anything else in the store (loose files, nested folders, links) is reported, not read."""
    store = root / STORE
    digests: dict[str, dict[str, str]] = {}
    if not store.is_dir() or store.is_symlink():
        return digests
    for folder in sorted(os.scandir(store), key=lambda e: e.name):
        where = f"{STORE}/{folder.name}"
        if not folder.is_dir(follow_symlinks=False) or not _REQUEST_FOLDER.match(folder.name):
            not_read(where, "attachments_not_a_request_folder")
            continue
        digests[folder.name] = _digests(Path(folder.path), where, not_read)
    return digests


def _digests(folder: Path, where: str, not_read: Problem) -> dict[str, str]:
    found = {}
    for entry in sorted(os.scandir(folder), key=lambda e: e.name):
        if not entry.is_file(follow_symlinks=False):
            not_read(f"{where}/{entry.name}", "attachments_not_a_plain_file")
            continue
        with open(entry.path, "rb") as stream:
            found[entry.name] = hashlib.file_digest(stream, "sha256").hexdigest()
    return found
