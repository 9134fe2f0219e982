"""The registry's table of files and folders: the four core files, the folders of one
document per file, the entries that are not documents, and why an entry of a document folder
is not read."""

from __future__ import annotations

import os
import re
from pathlib import Path

from cctv_policy.registry.types import DOCUMENT_ID

CORE_FILES = ("config.yaml", "people.yaml", "cameras.yaml", "storage.yaml")
# folder -> the kind of document each of its files holds.
DOCUMENT_FOLDERS = {
    "requests": "request",
    "decisions": "decision",
    "reports": "report",
    "holds": "hold",
    "maintenance": "maintenance",
    "violations": "violation",
    "feedback": "feedback",
    "waivers": "waiver",
}
# Entries a registry may hold that are not documents: nothing else is silently skipped.
NOT_DOCUMENTS = frozenset(
    {".git", ".github", ".gitignore", ".gitattributes", "CODEOWNERS", "schemas"}
)
_DOCUMENT_SUFFIXES = (".yaml", ".yml")
_FILE_STEM = re.compile(f"^{DOCUMENT_ID}$")


def folder_entries(directory: Path) -> list[tuple[str, bool]]:
    """(name, is a real directory) of every entry, sorted by name."""
    with os.scandir(directory) as entries:
        return sorted((e.name, e.is_dir(follow_symlinks=False)) for e in entries)


def entry_problem(folder: str, name: str, is_dir: bool) -> str | None:
    """Why an entry of a document folder is not read (a messages.INPUT key), or None for
    <ID>.yaml / <ID>.yml."""
    if is_dir:
        return "subfolder"
    if name.startswith(".") or name.endswith("~"):
        return "backup_file"
    stem, dot, suffix = name.rpartition(".")
    if not dot or f".{suffix}" not in _DOCUMENT_SUFFIXES:
        return "wrong_suffix"
    if not _FILE_STEM.match(stem):
        return "bad_file_name"
    return None
