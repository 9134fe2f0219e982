"""What the fleet's bundle carries as data (data.cctv_registry), and nothing more.

An OPA server's Data API serves its data to whoever may read it, so the bundle holds only what
data.cctv.fleet.decision reads: the valid approvals, what each grants (cameras, footage window,
use period), and the person -> request indexes keyed by the SHA-256 of each person id. No
names, e-mails, purposes, reasons, conditions, reports, holds or violations; no request that
is not validly approved. And its validity: the fleet denies everything once the bundle's
valid_until has passed, so an older bundle put back in place of a newer one stops granting.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any

from cctv_policy.registry.types import format_utc
from cctv_policy.rulebook.evaluation import Evaluation

DATA_PATH = "cctv_registry"
# What the bundle ships of the rule book: the decision (a function of the question and the
# moment) and the fleet's package, which asks it on the server's clock. No package whose rules
# read input.now is shipped, so no path of an OPA server is answered on a caller's clock.
FLEET_MODULES = ("cctv/access.rego", "cctv/fleet.rego")
FLEET_ENTRYPOINT = "cctv/fleet/decision"
DEFAULT_VALID_FOR = timedelta(hours=6)


def pseudonym(person: str) -> str:
    """The key of a person id in the bundle (data.cctv.fleet: crypto.sha256(input.principal))."""
    return hashlib.sha256(person.encode()).hexdigest()


def fleet_data(evaluation: Evaluation, issued_at: datetime, valid_for: timedelta) -> dict[str, Any]:
    scopes = evaluation.approved_scopes()
    by_person: dict[str, list[str]] = {}
    by_person_camera: dict[str, dict[str, list[str]]] = {}
    for request_id in sorted(scopes):
        request = evaluation.registry.requests[request_id]
        for person in request.use.recipients:
            key = pseudonym(person)
            by_person.setdefault(key, []).append(request_id)
            cameras = by_person_camera.setdefault(key, {})
            for camera in request.footage.cameras:  # the cameras asked for: see access.rego
                cameras.setdefault(camera, []).append(request_id)
    return {
        "approved_scopes": scopes,
        "valid_approvals": dict.fromkeys(scopes, True),
        "decisions": {request_id: {"decision": "approved"} for request_id in scopes},
        "by_recipient": by_person,
        "by_recipient_camera": by_person_camera,
        "bundle": validity(issued_at, valid_for),
    }


def validity(issued_at: datetime, valid_for: timedelta) -> dict[str, Any]:
    issued_at = issued_at.replace(microsecond=0)
    valid_until = issued_at + valid_for
    return {
        "issued_at": format_utc(issued_at),
        "issued_at_ns": _ns(issued_at),
        "valid_until": format_utc(valid_until),
        "valid_until_ns": _ns(valid_until),
    }


def _ns(moment: datetime) -> int:
    return int(moment.timestamp()) * 1_000_000_000
