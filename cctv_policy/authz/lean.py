"""What serve's engine and approval floor hold of a registry: only what a decision reads.

The decision (data.cctv.access) reads five things of data.cctv_registry: the valid approvals,
what each grants, their decisions, and the person -> request and person -> camera -> request
indexes. The whole policy input (people, cameras, every request with its purpose, reports,
holds, ...) is needed to find which approvals are valid, never to answer a question: loaded
into the engine, it made most of serve's memory. So serve's engine gets this lean document, as
the fleet's bundle does (bundle/fleet_data.py), and answers the same: the person -> request
index keeps every request of a person (the denial reason tells a recipient of some request from
a stranger), the camera index keeps only valid approvals (a decision looks up no other).

The floor's scopes cross from the process that checked the registry as plain JSON (to_json,
from_json).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from cctv_policy.registry.approvals import ApprovedScope
from cctv_policy.registry.models import UseMode
from cctv_policy.rulebook.evaluation import Evaluation


def lean_registry_data(evaluation: Evaluation) -> dict[str, Any]:
    """data.cctv_registry as the decision reads it (the same answers as registry_data)."""
    scopes = evaluation.approved_scopes()
    decisions = evaluation.input["decisions"]
    by_recipient: dict[str, list[str]] = {}
    by_camera: dict[str, dict[str, list[str]]] = {}
    for request_id, request in evaluation.registry.requests.items():
        for person in request.use.recipients:
            by_recipient.setdefault(person, []).append(request_id)
            if request_id not in scopes:
                continue
            cameras = by_camera.setdefault(person, {})
            for camera in request.footage.cameras:  # the cameras asked for: see access.rego
                cameras.setdefault(camera, []).append(request_id)
    return {
        "valid_approvals": dict.fromkeys(sorted(scopes), True),
        "approved_scopes": scopes,
        "decisions": {
            request_id: {"decision": decisions[request_id]["decision"]}
            for request_id in scopes
            if request_id in decisions
        },
        "by_recipient": by_recipient,
        "by_recipient_camera": by_camera,
    }


def scope_to_json(scope: ApprovedScope) -> dict[str, Any]:
    return {
        "request": scope.request,
        "cameras": list(scope.cameras),
        "start": scope.start.isoformat(),
        "end": scope.end.isoformat(),
        "use_starts": scope.use_starts.isoformat(),
        "use_ends": scope.use_ends.isoformat(),
        "mode": scope.mode.value,
        "recipients": list(scope.recipients),
        "supervised_by": scope.supervised_by,
        "third_party_allowed": scope.third_party_allowed,
    }


def scope_from_json(raw: Mapping[str, Any]) -> ApprovedScope:
    """Raises KeyError, TypeError or ValueError on anything but what scope_to_json wrote."""
    return ApprovedScope(
        request=str(raw["request"]),
        cameras=tuple(str(camera) for camera in raw["cameras"]),
        start=_aware(raw["start"]),
        end=_aware(raw["end"]),
        use_starts=_aware(raw["use_starts"]),
        use_ends=_aware(raw["use_ends"]),
        mode=UseMode(raw["mode"]),
        recipients=tuple(str(person) for person in raw["recipients"]),
        supervised_by=None if raw["supervised_by"] is None else str(raw["supervised_by"]),
        third_party_allowed=bool(raw["third_party_allowed"]),
    )


def _aware(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(f"{text!r} has no UTC offset")
    return moment
