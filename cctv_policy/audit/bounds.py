"""How much of an untrusted value the audit log keeps, and how long a line may be.

Every line is at most MAX_LINE_BYTES (every writer; an entry longer than that is refused with
AuditError, so nothing is done without its line): a line read back to find the log's head, or
by `audit verify`, costs at most that. Untrusted text is cut to MAX_TEXT characters and values
nested deeper than MAX_DEPTH levels are replaced by a marker; both keep the length and a digest
of what was cut. The walk is iterative: no depth of nesting can make it fail."""

from __future__ import annotations

import hashlib
import json
from typing import Any

MAX_TEXT = 512
MAX_DEPTH = 32
# Every line of the log: room for the enforcer's largest entries (a deleted day lists every
# file it deleted), far below what made finding the head take seconds.
MAX_LINE_BYTES = 8 << 20

_SCALARS = frozenset({bool, int, float, type(None)})


def _short_text(value: Any) -> bool:
    return type(value) is str and len(value) <= MAX_TEXT


def _plain(value: Any) -> bool:
    """Needs no cutting: short text or a scalar."""
    return _short_text(value) or type(value) in _SCALARS


def cut_text(value: str) -> str:
    if len(value) <= MAX_TEXT:
        return value
    digest = hashlib.sha256(value.encode("utf-8", "replace")).hexdigest()[:16]
    return f"{value[:MAX_TEXT]}...[cut: {len(value)} characters, sha256 {digest}]"


def digest_of(value: Any) -> str:
    """sha256 of a value's canonical JSON ("unknown" if it cannot be encoded)."""
    try:
        text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    except (RecursionError, ValueError):
        return "unknown"
    return hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()


def _too_deep(value: Any, levels: int) -> str:
    return f"[cut: nested deeper than {levels} levels, sha256 {digest_of(value)[:16]}]"


def bounded(value: Any, max_depth: int = MAX_DEPTH) -> Any:
    """Untrusted values with text cut to MAX_TEXT characters (length and digest kept) and
    containers deeper than max_depth levels replaced by a marker. A copy: the value is not
    changed."""
    root: list[Any] = [None]
    todo: list[tuple[Any, Any, Any, int]] = [(value, root, 0, 0)]  # value, parent, key, depth
    while todo:
        item, parent, key, depth = todo.pop()
        parent[key] = _one_level(item, depth, max_depth, todo)
    return root[0]


def _one_level(item: Any, depth: int, max_depth: int, todo: list[Any]) -> Any:
    """The item with its own text cut; its children are queued in `todo` to be filled in."""
    if isinstance(item, str):
        return cut_text(item)
    if isinstance(item, dict):
        if depth >= max_depth:
            return _too_deep(item, max_depth)
        if all(_short_text(k) and _plain(v) for k, v in item.items()):
            return dict(item)  # e.g. a decision's details: nothing to cut
        copy: dict[str, Any] = {}
        for k, v in item.items():
            name = str(k)[:MAX_TEXT]
            copy[name] = None
            todo.append((v, copy, name, depth + 1))
        return copy
    if isinstance(item, (list, tuple)):
        if depth >= max_depth:
            return _too_deep(item, max_depth)
        if set(map(type, item)) <= {str} and max(map(len, item), default=0) <= MAX_TEXT:
            return list(item)  # e.g. the names of a deleted day: nothing to cut
        items: list[Any] = [None] * len(item)
        todo.extend((v, items, i, depth + 1) for i, v in enumerate(item))
        return items
    return item
