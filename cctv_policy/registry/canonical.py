"""What a decision pins: the SHA-256 of a request's canonical JSON.

Canonical JSON is the parsed YAML document (timestamps as written, keys sorted, no whitespace,
UTF-8), so reformatting a file or editing its comments keeps the digest and any change of
content breaks it (SPEC §2, `request_sha256`).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical_json(document: Any) -> bytes:
    return _ENCODER.encode(document).encode("utf-8")


def document_sha256(document: Any) -> str:
    return hashlib.sha256(canonical_json(document)).hexdigest()
