"""The hash chain: each line is one event whose hash is sha256(prev + canonical JSON of the
line without "hash"), so editing, removing or reordering any line breaks the chain from there
on; and verify_log, which walks it."""

from __future__ import annotations

import fcntl
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

GENESIS = "0" * 64
# Keys the log itself writes on every line; a caller's details never replace them.
RESERVED = frozenset({"seq", "at", "actor", "ci", "event", "policy_version", "prev", "hash"})


def canonical(entry: dict[str, Any]) -> str:
    return json.dumps(entry, sort_keys=True, separators=(",", ":"), default=str)


def chained(prev: str, body: str) -> str:
    return hashlib.sha256((prev + body).encode()).hexdigest()


def digest(prev: str, entry: dict[str, Any]) -> str:
    return chained(prev, canonical(entry))


def sealed(prev: str, entry: dict[str, Any]) -> str:
    """Set entry["hash"] and return the entry's line. The line is the hashed canonical JSON
    with the hash added last, so a large entry (a deleted day's names) is encoded once."""
    body = canonical(entry)
    entry["hash"] = chained(prev, body)
    return f'{body[:-1]},"hash":"{entry["hash"]}"}}\n'


def check_details(events: Sequence[tuple[str, dict[str, Any]]]) -> None:
    for _, details in events:
        clash = RESERVED & set(details)
        if clash:
            raise ValueError(f"audit details may not set {sorted(clash)}")


@dataclass
class VerifyResult:
    ok: bool
    entries: int
    problems: list[str]
    head: tuple[int, str]
    anchored: bool = False


def verify_log(path: Path, anchors: Sequence[dict[str, Any]] = ()) -> VerifyResult:
    """Check the chain, and that every anchored head (seq, hash) is a line of this log.

    With no anchor, a log is only as good as its chain: cutting lines off the end cannot be
    seen, so the caller reports such a log as not anchored.
    """
    problems: list[str] = []
    prev, seq, count = GENESIS, 0, 0
    if not path.exists():
        return VerifyResult(False, 0, [f"{path} does not exist"], (0, GENESIS))
    wanted = {int(a["seq"]): str(a["hash"]) for a in anchors if "seq" in a and "hash" in a}
    with open(path, "rb") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_SH)
        for number, raw in enumerate(handle, start=1):
            count += 1
            try:
                entry = json.loads(raw)
                claimed = entry.pop("hash", None)
            except (ValueError, AttributeError):
                problems.append(f"line {number}: not JSON (edited or torn)")
                break
            if entry.get("prev") != prev:
                problems.append(
                    f"line {number}: does not follow line {number - 1} "
                    "(a line was removed, inserted or reordered)"
                )
                break
            if entry.get("seq") != seq + 1:
                problems.append(f"line {number}: sequence {entry.get('seq')} after {seq}")
                break
            if digest(prev, entry) != claimed:
                problems.append(f"line {number}: content does not match its hash (edited)")
                break
            prev, seq = claimed, entry["seq"]
            if seq in wanted and wanted[seq] != claimed:
                problems.append(
                    f"line {number} is not the line that was anchored: the log "
                    "was cut off and rewritten after it was anchored"
                )
                break
    if not problems and wanted and max(wanted) > seq:
        problems.append(
            f"the log ends at {seq} but the anchor records {max(wanted)} "
            "entries: lines were cut off the end"
        )
    return VerifyResult(not problems, count, problems, (seq, prev), anchored=bool(wanted))
