"""Build the one input document the policies see: the whole registry plus the clock."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from cctv_policy.registry.loader import LoadedRegistry
from cctv_policy.registry.types import format_utc


def _plain(model: BaseModel, exclude: set[str] | None = None) -> dict[str, Any]:
    # mode="json" renders timestamps (all UTC after validation) as RFC 3339 with a Z.
    # exclude_none: in Rego a null is a defined (truthy) value; an absent field is undefined.
    return model.model_dump(mode="json", by_alias=True, exclude_none=True, exclude=exclude)


# What only `notify` reads (#28): e-mail addresses and channels are no business of the policies.
_NOT_FOR_POLICIES = {"email", "notifications"}


def build_input(registry: LoadedRegistry, now: datetime) -> dict[str, Any]:
    assert registry.config is not None, "policies run only on a registry whose config loaded"
    return {
        "now": format_utc(now),
        "config": _plain(registry.config, _NOT_FOR_POLICIES),
        "people": {k: _plain(v, _NOT_FOR_POLICIES) for k, v in registry.people.items()},
        "cameras": {k: _plain(v) for k, v in registry.cameras.items()},
        "targets": {k: _plain(v) for k, v in registry.targets.items()},
        "requests": {k: _plain(v) for k, v in registry.requests.items()},
        "decisions": {k: _plain(v) for k, v in registry.decisions.items()},
        "reports": {k: _plain(v) for k, v in registry.reports.items()},
        "holds": {k: _plain(v) for k, v in registry.holds.items()},
        "maintenance": {k: _plain(v) for k, v in registry.maintenance.items()},
        "violation_register": {k: _plain(v) for k, v in registry.violation_register.items()},
        "feedback": {k: _plain(v) for k, v in registry.feedback.items()},
        "waivers": {k: _plain(v) for k, v in registry.waivers.items()},
        "attachment_files": registry.attachment_files,
        "request_sha256": dict(registry.request_sha256),
        "unreadable": {kind: sorted(ids) for kind, ids in registry.unreadable.items()},
    }


def canonical_json(document: dict[str, Any]) -> bytes:
    """The input as canonical JSON (sorted keys, no spaces, ASCII): what input_hash digests,
    and what an engine may load as it is instead of encoding the document again."""
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()


def input_hash(document: dict[str, Any], encoded: bytes | None = None) -> str:
    """A stable digest of the input, stamped next to the policy version on every result."""
    canonical = encoded if encoded is not None else canonical_json(document)
    return "sha256:" + hashlib.sha256(canonical).hexdigest()
