"""Authorization decisions over a registry loaded once as OPA data."""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ValidationError

from cctv_policy.audit.log import AuditLog
from cctv_policy.checks.input_doc import build_input
from cctv_policy.engine.base import Engine, EngineError
from cctv_policy.engine.embedded import EmbeddedEngine
from cctv_policy.engine.policies import PolicySet
from cctv_policy.registry.approvals import valid_approvals
from cctv_policy.registry.loader import LoadedRegistry
from cctv_policy.registry.types import format_utc, parse_rfc3339

DECISION_ENTRYPOINT = "cctv/authz/decision"
VALID_APPROVALS_ENTRYPOINT = "cctv/approvals/valid"
DATA_PATH = "cctv_registry"


class AuthzDecision(BaseModel):
    allow: bool
    reason: str
    request: str | None = None


def registry_data(registry: LoadedRegistry, now: datetime, engine: Engine) -> dict[str, Any]:
    """The registry as the authz policy reads it, with its person -> request index and the
    approvals the policies find valid (computed once here: they do not depend on the clock)."""
    document = build_input(registry, now)
    valid = engine.evaluate(VALID_APPROVALS_ENTRYPOINT, document)
    if not isinstance(valid, list):
        raise EngineError("data.cctv.approvals.valid is not a set")
    document["valid_approvals"] = {request_id: True for request_id in valid}
    index: dict[str, list[str]] = {}
    for request_id, request in registry.requests.items():
        for person in request.use.recipients:
            index.setdefault(person, []).append(request_id)
    document["by_recipient"] = index
    return document


def question(principal: str, camera: str, at: datetime, now: datetime) -> dict[str, str]:
    return {"principal": principal, "camera": camera, "at": format_utc(at),
            "now": format_utc(now)}


class Authorizer:
    """The embedded OPA engine with the registry loaded once; thread-safe; audit-logged."""

    def __init__(self, registry: LoadedRegistry, policies: PolicySet, now: datetime,
                 audit: AuditLog | None = None) -> None:
        self._engine = EmbeddedEngine(policies.without_tests())
        self._engine.add_data({DATA_PATH: registry_data(registry, now, self._engine)})
        self._floor = valid_approvals(registry)
        self.policy_version = policies.version
        self.audit = audit
        self._audit_lock = threading.Lock()
        if audit is not None:
            audit.policy_version = policies.version

    def decide(self, q: dict[str, str], caller: str = "cli") -> AuthzDecision:
        try:
            decision = AuthzDecision.model_validate(self._engine.evaluate(DECISION_ENTRYPOINT, q))
        except (EngineError, ValidationError) as exc:  # undefined, engine error, bad shape
            raise EngineError(f"authorization could not be decided: {exc}") from exc
        if decision.allow:
            decision = self._floor_check(decision, q)
        if self.audit is not None:
            with self._audit_lock:  # the decision is only returned once it is logged
                self.audit.append("authorize", caller=caller, **q, allow=decision.allow,
                                  request=decision.request)
        return decision

    def _floor_check(self, decision: AuthzDecision, q: dict[str, str]) -> AuthzDecision:
        """An ALLOW stands only if the approval floor, reading the registry itself, agrees."""
        scope = self._floor.get(decision.request or "")
        if scope is not None and scope.lets_see(q["principal"], q["camera"],
                                                parse_rfc3339(q["at"]), parse_rfc3339(q["now"])):
            return decision
        return AuthzDecision(allow=False, request=decision.request,
                             reason=f"the approval of {decision.request} does not pass the "
                                    "independent approval check; access is denied")
