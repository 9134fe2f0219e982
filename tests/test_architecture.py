"""The house: which package may import which, no cycles, and one load per run.

The import graph is read from the source (every `import`, also inside functions, except those
under `if TYPE_CHECKING:`), so a circle hidden by a function-level import is found too."""

from __future__ import annotations

import ast
import functools
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Any

import pytest
from click.testing import CliRunner

from cctv_policy.cli.main import cli
from cctv_policy.registry.input_doc import build_input
from cctv_policy.registry.loader import load_registry

REPO = Path(__file__).resolve().parents[1]
FIRST_PARTY = ("cctv_policy", "storage_backends")


def _module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(tree: ast.AST) -> Iterator[str]:
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            node.body = []  # imports for type checkers only are not dependencies
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
        elif isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)


@functools.cache
def import_graph() -> dict[str, set[str]]:
    """module -> first-party modules it imports (read once per test run)."""
    graph: dict[str, set[str]] = {}
    for root in FIRST_PARTY:
        for path in sorted((REPO / root).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            graph[_module_name(path)] = {
                name for name in _imports(tree) if name.split(".")[0] in FIRST_PARTY
            }
    return graph


def wing(module: str) -> str:
    """cctv_policy.enforce.planner -> cctv_policy.enforce; top-level modules stand alone."""
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == "cctv_policy" else parts[0]


def wing_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for module, imported in import_graph().items():
        edges = graph.setdefault(wing(module), set())
        edges |= {wing(name) for name in imported} - {wing(module)}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, str] = {}
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        state[node] = "done"
        path.pop()
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


# The wings act (serve, publish, enforce, extract, report, write paperwork); each reads the
# rule book, the registry and storage through the shared rooms, never through another wing.
WINGS = tuple(
    f"cctv_policy.{name}" for name in ("authz", "bundle", "enforce", "extract", "reports", "office")
)
SHARED_ROOMS = (
    *(
        f"cctv_policy.{name}"
        for name in ("registry", "rulebook", "engine", "audit", "provenance", "httpserve")
    ),
    "storage_backends",
)


def _edges(from_wing: str, to_wing: str) -> list[str]:
    return sorted(
        f"{module} imports {name}"
        for module, imported in import_graph().items()
        if wing(module) == from_wing
        for name in imported
        if wing(name) == to_wing
    )


@pytest.mark.parametrize("from_wing", WINGS)
def test_wings_never_import_each_other(from_wing: str) -> None:
    offenders = [edge for other in WINGS if other != from_wing for edge in _edges(from_wing, other)]
    assert not offenders, offenders


@pytest.mark.parametrize("room", SHARED_ROOMS)
def test_shared_rooms_never_import_a_wing_or_the_cli(room: str) -> None:
    offenders = [edge for other in (*WINGS, "cctv_policy.cli") for edge in _edges(room, other)]
    assert not offenders, offenders


@pytest.mark.parametrize(
    ("wing_name", "forbidden"),
    [
        *((name, "cctv_policy.checks") for name in WINGS),
        ("storage_backends", "cctv_policy"),
        ("cctv_policy.registry", "cctv_policy.engine"),
    ],
)
def test_no_edge(wing_name: str, forbidden: str) -> None:
    assert not _edges(wing_name, forbidden)


def test_backends_are_built_only_in_targets() -> None:
    """One place turns a storage target into a backend (targets.py): roots, overrides and
    credentials are resolved once, never again beside it."""
    built = re.compile(r"\b(?:S3Backend|FilesystemBackend)(?:\.from_target)?\(")
    offenders = sorted(
        str(path.relative_to(REPO))
        for path in (REPO / "cctv_policy").rglob("*.py")
        if path.name != "targets.py" and built.search(path.read_text(encoding="utf-8"))
    )
    assert not offenders, offenders


def test_nothing_outside_the_cli_imports_the_cli() -> None:
    offenders = sorted(
        f"{module} imports {name}"
        for module, imported in import_graph().items()
        if wing(module) != "cctv_policy.cli"
        for name in imported
        if wing(name) == "cctv_policy.cli"
    )
    assert not offenders, offenders


def test_no_cycle_between_wings() -> None:
    assert find_cycle(wing_graph()) is None


def test_no_cycle_between_modules() -> None:
    graph = import_graph()
    # A package's face re-exports its modules; those edges are not dependencies between rooms.
    faces = {m for m in graph if (REPO / Path(*m.split(".")) / "__init__.py").exists()}
    assert find_cycle({m: {n for n in e if n not in faces} for m, e in graph.items()}) is None


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


class _CallCounter:
    """Counts calls of given functions however they were imported (by their code object)."""

    def __init__(self, *functions: Any) -> None:
        self.codes = {f.__code__: f.__name__ for f in functions}
        self.calls = dict.fromkeys(self.codes.values(), 0)

    def __call__(self, frame: FrameType, event: str, arg: object) -> None:
        if event == "call" and frame.f_code in self.codes:
            self.calls[self.codes[frame.f_code]] += 1

    def __enter__(self) -> _CallCounter:
        sys.setprofile(self)
        return self

    def __exit__(self, *exc: object) -> None:
        sys.setprofile(None)


@pytest.mark.parametrize("command", ["apply", "report", "plan"])
def test_a_run_loads_the_registry_and_builds_the_input_once(
    command: str, registry_copy: Path, tmp_path: Path
) -> None:
    footage = tmp_path / "nas"
    footage.mkdir()
    args = {
        "apply": [
            "apply",
            "--yes",
            "--audit-log",
            str(tmp_path / "audit.jsonl"),
            "--anchor",
            f"file:{tmp_path / 'anchor.head'}",
        ],
        "report": ["report", "--audit-log", str(tmp_path / "audit.jsonl")],
        "plan": ["plan"],
    }[command]
    with _CallCounter(load_registry, build_input) as counter:
        result = CliRunner().invoke(
            cli,
            [*args, "--registry", str(registry_copy), "--storage-root", f"nas-main={footage}"],
        )
    assert result.exit_code == 0, result.output
    assert counter.calls == {"load_registry": 1, "build_input": 1}
