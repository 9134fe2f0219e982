"""Writing and editing registry files with ruamel.yaml's round-trip mode.

Reading stays with libyaml (fast); writing goes through ruamel so that an edited file keeps its
comments, key order and modeline. Timestamps are written unquoted with their offset, in the
campus time zone, the way people write them by hand.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import DoubleQuotedScalarString
from ruamel.yaml.timestamp import TimeStamp


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.preserve_quotes = True
    yaml.width = 100
    return yaml


def timestamp(moment: datetime, zone: ZoneInfo | None = None) -> TimeStamp:
    """An RFC 3339 timestamp in `zone` (UTC when None) that ruamel writes unquoted."""
    local = moment.astimezone(zone or UTC)
    offset = local.utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    name = "Z" if minutes == 0 else f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
    stamp = TimeStamp(
        local.year,
        local.month,
        local.day,
        local.hour,
        local.minute,
        local.second,
        tzinfo=timezone(offset, name),
    )
    stamp._yaml["t"] = True
    return stamp


def text(value: str) -> DoubleQuotedScalarString:
    """Free text, always quoted: a colon or a leading dash in a reason stays text."""
    quoted: DoubleQuotedScalarString = DoubleQuotedScalarString(value)
    return quoted


def flow_list(items: list[Any]) -> CommentedSeq:
    seq = CommentedSeq(items)
    seq.fa.set_flow_style()
    return seq


def load(text_: str) -> CommentedMap:
    document = _yaml().load(text_)
    if not isinstance(document, CommentedMap):
        raise ValueError("the file does not hold a mapping of fields")
    return document


def dump(document: CommentedMap) -> str:
    out = io.StringIO()
    _yaml().dump(document, out)
    return out.getvalue()


def update(target: CommentedMap, values: Mapping[str, Any]) -> CommentedMap:
    """Make `target` hold exactly `values`, keeping the comments and order of keys that stay.

    Nested mappings are updated in place (their comments stay too); keys not in `values` are
    removed; a new key goes right after the key that precedes it in `values`.
    """
    for key in [k for k in target if k not in values]:
        del target[key]
    previous: str | None = None
    for key, value in values.items():
        current = target.get(key)
        if isinstance(value, Mapping) and not isinstance(value, CommentedMap):
            value = update(current if isinstance(current, CommentedMap) else CommentedMap(), value)
        if key in target:
            target[key] = value
        else:
            position = list(target).index(previous) + 1 if previous in target else len(target)
            target.insert(position, key, value)
        previous = key
    return target
