"""Load a registry directory into validated models, collecting input errors with positions.

Nothing here raises for bad content: every problem becomes a Violation (E_YAML, E_SCHEMA,
E_DUPLICATE_ID) with file:line, and the document is left out. Only a missing registry directory
is an exception (RegistryNotFound), because then the tool cannot run at all.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from cctv_policy.registry import yaml_source
from cctv_policy.registry.models import (
    Camera,
    CamerasFile,
    Config,
    Decision,
    Hold,
    PeopleFile,
    Person,
    Report,
    Request,
    StorageFile,
    StorageTarget,
)
from cctv_policy.violations import Severity, Violation

Model = TypeVar("Model", bound=BaseModel)
FieldPath = tuple[str | int, ...]

_FILE_STEM = re.compile(r"^[A-Z0-9][A-Z0-9-]{0,63}$")


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
    # (kind, id) -> Source, for turning a policy's subject into file:line.
    sources: dict[tuple[str, str], Source] = field(default_factory=dict)
    # kind -> ids of per-document files that exist but could not be read (so the policies do
    # not also report them as unknown references).
    unreadable: dict[str, set[str]] = field(default_factory=dict)
    issues: list[Violation] = field(default_factory=list)
    _texts: dict[str, str] = field(default_factory=dict, repr=False)
    _trees: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def core_readable(self) -> bool:
        """True when config, people, cameras and storage all loaded: policies can run."""
        return self.config is not None and not any(
            i.file in _CORE_FILES and i.code in ("E_YAML", "E_SCHEMA") for i in self.issues
        )

    def text(self, file: str) -> str:
        if file not in self._texts:
            self._texts[file] = (self.root / file).read_text(encoding="utf-8")
        return self._texts[file]

    def position(self, source: Source, field_path: Sequence[str | int] = ()) -> tuple[int, int]:
        """1-based (line, column) of a field; each file is parsed for positions at most once."""
        if source.file not in self._trees:
            self._trees[source.file] = yaml_source.position_tree(self.text(source.file))
        return yaml_source.locate_in(self._trees[source.file], (*source.path, *field_path))


_CORE_FILES = ("config.yaml", "people.yaml", "cameras.yaml", "storage.yaml")


def load_registry(root: Path | str) -> LoadedRegistry:
    root = Path(root)
    if not (root / "config.yaml").is_file():
        raise RegistryNotFound(
            f"{root} is not a registry: it has no config.yaml "
            "(pass --registry DIR, or run from a checkout that has ./registry)"
        )
    reg = LoadedRegistry(root=root)
    _Reader(reg).read_all()
    return reg


class _Reader:
    def __init__(self, reg: LoadedRegistry) -> None:
        self.reg = reg

    def read_all(self) -> None:
        reg = self.reg
        reg.config = self.read_single("config.yaml", Config)
        people = self.read_single("people.yaml", PeopleFile)
        cameras = self.read_single("cameras.yaml", CamerasFile)
        storage = self.read_single("storage.yaml", StorageFile)
        if people:
            self.index_list("people.yaml", "people", "person", people.people, reg.people)
        if cameras:
            self.index_list("cameras.yaml", "cameras", "camera", cameras.cameras, reg.cameras)
        if storage:
            self.index_list("storage.yaml", "targets", "target", storage.targets, reg.targets)
        self.read_folder("requests", "request", Request, lambda d: d.id, reg.requests)
        self.read_folder("decisions", "decision", Decision, lambda d: d.request, reg.decisions)
        self.read_folder("reports", "report", Report, lambda d: d.request, reg.reports)
        self.read_folder("holds", "hold", Hold, lambda d: d.id, reg.holds)

    # -- reading ---------------------------------------------------------------------------

    def read_single(self, file: str, model: type[Model]) -> Model | None:
        path = self.reg.root / file
        if not path.exists():
            self.issue("E_SCHEMA", file, file, f"{file} is missing from the registry", (1, 1))
            return None
        return self.parse_and_validate(file, file, model)

    def parse_and_validate(self, file: str, subject: str, model: type[Model]) -> Model | None:
        path = self.reg.root / file
        if path.is_symlink():
            self.issue("E_SCHEMA", file, subject, "symbolic links are not allowed in the registry; "
                       "commit the file itself", (1, 1))
            return None
        raw = path.read_bytes()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = raw.count(b"\n", 0, exc.start) + 1
            column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
            self.issue("E_YAML", file, subject,
                       f"not UTF-8 text (byte 0x{raw[exc.start]:02x}); save the file as UTF-8",
                       (line, column))
            return None
        try:
            data = yaml_source.parse(text)
        except yaml_source.YamlError as exc:
            self.issue("E_YAML", file, subject, f"invalid YAML: {exc.message}",
                       (exc.line, exc.column))
            return None
        if not isinstance(data, dict):
            what = "empty" if data is None else f"a {type(data).__name__}"
            self.issue("E_SCHEMA", file, subject,
                       f"expected a mapping of fields at the top level, found {what}", (1, 1))
            return None
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            self.reg._texts[file] = text
            for error in exc.errors():
                self.schema_issue(file, subject, (), error)
            return None

    def schema_issue(self, file: str, subject: str, base: FieldPath, error: Any) -> None:
        loc = tuple(part for part in error["loc"] if not str(part).startswith("function-"))
        # pydantic names a union branch in the path ("ThirdParty"); it is not a field.
        loc = tuple(p for p in loc if not (isinstance(p, str) and p[:1].isupper()))
        where = ".".join(str(p) for p in loc) or "(document)"
        message = _schema_message(error, where)
        line, column = self.reg.position(Source(file, base), loc)
        self.issue("E_SCHEMA", file, subject, message, (line, column), field=where)

    def read_folder(
        self,
        folder: str,
        kind: str,
        model: type[Model],
        key_of: Callable[[Model], str],
        into: dict[str, Model],
    ) -> None:
        directory = self.reg.root / folder
        if not directory.is_dir():
            return
        for path in _yaml_files(directory):
            file = f"{folder}/{path.name}"
            stem = path.name.rsplit(".", 1)[0]
            if not _FILE_STEM.match(stem):
                self.issue("E_SCHEMA", file, file,
                           f"file name {path.name!r} is not an id like REQ-2026-0042.yaml "
                           "(upper-case letters, digits and dashes)", (1, 1))
                continue
            doc = self.parse_and_validate(file, f"{kind}:{stem}", model)
            if doc is None:
                self.reg.unreadable.setdefault(kind, set()).add(stem)
                continue
            key = key_of(doc)
            if key != stem:
                field_name = "id" if kind in ("request", "hold") else "request"
                line, column = self.reg.position(Source(file), (field_name,))
                self.issue("E_SCHEMA", file, f"{kind}:{stem}",
                           f"{field_name} {key!r} does not match the file name {path.name!r}; "
                           f"name the file {key}.yaml", (line, column), field=field_name)
                self.reg.unreadable.setdefault(kind, set()).add(stem)
                continue
            into[key] = doc
            self.reg.sources[(kind, key)] = Source(file)

    def index_list(
        self, file: str, list_field: str, kind: str, items: Iterable[Model], into: dict[str, Model]
    ) -> None:
        for index, item in enumerate(items):
            item_id: str = item.id  # type: ignore[attr-defined]
            if item_id in into:
                first = self.reg.sources[(kind, item_id)]
                first_line, _ = self.reg.position(first)
                line, column = self.reg.position(Source(file), (list_field, index, "id"))
                self.issue("E_DUPLICATE_ID", file, f"{kind}:{item_id}",
                           f"{kind} id {item_id!r} is defined twice (first at line {first_line}); "
                           "ids must be unique", (line, column), field="id")
                continue
            into[item_id] = item
            self.reg.sources[(kind, item_id)] = Source(file, (list_field, index))

    def issue(self, code: str, file: str, subject: str, message: str, position: tuple[int, int],
              field: str | None = None) -> None:
        line, column = position
        self.reg.issues.append(Violation(code=code, severity=Severity.error, subject=subject,
                                         message=message, file=file, line=line, column=column,
                                         field=field))


def _yaml_files(directory: Path) -> list[Path]:
    with os.scandir(directory) as entries:
        names = sorted(e.name for e in entries if e.name.endswith((".yaml", ".yml")))
    return [directory / name for name in names]


def _schema_message(error: Any, where: str) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        return f"unknown field {where!r}; check the spelling against the registry format"
    if kind == "missing":
        return f"required field {where!r} is missing"
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{where}: {message}"
