"""Authorization decisions over a registry loaded once as OPA data."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from functools import lru_cache
from typing import Any

from pydantic import BaseModel, ValidationError

from cctv_policy.audit.log import AuditLog
from cctv_policy.authz.lean import lean_registry_data
from cctv_policy.authz.url_schemes import ViewedTarget, viewed_targets
from cctv_policy.engine.base import EngineError
from cctv_policy.engine.embedded import EmbeddedEngine
from cctv_policy.engine.policies import PolicySet
from cctv_policy.output import printable
from cctv_policy.registry import types
from cctv_policy.registry.approvals import ApprovedScope, valid_approvals
from cctv_policy.registry.types import format_utc, parse_rfc3339
from cctv_policy.rulebook.evaluation import APPROVED_SCOPES, Evaluation
from cctv_policy.rulebook.gate import require_enforceable

DECISION_ENTRYPOINT = "cctv/authz/decision"
COVERAGE_ENTRYPOINT = "cctv/authz/coverage"  # the viewing point's spans (forward_auth.py)
DATA_PATH = "cctv_registry"
PERSON_ID = re.compile(types.PERSON_ID)
CAMERA_ID = re.compile(types.DOCUMENT_ID)
FLOOR_DENIAL = (
    "no approval that passes the independent approval check covers this camera at "
    "that time during its use period"
)


class AuthzDecision(BaseModel):
    allow: bool
    reason: str
    request: str | None = None


FLOOR_DENIED = AuthzDecision(allow=False, reason=FLOOR_DENIAL)
# A question's times are read by the floor before and after the policy, and "now" is the same
# for every question of a second: parsed once.
_moment = lru_cache(maxsize=4096)(parse_rfc3339)


class InvalidQuestion(ValueError):
    """A principal or camera that is not an id: refused before evaluation or logging."""


def registry_data(evaluation: Evaluation) -> dict[str, Any]:
    """The registry as the authz policy reads it, with its person -> request index, a person ->
    camera -> request index (the cameras each request asks for), the approvals the policies
    find valid and what each grants (computed once here: they do not depend on the clock)."""
    document = dict(evaluation.input)
    scopes = evaluation.approved_scopes()
    document["valid_approvals"] = {request_id: True for request_id in sorted(scopes)}
    document["approved_scopes"] = scopes
    index: dict[str, list[str]] = {}
    by_camera: dict[str, dict[str, list[str]]] = {}
    for request_id, request in evaluation.registry.requests.items():
        for person in request.use.recipients:
            index.setdefault(person, []).append(request_id)
            cameras = by_camera.setdefault(person, {})
            for camera in request.footage.cameras:
                cameras.setdefault(camera, []).append(request_id)
    document["by_recipient"] = index
    document["by_recipient_camera"] = by_camera
    return document


def question(principal: str, camera: str, at: datetime, now: datetime) -> dict[str, str]:
    """The policy's input; principal and camera must be ids (they reach the audit log)."""
    if not PERSON_ID.fullmatch(principal):
        raise InvalidQuestion(
            f"principal {printable(principal)[:80]!r} is not a person id like t.wang"
        )
    if not CAMERA_ID.fullmatch(camera):
        raise InvalidQuestion(
            f"camera {printable(camera)[:80]!r} is not a camera id like CAM-LIB-01"
        )
    return {"principal": principal, "camera": camera, "at": format_utc(at), "now": format_utc(now)}


class Authorizer:
    """The embedded OPA engine with the registry loaded once; thread-safe; audit-logged.

    Built only from a registry that passes the enforcement gate (no input errors)."""

    def __init__(
        self, evaluation: Evaluation, policies: PolicySet, audit: AuditLog | None = None
    ) -> None:
        require_enforceable(evaluation, also=(APPROVED_SCOPES,), one_query=True)
        viewed = viewed_targets(evaluation.registry)
        self._setup(policies, valid_approvals(evaluation.registry), viewed, audit)
        self._engine.add_data({DATA_PATH: lean_registry_data(evaluation)})

    @classmethod
    def from_checked(
        cls,
        data_json: bytes,
        floor: Mapping[str, ApprovedScope],
        viewed: dict[str, ViewedTarget],
        policies: PolicySet,
        audit: AuditLog | None = None,
    ) -> Authorizer:
        """From a registry another process checked (authz/validate.py): the lean data as
        lean_registry_data() encoded it, and the floor's approvals."""
        authorizer = cls.__new__(cls)
        authorizer._setup(policies, dict(floor), viewed, audit)
        authorizer._engine.add_data_json(DATA_PATH, data_json)
        return authorizer

    def _setup(
        self,
        policies: PolicySet,
        floor: dict[str, ApprovedScope],
        viewed: dict[str, ViewedTarget],
        audit: AuditLog | None,
    ) -> None:
        self._engine = EmbeddedEngine(policies.without_tests())
        self._floor = floor
        self._floor_by_viewer = _by_viewer(self._floor.values())
        self._withdrawn: frozenset[str] = frozenset()
        self.viewed = viewed  # targets with a url_scheme (forward-auth)
        self.policy_version = policies.version
        self.audit = audit
        if audit is not None:
            audit.policy_version = policies.version

    @property
    def approvals(self) -> Mapping[str, ApprovedScope]:
        """The approvals that can allow anything (those that pass the floor)."""
        return self._floor

    def without(self, withdrawn: Iterable[str]) -> Authorizer:
        """The same policy and registry, less some approvals: none of them allows any more
        (the floor no longer knows them). Shares the engine; this one stays as it is."""
        narrowed = copy.copy(self)
        narrowed._withdrawn = frozenset(withdrawn)
        narrowed._floor = {k: v for k, v in self._floor.items() if k not in narrowed._withdrawn}
        narrowed._floor_by_viewer = _by_viewer(narrowed._floor.values())
        return narrowed

    def evaluate(self, q: dict[str, str]) -> AuthzDecision:
        """The policy's decision, standing as an ALLOW only if the approval floor agrees; not
        logged (the caller logs it before answering)."""
        try:
            decision = AuthzDecision.model_validate(self._engine.evaluate(DECISION_ENTRYPOINT, q))
        except (EngineError, ValidationError) as exc:  # undefined, engine error, bad shape
            raise EngineError(f"authorization could not be decided: {exc}") from exc
        if decision.allow:
            decision = self._floor_check(decision, q)
        return decision

    def evaluate_span(self, q: dict[str, Any]) -> AuthzDecision:
        """The policy's coverage of a span {principal, camera, from, to, now} (or a listing,
        {..., listing: true}), standing as an ALLOW only if the approval floor agrees."""
        try:
            decision = AuthzDecision.model_validate(self._engine.evaluate(COVERAGE_ENTRYPOINT, q))
        except (EngineError, ValidationError) as exc:
            raise EngineError(f"authorization could not be decided: {exc}") from exc
        scope = self._floor.get(decision.request or "")
        span = None if q.get("listing") else (_moment(q["from"]), _moment(q["to"]))
        if not decision.allow or (
            scope is not None
            and scope.lets_see_span(q["principal"], q["camera"], span, _moment(q["now"]))
        ):
            return decision
        return AuthzDecision(allow=False, request=decision.request, reason=FLOOR_DENIAL)

    def allows(self, q: dict[str, str]) -> AuthzDecision:
        """The answer to "allow?" alone. An ALLOW needs the policy and the floor, so when the
        floor (plain Python, microseconds) says no, that is the answer and the policy is not
        asked; otherwise the policy decides as in evaluate()."""
        if not self._floor_lets_see(q):
            return FLOOR_DENIED
        return self.evaluate(q)

    def decide(self, q: dict[str, str], caller: str = "cli", replay: bool = False) -> AuthzDecision:
        decision = self.evaluate(q)
        if self.audit is not None:  # the decision is only returned once it is logged
            self.audit.append(
                "authorize",
                caller=caller,
                principal=q["principal"],
                camera=q["camera"],
                footage_at=q["at"],
                now=q["now"],
                replay=replay,
                allow=decision.allow,
                request=decision.request,
            )
        return decision

    def _floor_lets_see(self, q: dict[str, str]) -> bool:
        scopes = self._floor_by_viewer.get((q["principal"], q["camera"]))
        if not scopes:
            return False
        at, now = _moment(q["at"]), _moment(q["now"])
        return any(scope.lets_see(q["principal"], q["camera"], at, now) for scope in scopes)

    def _floor_check(self, decision: AuthzDecision, q: dict[str, str]) -> AuthzDecision:
        """An ALLOW stands only if the approval floor, reading the registry itself, agrees."""
        scope = self._floor.get(decision.request or "")
        if scope is not None and scope.lets_see(
            q["principal"], q["camera"], _moment(q["at"]), _moment(q["now"])
        ):
            return decision
        if decision.request in self._withdrawn:
            reason = (
                f"the approval of {decision.request} was changed on disk (revoked, removed or "
                "edited) while the registry cannot be reloaded; access is denied"
            )
        else:
            reason = (
                f"the approval of {decision.request} does not pass the "
                "independent approval check; access is denied"
            )
        return AuthzDecision(allow=False, request=decision.request, reason=reason)


def _by_viewer(scopes: Iterable[ApprovedScope]) -> dict[tuple[str, str], list[ApprovedScope]]:
    """(person, camera) -> the approvals that may let that person see that camera."""
    index: dict[tuple[str, str], list[ApprovedScope]] = {}
    for scope in scopes:
        for person in scope.recipients:
            for camera in scope.cameras:
                index.setdefault((person, camera), []).append(scope)
    return index
