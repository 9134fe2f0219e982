"""YAML reading: a fast parse for every file, positions only for files with something to report.

Every file is parsed by libyaml through PyYAML's C loader. (ruamel.yaml's C loader rejects plain
scalars with ':' inside flow mappings, such as `{from: 2026-11-18T14:00:00+08:00}`, which the
spec itself uses, and its round-trip loader, which keeps positions, costs ~11 ms a file in pure
Python.) Source positions are needed only for files that have something to report: those, and
only those, are composed again by libyaml into a node tree whose marks give the line and column
of every key and item.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import yaml

_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"


class _FastLoader(yaml.CSafeLoader):
    """libyaml parser; timestamps stay strings (validated later); duplicate keys are errors."""

    yaml_implicit_resolvers = {  # noqa: RUF012 - PyYAML reads it as a class attribute
        first: [r for r in resolvers if r[0] != _TIMESTAMP_TAG]
        for first, resolvers in yaml.CSafeLoader.yaml_implicit_resolvers.items()
    }

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if not isinstance(key, (str, int, float, bool, type(None))):
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping",
                    node.start_mark,
                    "found a key that is not plain text (a list or mapping used as a key)",
                    key_node.start_mark,
                )
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping",
                    node.start_mark,
                    f"found duplicate key {key!r}",
                    key_node.start_mark,
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


@dataclass(frozen=True)
class YamlError(Exception):
    """A file that is not valid YAML: 1-based line and column and libyaml's words."""

    message: str
    line: int
    column: int


def parse(text: str) -> Any:
    """Parse one YAML document fast. Raises YamlError with the position of the problem."""
    try:
        return yaml.load(text, Loader=_FastLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = " ".join(p for p in (exc.context, exc.problem) if p)
        line = mark.line + 1 if mark else 1
        column = mark.column + 1 if mark else 1
        raise YamlError(problem or str(exc), line, column) from None
    except yaml.YAMLError as exc:
        raise YamlError(str(exc), 1, 1) from None
    except (TypeError, ValueError, RecursionError, OverflowError) as exc:
        # libyaml's constructors raise these on odd input (deep nesting, huge numbers)
        raise YamlError(f"cannot be read ({type(exc).__name__}: {exc})", 1, 1) from None


def position_tree(text: str) -> yaml.Node | None:
    """The document's node tree with source marks (libyaml's composer), or None if it fails."""
    try:
        return yaml.compose(text, Loader=_FastLoader)
    except yaml.YAMLError:
        return None


def locate_in(tree: yaml.Node | None, path: Sequence[str | int]) -> tuple[int, int]:
    node = tree
    if node is None:
        return (1, 1)
    mark = node.start_mark
    for part in path:
        child = _child(node, part)
        if child is None:
            break
        mark, node = child
    return (mark.line + 1, mark.column + 1)


def scalar_at(tree: yaml.Node | None, path: Sequence[str | int]) -> str | None:
    """The scalar text at exactly `path`, or None (missing, or a list or mapping)."""
    node = tree
    for part in path:
        if node is None:
            return None
        child = _child(node, part)
        node = child[1] if child else None
    return node.value if isinstance(node, yaml.ScalarNode) else None


def _child(node: yaml.Node, part: str | int) -> tuple[yaml.Mark, yaml.Node] | None:
    """(mark of the key or item, value node) of one step down, or None."""
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.value == str(part):
                return key_node.start_mark, value_node
    elif (
        isinstance(node, yaml.SequenceNode)
        and isinstance(part, int)
        and 0 <= part < len(node.value)
    ):
        item = node.value[part]
        return item.start_mark, item
    return None


_PLAIN = (str, int, float, bool, type(None))


def first_non_plain(data: Any) -> str | None:
    """The type name of the first value that is not plain JSON data (bytes, sets, dates...)."""
    if isinstance(data, dict):
        for key, value in data.items():
            found = first_non_plain(key) if not isinstance(key, str) else None
            found = found or first_non_plain(value)
            if found:
                return found
        return None
    if isinstance(data, list):
        return next((f for f in map(first_non_plain, data) if f), None)
    return None if isinstance(data, _PLAIN) else type(data).__name__


def first_non_text_key(data: Any) -> str | None:
    """The first mapping key that is not text (YAML reads `null:`, `1:` or `yes:` as None, a
    number or a boolean), as written back in YAML; None if every key is text."""
    if isinstance(data, dict):
        for key, value in data.items():
            if not isinstance(key, str):
                return yaml.safe_dump(key, default_flow_style=True).split("\n")[0]
            found = first_non_text_key(value)
            if found is not None:
                return found
    elif isinstance(data, list):
        return next((k for k in map(first_non_text_key, data) if k is not None), None)
    return None


def non_text_key_position(text: str) -> tuple[int, int]:
    """Where the first key that is not text is written, or the top of the file."""
    pending = [position_tree(text)]
    while pending:
        node = pending.pop(0)
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if key.tag != "tag:yaml.org,2002:str":
                    return (key.start_mark.line + 1, key.start_mark.column + 1)
                pending.append(value)
        elif isinstance(node, yaml.SequenceNode):
            pending.extend(node.value)
    return (1, 1)


def first_tag_position(text: str) -> tuple[int, int]:
    """Where the first explicit tag (`!!x` or `!x`) is written, or the top of the file."""
    for number, line in enumerate(text.splitlines(), start=1):
        column = line.find("!")
        if column >= 0 and line.lstrip()[:1] != "#":
            return (number, column + 1)
    return (1, 1)


def first_indenting_tab(text: str) -> tuple[int, int] | None:
    """(line, column) of the first tab in a line's indentation, or None."""
    for number, line in enumerate(text.splitlines(), start=1):
        indent = line[: len(line) - len(line.lstrip(" \t"))]
        if "\t" in indent:
            return (number, indent.index("\t") + 1)
    return None
