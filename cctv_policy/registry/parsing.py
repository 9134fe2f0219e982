"""Reading and parsing registry files: one file into its data or its problem (with the
position), many files over the cores on a large registry. Pure functions of the files: the
loader (loader.py) validates what they return."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cctv_policy.registry import yaml_source
from cctv_policy.registry.canonical import document_sha256

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
