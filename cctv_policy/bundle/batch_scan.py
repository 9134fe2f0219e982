"""A batch of OPA decision events split into its events without recursion, each event's
nesting cut at a depth: one event nested thousands of levels deep (OPA accepts 10,000) must
not make the batch unreadable, or OPA would send it again for ever and log nothing after it.

The scan is one linear pass over the JSON text (strings skipped whole by one regular
expression); only the brackets and commas outside strings are looked at."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass

# A JSON string (escapes included), or a run of opening or of closing brackets outside strings.
_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[{]+|[\]}]+')
_BLANK = " \t\r\n"


class NotABatch(ValueError):
    """The text is not a JSON array of objects."""


@dataclass(frozen=True)
class RawEvent:
    text: str  # the event's JSON text, as sent
    depth: int  # how deeply it nests (an object of scalars is 1)


def split_events(text: str) -> list[RawEvent]:
    """The objects of a top-level JSON array, as text. Their content is checked later, when
    each is parsed; here only the array's shape."""
    body = text.strip(_BLANK)
    if not (body.startswith("[") and body.endswith("]")):
        raise NotABatch("the body is not a JSON array")
    events: list[RawEvent] = []
    depth, deepest, start, after_last = 0, 0, -1, 1
    for match in _TOKEN.finditer(body, 1, len(body) - 1):
        run = match.group()
        if run[0] == '"':
            if depth == 0:
                raise NotABatch("the array holds something other than decision objects")
        elif run[0] in "[{":
            if depth == 0:
                if run[0] != "{" or body[after_last : match.start()].strip(_BLANK + ","):
                    raise NotABatch("the array holds something other than decision objects")
                start = match.start()
            depth += len(run)
            deepest = max(deepest, depth)
        elif len(run) >= depth:  # closes the event (and, if longer, more than was opened)
            if len(run) > depth or depth == 0:
                raise NotABatch("the body's brackets do not match")
            events.append(RawEvent(body[start : match.end()], deepest))
            depth, deepest, after_last = 0, 0, match.end()
        else:
            depth -= len(run)
    if depth or body[after_last:-1].strip(_BLANK + ","):
        raise NotABatch("the array holds something other than decision objects")
    return events


def cut_deeper_than(event: RawEvent, levels: int) -> str:
    """The event's text with every value nested deeper than `levels` replaced by a marker that
    names its size and digest (what was cut can be matched with OPA's own copy)."""
    if event.depth <= levels:
        return event.text
    raw, pieces, copied, depth, cut_from = event.text, [], 0, 0, -1
    for match in _TOKEN.finditer(raw):
        run = match.group()
        if run[0] == '"':
            continue
        if run[0] in "[{":
            if depth <= levels < depth + len(run):  # this run opens level levels + 1
                cut_from = match.start() + levels - depth
            depth += len(run)
            continue
        if depth - len(run) <= levels < depth:  # this run closes level levels + 1
            cut_to = match.start() + depth - levels
            pieces += [raw[copied:cut_from], json.dumps(_marker(raw[cut_from:cut_to]))]
            copied = cut_to
        depth -= len(run)
    pieces.append(raw[copied:])
    return "".join(pieces)


def _marker(cut: str) -> str:
    digest = hashlib.sha256(cut.encode("utf-8", "surrogatepass")).hexdigest()
    return f"[cut: nested too deep; {len(cut)} characters, sha256 {digest}]"
