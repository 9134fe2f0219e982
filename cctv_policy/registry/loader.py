"""Load a registry directory into validated models, collecting input errors with positions.

Nothing here raises for bad content: every problem becomes a Violation (E_YAML, E_SCHEMA,
E_DUPLICATE_ID) with file:line, and the document is left out. Only a missing registry directory
is an exception (RegistryNotFound), because then the tool cannot run at all.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from cctv_policy.heap import collector_paused
from cctv_policy.messages import did_you_mean, input_message
from cctv_policy.output import printable
from cctv_policy.registry import attachments, yaml_source
from cctv_policy.registry.canonical import document_sha256
from cctv_policy.registry.field_errors import FieldProblem, describe, salvage
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
)
from cctv_policy.registry.types import DOCUMENT_ID
from cctv_policy.violations import Severity, Violation

Model = TypeVar("Model", bound=BaseModel)
FieldPath = tuple[str | int, ...]

_FILE_STEM = re.compile(f"^{DOCUMENT_ID}$")


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
            i.file in _CORE_FILES and i.code in ("E_YAML", "E_SCHEMA") for i in self.issues
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


_CORE_FILES = ("config.yaml", "people.yaml", "cameras.yaml", "storage.yaml")
# folder -> the kind of document each of its files holds.
DOCUMENT_FOLDERS = {
    "requests": "request",
    "decisions": "decision",
    "reports": "report",
    "holds": "hold",
    "maintenance": "maintenance",
    "violations": "violation",
    "feedback": "feedback",
}
# Entries a registry may hold that are not documents: nothing else is silently skipped.
NOT_DOCUMENTS = frozenset(
    {".git", ".github", ".gitignore", ".gitattributes", "CODEOWNERS", "schemas"}
)
_DOCUMENT_SUFFIXES = (".yaml", ".yml")

# Below this many per-document files, parsing in worker processes costs more than it saves.
PARALLEL_THRESHOLD = 2000


@dataclass(frozen=True)
class ParsedFile:
    """One file read and parsed: its data, or the problem with its position."""

    path: Path
    data: Any = None
    problem: str | None = None  # a messages.INPUT key
    params: tuple[tuple[str, str], ...] = ()
    code: str = "E_YAML"
    position: tuple[int, int] = (1, 1)
    sha256: str | None = None  # of the document's canonical JSON (what a decision pins)


def read_and_parse(path: Path, digest: bool = False) -> ParsedFile:
    """Read one registry file and parse its YAML (and, with `digest`, the SHA-256 of its
    canonical JSON). Pure: safe to run in a worker process."""
    if path.is_symlink():
        return ParsedFile(path, problem="symlink", code="E_SCHEMA")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        return ParsedFile(
            path,
            problem="not_utf8",
            params=(("byte", f"{raw[exc.start]:02x}"),),
            position=(line, column),
        )
    try:
        data = yaml_source.parse(text)
    except yaml_source.YamlError as exc:
        return _yaml_problem(path, text, exc)
    odd = yaml_source.first_non_plain(data)
    if odd is not None:
        return ParsedFile(
            path,
            code="E_SCHEMA",
            position=yaml_source.first_tag_position(text),
            problem="yaml_tag",
            params=(("kind", odd),),
        )
    key = yaml_source.first_non_text_key(data)
    if key is not None:  # nothing reads such a key; canonical JSON could not even sort it
        return ParsedFile(
            path,
            code="E_SCHEMA",
            problem="yaml_key",
            params=(("key", key),),
            position=yaml_source.non_text_key_position(text),
        )
    return ParsedFile(path, data=data, sha256=document_sha256(data) if digest else None)


_DUPLICATE_KEY = re.compile(r"found duplicate key (?P<key>.+)$")


def _yaml_problem(path: Path, text: str, exc: yaml_source.YamlError) -> ParsedFile:
    """A YAML error in people's words: a tab in the indentation, a repeated field, or else
    where to look with libyaml's own detail."""
    tab = yaml_source.first_indenting_tab(text)
    if tab is not None and tab[0] <= exc.line:
        return ParsedFile(path, problem="yaml_tab", position=tab)
    duplicate = _DUPLICATE_KEY.search(exc.message)
    if duplicate:
        return ParsedFile(
            path,
            problem="yaml_duplicate_key",
            position=(exc.line, exc.column),
            params=(("key", duplicate["key"]),),
        )
    return ParsedFile(
        path,
        problem="yaml_syntax",
        position=(exc.line, exc.column),
        params=(("detail", exc.message),),
    )


def _parse_chunk(files: list[tuple[Path, bool]]) -> list[ParsedFile]:
    return [read_and_parse(path, digest) for path, digest in files]


def parse_many(files: list[tuple[Path, bool]]) -> Iterator[ParsedFile]:
    """Parse files (path, with digest?), yielding them in order; on a large registry split the
    work over the cores.

    Only parsing runs in the workers (plain dicts pickle cheaply; pydantic models do not), and
    results stream back in order, so the caller validates one chunk while workers parse the next
    (all of the registry's folders in one stream: the workers never wait between folders).
    Workers are forked, unless this process already hosts the OPA Go runtime, whose threads
    do not survive a fork: then they start clean from a fork server.
    """
    workers = min(os.cpu_count() or 1, 8)
    if len(files) < PARALLEL_THRESHOLD or workers < 2:
        yield from _parse_chunk(files)
        return
    # Imported here: a registry small enough for one core never pays for multiprocessing.
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    size = min(-(-len(files) // (workers * 8)), 500)
    chunks = [files[i : i + size] for i in range(0, len(files), size)]
    context = multiprocessing.get_context("forkserver" if _go_runtime_started() else "fork")
    done = 0
    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            for chunk in pool.map(_parse_chunk, chunks):
                yield from chunk
                done += len(chunk)
    except (BrokenProcessPool, OSError):
        yield from _parse_chunk(files[done:])  # workers could not run here: finish on one core


def _go_runtime_started() -> bool:
    engine_module = sys.modules.get("opa_bindings.engine")
    return getattr(engine_module, "_lib", None) is not None


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
                if name in _CORE_FILES or name in NOT_DOCUMENTS or name.startswith("README"):
                    continue
                if name == attachments.STORE and entry.is_dir(follow_symlinks=False):
                    continue
                if name in DOCUMENT_FOLDERS:
                    if entry.is_symlink() or not entry.is_dir():
                        self.not_read(name, "not_a_folder", name=name)
                    continue
                is_folder = entry.is_dir(follow_symlinks=False)
                close = did_you_mean(name.lower(), [*_CORE_FILES, *DOCUMENT_FOLDERS])
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
        for name, is_dir in _folder_entries(directory):
            if name == ".gitkeep" and not is_dir:  # keeps an empty folder in git
                continue
            file = f"{folder.name}/{name}"
            problem = _entry_problem(folder.name, name, is_dir)
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
                if kind in ("request", "hold", "maintenance", "violation", "feedback")
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


def _folder_entries(directory: Path) -> list[tuple[str, bool]]:
    """(name, is a real directory) of every entry, sorted by name."""
    with os.scandir(directory) as entries:
        return sorted((e.name, e.is_dir(follow_symlinks=False)) for e in entries)


def _entry_problem(folder: str, name: str, is_dir: bool) -> str | None:
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
