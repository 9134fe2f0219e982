"""A registry as loaded: its validated documents, where each came from (file and path inside
it), and the input errors found while reading. loader.py fills it in."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cctv_policy.registry import yaml_source
from cctv_policy.registry.folders import CORE_FILES
from cctv_policy.registry.models import (
    Camera,
    Config,
    Decision,
    Feedback,
    Hold,
    Maintenance,
    Person,
    Report,
    Request,
    StorageTarget,
    ViolationRecord,
    Waiver,
)
from cctv_policy.violations import Violation

FieldPath = tuple[str | int, ...]


class RegistryNotFound(Exception):
    """The registry directory (or its config.yaml) does not exist."""


@dataclass(frozen=True)
class Source:
    """Where a document lives: its file (relative to the registry) and its path inside it."""

    file: str
    path: FieldPath = ()


@dataclass
class LoadedRegistry:
    root: Path
    config: Config | None = None
    people: dict[str, Person] = field(default_factory=dict)
    cameras: dict[str, Camera] = field(default_factory=dict)
    targets: dict[str, StorageTarget] = field(default_factory=dict)
    requests: dict[str, Request] = field(default_factory=dict)
    decisions: dict[str, Decision] = field(default_factory=dict)
    reports: dict[str, Report] = field(default_factory=dict)
    holds: dict[str, Hold] = field(default_factory=dict)
    maintenance: dict[str, Maintenance] = field(default_factory=dict)
    violation_register: dict[str, ViolationRecord] = field(default_factory=dict)
    feedback: dict[str, Feedback] = field(default_factory=dict)
    waivers: dict[str, Waiver] = field(default_factory=dict)
    # request id -> {file name -> SHA-256} of the attachment store (attachments/<id>/).
    attachment_files: dict[str, dict[str, str]] = field(default_factory=dict)
    # request id -> SHA-256 of its canonical JSON (what a decision's request_sha256 pins).
    request_sha256: dict[str, str] = field(default_factory=dict)
    # (kind, id) -> Source, for turning a policy's subject into file:line.
    sources: dict[tuple[str, str], Source] = field(default_factory=dict)
    # kind -> ids of per-document files that exist but could not be read (so the policies do
    # not also report them as unknown references).
    unreadable: dict[str, set[str]] = field(default_factory=dict)
    # kind -> id -> what could be read of an unreadable document (its invalid fields left out,
    # and the field paths that were): `check` evaluates it too, so its other problems show now.
    partial: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    partial_fields: dict[tuple[str, str], list[FieldPath]] = field(default_factory=dict)
    # Core files that could not be read at all (missing, not YAML, no list of entries); a core
    # list file with some bad entries is read without them (their ids are in `unreadable`).
    unread_core: set[str] = field(default_factory=set)
    issues: list[Violation] = field(default_factory=list)
    _texts: dict[str, str] = field(default_factory=dict, repr=False)
    _trees: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def camera_targets(self) -> dict[str, str]:
        """camera id -> the storage target that holds its footage."""
        return {camera.id: camera.storage for camera in self.cameras.values()}

    @property
    def core_readable(self) -> bool:
        """True when config, people, cameras and storage all loaded: policies can run."""
        return self.config is not None and not any(
            i.file in CORE_FILES and i.code in ("E_YAML", "E_SCHEMA") for i in self.issues
        )

    @property
    def rule_book_can_run(self) -> bool:
        """True when `check` can evaluate the rule book: config.yaml loaded and people, cameras
        and storage were read, perhaps without some bad entries. Enforcement still requires
        core_readable."""
        return self.config is not None and not self.unread_core

    def text(self, file: str) -> str:
        if file not in self._texts:
            self._texts[file] = (self.root / file).read_text(encoding="utf-8")
        return self._texts[file]

    def position(self, source: Source, field_path: Sequence[str | int] = ()) -> tuple[int, int]:
        """1-based (line, column) of a field; each file is parsed for positions at most once."""
        if source.file not in self._trees:
            self._trees[source.file] = yaml_source.position_tree(self.text(source.file))
        return yaml_source.locate_in(self._trees[source.file], (*source.path, *field_path))

    def value_at(self, source: Source, field_path: Sequence[str | int] = ()) -> str | None:
        """The text written at a field when it is a single value (not a list or mapping)."""
        if source.file not in self._trees:
            self._trees[source.file] = yaml_source.position_tree(self.text(source.file))
        return yaml_source.scalar_at(self._trees[source.file], (*source.path, *field_path))
