"""The viewing point: GET /v1/forward-auth, for nginx `auth_request`, Traefik `ForwardAuth`
and Caddy `forward_auth` in front of a recorder or a footage tree.

The proxy asks before serving each request: the original method and URI (`X-Original-Method`
and `X-Original-URI` from nginx, `X-Forwarded-Method` and `X-Forwarded-Uri` from Traefik and
Caddy) and the viewer, in a header (`X-Remote-User` unless configured otherwise) that only a
configured proxy address may assert: from any other peer the answer is 403, whatever the
headers say; and where serve has bearer tokens, the proxy must present one. The URI is mapped
to cameras and a span of footage through the target's url_scheme (url_schemes.py; the target is
`?target=<id>` on this URL, or the only target with a url_scheme) and the answer is 200 only
when a valid approval covers that person, every camera and the whole span now (the policy's
data.cctv.authz.coverage and the approval floor); 401 without a viewer, 403 otherwise, with
the reason in `X-Cctv-Reason`. Every answer is audit-logged (an "authorize" entry) first.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, field_validator

from cctv_policy.audit.log import AuditError
from cctv_policy.authz.clock import ClockSteppedBack
from cctv_policy.authz.decide import PERSON_ID, AuthzDecision
from cctv_policy.authz.decision_ids import new_decision_id
from cctv_policy.authz.uri_safety import AmbiguousUri
from cctv_policy.authz.url_schemes import Footage, Unmappable, ViewedTarget, footage_of
from cctv_policy.engine.base import EngineError
from cctv_policy.output import printable
from cctv_policy.registry.types import format_utc

if TYPE_CHECKING:  # (http.py imports this module: no import back at run time)
    from cctv_policy.authz.http import DecisionApp, Request

FORWARD_AUTH_PATH = "/v1/forward-auth"
VIEWING_METHODS = ("GET", "HEAD")  # watching footage; anything else is refused
_HEADER_NAME = re.compile(r"[A-Za-z0-9-]{1,64}")


class ForwardAuthSettings(BaseModel):
    """Who may ask: proxy addresses (or networks), and the header naming the viewer."""

    model_config = ConfigDict(frozen=True)

    proxies: tuple[str, ...] = ()
    user_header: str = "X-Remote-User"

    @field_validator("proxies")
    @classmethod
    def _networks(cls, proxies: tuple[str, ...]) -> tuple[str, ...]:
        for proxy in proxies:
            ipaddress.ip_network(proxy, strict=False)  # ValueError names the bad one
        return proxies

    @field_validator("user_header")
    @classmethod
    def _header(cls, name: str) -> str:
        if not _HEADER_NAME.fullmatch(name):
            raise ValueError(f"{name!r} is not a header name")
        return name

    def trusts(self, peer: str) -> bool:
        try:
            address = ipaddress.ip_address(peer)
        except ValueError:
            return False
        return any(address in ipaddress.ip_network(p, strict=False) for p in self.proxies)


@dataclass(frozen=True)
class Verdict:
    status: int
    document: dict[str, Any]
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)


class Denied(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass
class Asked:
    """What one forward-auth request asked, as far as it could be read (for the audit log)."""

    peer: str
    principal: str | None = None
    method: str | None = None
    uri: str | None = None
    target: ViewedTarget | None = None
    footage: Footage | None = None
    now: datetime | None = None
    decisions: list[AuthzDecision] = field(default_factory=list)


class ForwardAuth:
    def __init__(self, app: DecisionApp, settings: ForwardAuthSettings) -> None:
        self.app = app
        self.settings = settings

    async def answer(self, request: Request, proxy_token_given: bool) -> Verdict:
        asked = Asked(peer=request.client)
        try:
            self._read(request, proxy_token_given, asked)
            status, reason = self._decide(asked)
        except Denied as denial:
            status, reason = denial.status, denial.reason
        except EngineError as exc:
            status, reason = 500, f"{exc}; no decision, so access is denied"
        return await self._logged(asked, status, reason)

    def _read(self, request: Request, proxy_token_given: bool, asked: Asked) -> None:
        if not self.settings.trusts(request.client):
            raise Denied(403, f"{request.client} is not a configured forward-auth proxy")
        if self.app.tokens and not proxy_token_given:
            raise Denied(403, "the proxy presented no valid bearer token")
        principal = _one(request, self.settings.user_header)
        if not principal:
            raise Denied(401, f"no viewer: the proxy sent no {self.settings.user_header}")
        asked.principal = printable(principal)[:80]
        if not PERSON_ID.fullmatch(principal):
            raise Denied(403, f"the viewer {asked.principal!r} is not a person id")
        asked.principal = principal
        asked.method = _agreed(request, "x-original-method", "x-forwarded-method") or "GET"
        if asked.method not in VIEWING_METHODS:
            raise Denied(403, f"{printable(asked.method)[:20]} is not a way of watching footage")
        asked.uri = _agreed(request, "x-original-uri", "x-forwarded-uri")
        if not asked.uri:
            raise Denied(403, "the proxy sent no original URI")
        asked.target = self._target(request)
        try:
            asked.now = self.app.clock.now()
        except ClockSteppedBack as exc:
            raise Denied(503, str(exc)) from exc
        try:
            asked.footage = footage_of(asked.target, asked.uri, asked.now)
        except (AmbiguousUri, Unmappable) as exc:
            raise Denied(403, f"{exc}; a URI that cannot be read one way is refused") from exc

    def _target(self, request: Request) -> ViewedTarget:
        viewed = self.app.state.snapshot.authorizer.viewed
        named = request.query.get("target")
        if named is not None:
            if len(named) != 1 or named[0] not in viewed:
                raise Denied(403, f"{printable(named)[:80]} is not a target with a url_scheme")
            return viewed[named[0]]
        if len(viewed) != 1:
            raise Denied(403, "name the target: ?target=<id> (no single target has a url_scheme)")
        return next(iter(viewed.values()))

    def _decide(self, asked: Asked) -> tuple[int, str]:
        assert asked.footage is not None and asked.principal and asked.now is not None
        authorizer = self.app.state.snapshot.authorizer
        for camera in asked.footage.cameras:
            q: dict[str, Any] = {"principal": asked.principal, "camera": camera}
            if asked.footage.span is None:
                q["listing"] = True
            else:
                q["from"], q["to"] = (format_utc(moment) for moment in asked.footage.span)
            q["now"] = format_utc(asked.now)
            decision = authorizer.evaluate_span(q)
            asked.decisions.append(decision)
            if not decision.allow:
                return 403, decision.reason
        return 200, "; ".join(decision.reason for decision in asked.decisions)

    async def _logged(self, asked: Asked, status: int, reason: str) -> Verdict:
        decision_id = new_decision_id()
        allow = status == 200
        details = _details(asked, status, reason, self.app.clock.injected)
        snapshot = self.app.state.snapshot
        details |= {
            "decision_id": decision_id,
            "registry_revision": snapshot.revision.digest,
            "registry_commit": snapshot.revision.commit,
        }
        try:
            await self.app.committer.submit_async("authorize", details)
        except AuditError as exc:
            allow, status = False, 500
            reason = f"the decision could not be audit-logged ({exc}); access is denied"
        shown = printable(reason)[:400]
        headers = [
            (b"x-cctv-reason", shown.encode("ascii", "replace")),
            (b"x-cctv-decision-id", decision_id.encode()),
        ]
        document = {"allow": allow, "reason": shown, "decision_id": decision_id}
        return Verdict(status, document, headers)


def _details(asked: Asked, status: int, reason: str, replay: bool) -> dict[str, Any]:
    footage = asked.footage
    cameras = list(footage.cameras) if footage else []
    span = footage.span if footage else None
    requests = sorted({d.request for d in asked.decisions if d.request})
    return {
        "caller": f"http:{asked.peer}",
        "path": FORWARD_AUTH_PATH,
        "principal": asked.principal,
        "camera": cameras[0] if len(cameras) == 1 else (cameras or None),
        "footage_from": format_utc(span[0]) if span else None,
        "footage_to": format_utc(span[1]) if span else None,
        "listing": bool(footage and span is None),
        "now": format_utc(asked.now) if asked.now else None,
        "replay": replay,
        "allow": status == 200,
        "request": requests[0] if len(requests) == 1 else (requests or None),
        "status": status,
        "reason": printable(reason)[:400],
        "method": printable(asked.method)[:20] if asked.method else None,
        "uri": printable(asked.uri)[:400] if asked.uri else None,
        "target": asked.target.id if asked.target else None,
        "url_scheme": asked.target.scheme if asked.target else None,
        "footage": footage.what if footage else None,
    }


def _values(request: Request, name: str) -> Sequence[str]:
    wanted = name.lower().encode("latin-1")
    return [value.decode("latin-1") for key, value in request.raw_headers if key.lower() == wanted]


def _one(request: Request, name: str) -> str | None:
    """A header sent at most once (twice: which one counts is a reader's guess)."""
    values = _values(request, name)
    if len(values) > 1:
        raise Denied(403, f"{name} was sent {len(values)} times")
    return values[0].strip() if values else None


def _agreed(request: Request, *names: str) -> str | None:
    """One value from whichever of the headers was sent; several that differ are refused."""
    found = {value for value in (_one(request, name) for name in names) if value is not None}
    if len(found) > 1:
        raise Denied(403, f"{' and '.join(names)} disagree")
    return found.pop() if found else None
