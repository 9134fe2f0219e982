"""Python's own reading of whether a request is validly approved: the approval floor.

The policies decide which approvals are valid (data.cctv.approvals.valid). Everything that hands
out footage (storage grants, extraction, authorize/serve) also asks this module, which reads the
registry independently of Rego, and acts only when both agree, the way the delete floor guards
deletes: a policy bug can refuse more, never grant more.

An approval passes the floor when the decision is `approved`, pins the request's current content
(request_sha256), was made by a security officer who is neither the applicant nor a recipient
(and, with the filer and the supervisor, holds no more duties than separation of duties allows),
after the request was submitted, only narrows what the request asked for, names only people and
cameras that exist, and allows a third party only with a legal basis. Files the loader could not
read (or read twice) never pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from cctv_policy.registry.loader import LoadedRegistry
from cctv_policy.registry.models import Decision, Request, Role, UseMode

# A decision dated later than now by more than this decides nothing yet (DECISION_IN_FUTURE).
FUTURE_TOLERANCE = timedelta(hours=1)


class NotValidlyApproved(Exception):
    """The request has no valid approval; the message says why."""


@dataclass(frozen=True)
class ApprovedScope:
    """What a valid approval allows: cameras x footage window, during the use period."""

    request: str
    cameras: tuple[str, ...]
    start: datetime
    end: datetime
    use_starts: datetime
    use_ends: datetime
    mode: UseMode
    recipients: tuple[str, ...]
    supervised_by: str | None
    third_party_allowed: bool

    def covers(self, camera: str, start: datetime, end: datetime) -> bool:
        """The footage [start, end) of this camera lies inside the approved window."""
        return camera in self.cameras and self.start <= start and end <= self.end

    def in_use_period(self, now: datetime) -> bool:
        return self.use_starts <= now < self.use_ends

    def lets_see(self, principal: str, camera: str, at: datetime, now: datetime) -> bool:
        """A recipient may see this camera's footage of this moment now (authorize, serve)."""
        return (
            principal in self.recipients
            and camera in self.cameras
            and self.start <= at < self.end
            and self.in_use_period(now)
        )

    def lets_see_span(
        self, principal: str, camera: str, span: tuple[datetime, datetime] | None, now: datetime
    ) -> bool:
        """A recipient may see this camera's footage [start, end) now, all of it (the viewing
        point); span None: a listing of what exists, for a camera approved to them now."""
        return (
            principal in self.recipients
            and self.in_use_period(now)
            and camera in self.cameras
            and (span is None or (span[0] < span[1] and self.covers(camera, *span)))
        )


def approved_scope(registry: LoadedRegistry, request_id: str) -> ApprovedScope:
    """The scope of a valid approval, or NotValidlyApproved with the reason."""
    request = registry.requests.get(request_id)
    decision = registry.decisions.get(request_id)
    if request is None:
        raise NotValidlyApproved(f"there is no request {request_id} (or it cannot be read)")
    if decision is None or decision.decision != "approved":
        state = "not decided yet" if decision is None else "rejected"
        raise NotValidlyApproved(f"{request_id} is {state}")
    _check_files_read(registry, request_id)
    _check_binding(registry, request_id, decision)
    _check_decider(registry, request, decision)
    problem = duties_problem(registry, request, decision, decision.conditions.supervised_by)
    if problem:
        raise NotValidlyApproved(problem)
    scope = _narrowed_scope(request, decision)
    _check_references(registry, scope)
    _check_use(registry, request, decision, scope)
    return scope


def valid_approvals(registry: LoadedRegistry) -> dict[str, ApprovedScope]:
    """Every request whose approval passes the floor."""
    found = {}
    for request_id in registry.decisions:
        try:
            found[request_id] = approved_scope(registry, request_id)
        except NotValidlyApproved:
            continue
    return found


def rejection_in_force(registry: LoadedRegistry, request_id: str, now: datetime) -> bool:
    """A rejection that ends its request's protection: readable, pinned to the request's
    current content, by a security officer, dated after submission and not in the future,
    with a reason. Any other rejection leaves the request pending (its footage is kept),
    as the rule book's data.cctv.approvals.in_force does."""
    request = registry.requests.get(request_id)
    decision = registry.decisions.get(request_id)
    if request is None or decision is None or decision.decision != "rejected":
        return False
    try:
        _check_files_read(registry, request_id)
        _check_binding(registry, request_id, decision)
    except NotValidlyApproved:
        return False
    decider = registry.people.get(decision.decided_by)
    return (
        decider is not None
        and Role.security_office in decider.roles
        and request.submitted_at <= decision.decided_at <= now + FUTURE_TOLERANCE
        and any(reason.strip() for reason in decision.reasons)
    )


def duties_problem(
    registry: LoadedRegistry, request: Request, decision: Decision, supervisor: str | None
) -> str | None:
    """Separation of duties (DECISION_DUTIES_NOT_SEPARATED): who filed the request
    (submitted_by, else the applicant), who approved it and who supervises the extraction
    must be config.separation_of_duties.distinct_people different people (of those named)."""
    assert registry.config is not None
    filer = request.submitted_by or request.applicant
    duties = [filer, decision.decided_by, *([supervisor] if supervisor else [])]
    needed = min(registry.config.separation_of_duties.distinct_people, len(duties))
    if len(set(duties)) >= needed:
        return None
    named = f"filed by {filer}, approved by {decision.decided_by}"
    named += f", supervised by {supervisor}" if supervisor else ""
    return (
        f"{request.id} is {named}: these duties need {needed} different people "
        "(separation_of_duties.distinct_people)"
    )


def _check_files_read(registry: LoadedRegistry, request_id: str) -> None:
    files = {
        f"{folder}/{request_id}.{suffix}"
        for folder in ("requests", "decisions")
        for suffix in ("yaml", "yml")
    }
    troubled = sorted({i.file for i in registry.issues if i.file in files})
    if troubled:
        raise NotValidlyApproved(f"{', '.join(troubled)} could not be read as written")


def _check_binding(registry: LoadedRegistry, request_id: str, decision: Decision) -> None:
    current = registry.request_sha256.get(request_id)
    if decision.request_sha256 is None:
        raise NotValidlyApproved(
            f"the decision on {request_id} does not pin the request (no request_sha256)"
        )
    if decision.request_sha256 != current:
        raise NotValidlyApproved(f"{request_id} was changed after it was decided (stale)")


def _check_decider(registry: LoadedRegistry, request: Request, decision: Decision) -> None:
    decider = registry.people.get(decision.decided_by)
    if decider is None or Role.security_office not in decider.roles:
        raise NotValidlyApproved(f"{decision.decided_by} is not in the security office")
    if decision.decided_by == request.applicant or decision.decided_by in request.use.recipients:
        raise NotValidlyApproved(
            f"{decision.decided_by} decided a request in which they are "
            "the applicant or a recipient"
        )
    if decision.decided_at < request.submitted_at:
        raise NotValidlyApproved("the decision is dated before the request was submitted")


def _narrowed_scope(request: Request, decision: Decision) -> ApprovedScope:
    asked, narrow = request.footage, decision.scope
    cameras = tuple(narrow.cameras) if narrow.cameras is not None else tuple(asked.cameras)
    start, end = narrow.from_ or asked.from_, narrow.to or asked.to
    use_starts = narrow.starts or request.use.starts
    use_ends = narrow.ends or request.use.ends
    widened = [
        what
        for what, bad in (
            ("cameras", not set(cameras) <= set(asked.cameras)),
            ("footage from", start < asked.from_),
            ("footage to", end > asked.to),
            ("use starts", use_starts < request.use.starts),
            ("use ends", use_ends > request.use.ends),
        )
        if bad
    ]
    if widened:
        raise NotValidlyApproved(f"the decision widens what was asked ({', '.join(widened)})")
    if not (start < end and use_starts < use_ends and cameras):
        raise NotValidlyApproved("the approved footage window or use period is empty")
    return ApprovedScope(
        request.id,
        cameras,
        start,
        end,
        use_starts,
        use_ends,
        request.use.mode,
        tuple(request.use.recipients),
        decision.conditions.supervised_by,
        decision.conditions.third_party_allowed,
    )


def _check_references(registry: LoadedRegistry, scope: ApprovedScope) -> None:
    unknown = [c for c in scope.cameras if c not in registry.cameras]
    unknown += [p for p in scope.recipients if p not in registry.people]
    if scope.supervised_by and scope.supervised_by not in registry.people:
        unknown.append(scope.supervised_by)
    if unknown:
        raise NotValidlyApproved(
            f"the approval names what the registry does not have: {', '.join(unknown)}"
        )


def _check_use(
    registry: LoadedRegistry, request: Request, decision: Decision, scope: ApprovedScope
) -> None:
    assert registry.config is not None
    if scope.use_ends - scope.use_starts > timedelta(days=registry.config.max_use_days):
        raise NotValidlyApproved(
            f"the use period is longer than {registry.config.max_use_days} days"
        )
    third_party = request.use.third_party
    if request.use.mode is UseMode.share_external:
        if not decision.conditions.third_party_allowed:
            raise NotValidlyApproved("sharing with a third party is not allowed by the decision")
        if third_party is None or not third_party.legal_basis.strip():
            raise NotValidlyApproved("sharing with a third party needs a legal basis")
    elif third_party is not None:
        raise NotValidlyApproved("a third party is named but the mode is not share_external")
