"""Reading the audit log by request, person, camera and time."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

PERSON_FIELDS = ("actor", "principal", "supervisor", "recipient", "applicant")


def entries(path: Path) -> Iterator[dict[str, Any]]:
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def matches(
    entry: dict[str, Any],
    request: str | None,
    person: str | None,
    camera: str | None,
    since: datetime | None,
) -> bool:
    if request and request not in (entry.get("request"), _grant_request(entry)):
        return False
    if person and not any(person == str(entry.get(f, "")).split("@")[0] for f in PERSON_FIELDS):
        return False
    if camera and not _mentions_camera(entry, camera):
        return False
    return not (since and datetime.fromisoformat(entry["at"]) < since)


def _grant_request(entry: dict[str, Any]) -> str | None:
    grant = entry.get("grant")
    return grant.split("--")[0] if isinstance(grant, str) else None


def _mentions_camera(entry: dict[str, Any], camera: str) -> bool:
    if entry.get("camera") == camera:
        return True
    keys = entry.get("keys") or []
    if isinstance(keys, dict):
        keys = list(keys)
    prefix = camera + "/"
    return any(
        str(k).startswith(prefix) for k in [*keys, entry.get("key") or "", entry.get("path") or ""]
    )
