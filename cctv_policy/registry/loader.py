"""Load a registry directory into validated models, collecting input errors with positions.

Nothing here raises for bad content: every problem becomes a Violation (E_YAML, E_SCHEMA,
E_DUPLICATE_ID) with file:line, and the document is left out. Only a missing registry directory
is an exception (RegistryNotFound), because then the tool cannot run at all.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from cctv_policy.heap import collector_paused
from cctv_policy.messages import did_you_mean, input_message
from cctv_policy.output import printable
from cctv_policy.registry import attachments
from cctv_policy.registry.canonical import document_sha256
from cctv_policy.registry.field_errors import FieldProblem, describe, salvage
from cctv_policy.registry.folders import (
    CORE_FILES,
    DOCUMENT_FOLDERS,
    NOT_DOCUMENTS,
    entry_problem,
    folder_entries,
)
from cctv_policy.registry.loaded import LoadedRegistry, RegistryNotFound, Source
from cctv_policy.registry.models import (
    Camera,
    CamerasFile,
    Config,
    Decision,
    Feedback,
    Hold,
    Maintenance,
    PeopleFile,
    Person,
    Report,
    Request,
    StorageFile,
    StorageTarget,
    ViolationRecord,
    Waiver,
)
from cctv_policy.registry.parsing import ParsedFile, parse_many, read_and_parse
from cctv_policy.violations import Severity, Violation

Model = TypeVar("Model", bound=BaseModel)

__all__ = ["LoadedRegistry", "RegistryNotFound", "Source", "load_registry"]


def load_registry(root: Path | str) -> LoadedRegistry:
    root = Path(root)
    if not (root / "config.yaml").is_file():
        raise RegistryNotFound(
            f"{root} is not a registry: it has no config.yaml "
            "(pass --registry DIR, or run from a checkout that has ./registry)"
        )
    reg = LoadedRegistry(root=root)
    with collector_paused():
        _Reader(reg).read_all()
    return reg


@dataclass(frozen=True)
class _Folder:
    """A folder of one document per file, and where its documents go."""

    name: str
    kind: str
    model: type[BaseModel]
    key_of: Callable[[Any], str]
    into: dict[str, Any]


class _Reader:
    def __init__(self, reg: LoadedRegistry) -> None:
        self.reg = reg

    def read_all(self) -> None:
        reg = self.reg
        self.account_top_level()
        reg.config = self.read_single("config.yaml", Config)
        if reg.config is None:
            reg.unread_core.add("config.yaml")
        people = self.read_list_file("people.yaml", PeopleFile, "people", Person, "person")
        self.index_list("people.yaml", "people", "person", people, reg.people)
        cameras = self.read_list_file("cameras.yaml", CamerasFile, "cameras", Camera, "camera")
        self.index_list("cameras.yaml", "cameras", "camera", cameras, reg.cameras)
        targets = self.read_list_file(
            "storage.yaml", StorageFile, "targets", StorageTarget, "target"
        )
        self.index_list("storage.yaml", "targets", "target", targets, reg.targets)
        self.read_folders(
            [
                _Folder("requests", "request", Request, lambda d: d.id, reg.requests),
                _Folder("decisions", "decision", Decision, lambda d: d.request, reg.decisions),
                _Folder("reports", "report", Report, lambda d: d.request, reg.reports),
                _Folder("holds", "hold", Hold, lambda d: d.id, reg.holds),
                _Folder("maintenance", "maintenance", Maintenance, lambda d: d.id, reg.maintenance),
                _Folder(
                    "violations",
                    "violation",
                    ViolationRecord,
                    lambda d: d.id,
                    reg.violation_register,
                ),
                _Folder("feedback", "feedback", Feedback, lambda d: d.id, reg.feedback),
                _Folder("waivers", "waiver", Waiver, lambda d: d.id, reg.waivers),
            ]
        )
        reg.attachment_files = attachments.read_store(
            reg.root,
            lambda file, key: self.issue(
                "E_SCHEMA", file, f"file:{file}", key, {"file": file}, (1, 1)
            ),
        )

    def account_top_level(self) -> None:
        """Every entry at the top of the registry is read, or allowed as not a document."""
        with os.scandir(self.reg.root) as entries:
            for entry in sorted(entries, key=lambda e: e.name):
                name = entry.name
                if name in CORE_FILES or name in NOT_DOCUMENTS or name.startswith("README"):
                    continue
                if name == attachments.STORE and entry.is_dir(follow_symlinks=False):
                    continue
                if name in DOCUMENT_FOLDERS:
                    if entry.is_symlink() or not entry.is_dir():
                        self.not_read(name, "not_a_folder", name=name)
                    continue
                is_folder = entry.is_dir(follow_symlinks=False)
                close = did_you_mean(name.lower(), [*CORE_FILES, *DOCUMENT_FOLDERS])
                self.not_read(
                    name + ("/" if is_folder else ""),
                    "not_read",
                    name=name,
                    **({"choice": close} if close else {}),
                )

    def not_read(self, file: str, key: str, **params: str) -> None:
        self.issue("E_SCHEMA", file, f"file:{file}", key, params, (1, 1))

    # -- reading ---------------------------------------------------------------------------

    def read_single(self, file: str, model: type[Model]) -> Model | None:
        path = self.reg.root / file
        if not path.exists():
            self.issue("E_SCHEMA", file, file, "file_missing", {"file": file}, (1, 1))
            return None
        return self.parse_and_validate(file, file, model)

    def read_list_file(
        self, file: str, model: type[BaseModel], list_field: str, item_model: type[Model], kind: str
    ) -> list[Model]:
        """The entries of people.yaml, cameras.yaml or storage.yaml. When some entries have
        errors (reported), the others are still read, so one bad entry does not stop the rule
        book; the bad entries' ids are noted as unreadable."""
        path = self.reg.root / file
        if not path.exists():
            self.issue("E_SCHEMA", file, file, "file_missing", {"file": file}, (1, 1))
            self.reg.unread_core.add(file)
            return []
        parsed = read_and_parse(path)
        whole = self.validate(parsed, file, file, model)
        if whole is not None:
            items: list[Model] = getattr(whole, list_field)
            return items
        entries = parsed.data.get(list_field) if isinstance(parsed.data, dict) else None
        if not isinstance(entries, list):
            self.reg.unread_core.add(file)
            return []
        items = []
        for entry in entries:
            try:
                items.append(item_model.model_validate(entry))
            except ValidationError:
                if isinstance(entry, dict) and isinstance(entry.get("id"), str):
                    self.reg.unreadable.setdefault(kind, set()).add(entry["id"])
        return items

    def parse_and_validate(self, file: str, subject: str, model: type[Model]) -> Model | None:
        return self.validate(read_and_parse(self.reg.root / file), file, subject, model)

    def validate(
        self, parsed: ParsedFile, file: str, subject: str, model: type[Model]
    ) -> Model | None:
        if parsed.problem is not None:
            self.issue(
                parsed.code, file, subject, parsed.problem, dict(parsed.params), parsed.position
            )
            return None
        data = parsed.data
        if not isinstance(data, dict):
            what = "empty" if data is None else f"a {type(data).__name__}"
            self.issue("E_SCHEMA", file, subject, "not_a_mapping", {"what": what}, (1, 1))
            return None
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            problems = describe(model, exc.errors(), self.person_names())
            for problem in problems:
                self.schema_issue(file, subject, problem)
            if ":" in subject and not subject.startswith("file:"):
                kind, _, stem = subject.partition(":")
                self.reg.partial.setdefault(kind, {})[stem] = salvage(data, problems)
                self.reg.partial_fields[(kind, stem)] = [p.loc for p in problems]
            return None

    def person_names(self) -> dict[str, str]:
        """Every person's id by name and by id (lower-case), for "did you mean t.wang?"."""
        names = {p.name.lower(): p.id for p in self.reg.people.values()}
        return names | {p.id: p.id for p in self.reg.people.values()}

    def schema_issue(self, file: str, subject: str, problem: FieldProblem) -> None:
        line, column = self.reg.position(Source(file), problem.loc)
        self.issue(
            "E_SCHEMA",
            file,
            subject,
            problem.key,
            problem.params,
            (line, column),
            field=problem.where,
        )

    def read_folders(self, folders: list[_Folder]) -> None:
        """Every document folder's files, parsed in one stream, each validated in turn."""
        listed = [(folder, self.folder_files(folder)) for folder in folders]
        parsed = parse_many(
            [(path, folder.kind == "request") for folder, paths in listed for path in paths]
        )
        for folder, paths in listed:
            for _ in paths:
                self.add_document(
                    next(parsed), folder.name, folder.kind, folder.model, folder.key_of, folder.into
                )

    def folder_files(self, folder: _Folder) -> list[Path]:
        """The folder's document files; anything else in it is reported."""
        directory = self.reg.root / folder.name
        if not directory.is_dir() or directory.is_symlink():
            return []
        paths = []
        first_of_stem: dict[str, str] = {}
        for name, is_dir in folder_entries(directory):
            if name == ".gitkeep" and not is_dir:  # keeps an empty folder in git
                continue
            file = f"{folder.name}/{name}"
            problem = entry_problem(folder.name, name, is_dir)
            if problem:
                self.not_read(
                    file + ("/" if is_dir else ""), problem, name=name, folder=folder.name
                )
                continue
            stem = name.rsplit(".", 1)[0]
            if stem in first_of_stem:
                self.issue(
                    "E_DUPLICATE_ID",
                    file,
                    f"{folder.kind}:{stem}",
                    "duplicate_file",
                    {"name": name, "other": first_of_stem[stem]},
                    (1, 1),
                )
                continue
            first_of_stem[stem] = name
            paths.append(directory / name)
        return paths

    def add_document(
        self,
        parsed: ParsedFile,
        folder: str,
        kind: str,
        model: type[Model],
        key_of: Callable[[Model], str],
        into: dict[str, Model],
    ) -> None:
        file = f"{folder}/{parsed.path.name}"
        stem = parsed.path.name.rsplit(".", 1)[0]
        doc = self.validate(parsed, file, f"{kind}:{stem}", model)
        if doc is None:
            self.reg.unreadable.setdefault(kind, set()).add(stem)
            return
        key = key_of(doc)
        if key != stem:
            field_name = (
                "id"
                if kind in ("request", "hold", "maintenance", "violation", "feedback", "waiver")
                else "request"
            )
            line, column = self.reg.position(Source(file), (field_name,))
            self.issue(
                "E_SCHEMA",
                file,
                f"{kind}:{stem}",
                "name_mismatch",
                {"field": field_name, "value": key, "name": parsed.path.name},
                (line, column),
                field=field_name,
            )
            self.reg.unreadable.setdefault(kind, set()).add(stem)
            return
        into[key] = doc
        self.reg.sources[(kind, key)] = Source(file)
        if kind == "request":
            self.reg.request_sha256[key] = parsed.sha256 or document_sha256(parsed.data)

    def index_list(
        self, file: str, list_field: str, kind: str, items: Iterable[Model], into: dict[str, Model]
    ) -> None:
        for index, item in enumerate(items):
            item_id: str = item.id  # type: ignore[attr-defined]  # every list item has an id
            if item_id in into:
                first = self.reg.sources[(kind, item_id)]
                first_line, _ = self.reg.position(first)
                line, column = self.reg.position(Source(file), (list_field, index, "id"))
                self.issue(
                    "E_DUPLICATE_ID",
                    file,
                    f"{kind}:{item_id}",
                    "duplicate_id",
                    {"kind": kind, "id": item_id, "first_line": str(first_line)},
                    (line, column),
                    field="id",
                )
                continue
            into[item_id] = item
            self.reg.sources[(kind, item_id)] = Source(file, (list_field, index))

    def issue(
        self,
        code: str,
        file: str,
        subject: str,
        key: str,
        params: dict[str, str],
        position: tuple[int, int],
        field: str | None = None,
    ) -> None:
        line, column = position
        params = {name: printable(value) for name, value in params.items()}
        self.reg.issues.append(
            Violation(
                code=code,
                severity=Severity.error,
                subject=subject,
                message=input_message(key, "en", params),
                file=file,
                line=line,
                column=column,
                field=field,
                message_id=key,
                params=tuple(sorted(params.items())),
            )
        )
