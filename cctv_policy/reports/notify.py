"""What is due to be told, to whom (#28): overdue usage reports (R11) to the applicant and the
security office; silent cameras (R2/R12) and overdue service (R2) to the technicians; requests
waiting for a decision (R5) to the security office; a refused or failed apply to the admins.

The findings are the rule book's (the same due reports, CAMERA_SILENT and
CAMERA_MAINTENANCE_OVERDUE that `reports`, `report` and `check` show); a warning waived by a
waiver in force is not chased. A notice is sent at most once per campus day per (kind,
subject, recipient) and a refused apply once ever; what was sent is read back from the audit
log (`notice_sent`), so a delivery that failed is simply due again next run."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from cctv_policy.audit.query import entries
from cctv_policy.registry.models import Role
from cctv_policy.reports import notify_text
from cctv_policy.reports.device_health import newest_footage
from cctv_policy.rulebook.devices import silent_cameras
from cctv_policy.rulebook.due import due_reports
from cctv_policy.rulebook.evaluation import Evaluation
from cctv_policy.violations import Severity
from cctv_policy.waivers import is_waived, waivers_in_force
from storage_backends.base import Backend

SENT = "notice_sent"
FAILED = "notice_failed"
# Audit events that mean apply refused, failed, or refused part of its work (the safety floor).
APPLY_PROBLEMS = frozenset({"apply_refused", "apply_failed", "delete_refused", "grant_refused"})
# A refused apply older than this when notify first sees it is history, not news.
APPLY_LOOKBACK = timedelta(days=7)
ONCE_EVER = frozenset({"apply_refused"})
# The run's clock is whole seconds; an entry written this very second is not "in the future".
_LATE = timedelta(seconds=1)


@dataclass(frozen=True)
class Notice:
    # report_overdue, camera_silent, maintenance_overdue, request_pending or apply_refused
    kind: str
    subject: str  # request:REQ-..., camera:CAM-..., audit:<seq>
    audiences: frozenset[str]
    title: str
    body: str
    applicant: str | None = None  # the person the applicant audience means


@dataclass(frozen=True)
class Sent:
    """What the audit log says was sent: (kind, subject, recipient) by campus day."""

    by_day: frozenset[tuple[str, str, str, str]]
    ever: frozenset[tuple[str, str, str]]

    def already(self, notice: Notice, recipient: str, day: str) -> bool:
        if notice.kind in ONCE_EVER:
            return (notice.kind, notice.subject, recipient) in self.ever
        return (notice.kind, notice.subject, recipient, day) in self.by_day


def campus_day(now: datetime, zone: str) -> str:
    return now.astimezone(ZoneInfo(zone)).date().isoformat()


def read_log(audit_path: Path) -> tuple[Sent, list[dict[str, Any]]]:
    """One pass over the audit log: the notices sent, and apply's refusals and failures."""
    by_day: set[tuple[str, str, str, str]] = set()
    ever: set[tuple[str, str, str]] = set()
    problems: list[dict[str, Any]] = []
    if audit_path.exists():
        for entry in entries(audit_path):
            event = entry.get("event")
            if event == SENT:
                key = (
                    str(entry.get("kind")),
                    str(entry.get("subject")),
                    str(entry.get("recipient")),
                )
                ever.add(key)
                by_day.add((*key, str(entry.get("day"))))
            elif event in APPLY_PROBLEMS or (
                event == "refused" and entry.get("command") == "apply"
            ):
                problems.append(entry)
    return Sent(frozenset(by_day), frozenset(ever)), problems


def _apply_problem(entry: dict[str, Any]) -> bool:
    event = entry.get("event")
    return event in APPLY_PROBLEMS or (event == "refused" and entry.get("command") == "apply")


def due_notices(
    evaluation: Evaluation,
    backends: Mapping[str, Backend],
    apply_problems: Iterable[dict[str, Any]],
    pending_after_hours: int,
) -> list[Notice]:
    notices = _overdue_reports(evaluation) + _devices(evaluation, backends)
    notices += _pending(evaluation, pending_after_hours)
    notices += _apply_problems(evaluation, apply_problems)
    return notices


def _overdue_reports(evaluation: Evaluation) -> list[Notice]:
    zone = _zone(evaluation)
    return [
        Notice(
            "report_overdue",
            f"request:{due.request}",
            frozenset({"applicant", "security_office"}),
            *notify_text.report_overdue(due.request, due.applicant, due.due, due.days_late, zone),
            applicant=due.applicant,
        )
        for due in due_reports(evaluation)
        if due.state == "overdue"
    ]


def _devices(evaluation: Evaluation, backends: Mapping[str, Backend]) -> list[Notice]:
    registry, zone = evaluation.registry, _zone(evaluation)
    assert registry.config is not None
    check = evaluation.check()
    in_force = waivers_in_force(registry, check.violations, evaluation.now)
    cameras_read, newest = newest_footage(backends, registry.camera_targets)
    technicians = frozenset({"technician"})
    notices = []
    for silent in silent_cameras(evaluation, cameras_read, newest):
        subject = f"camera:{silent.camera}"
        if is_waived(in_force, "CAMERA_SILENT", subject, Severity.warning):
            continue
        name = registry.cameras[silent.camera].name
        hours = registry.config.silent_after_hours
        text = notify_text.camera_silent(
            silent.camera, name, newest.get(silent.camera), hours, zone
        )
        notices.append(Notice("camera_silent", subject, technicians, *text))
    for violation in check.violations:  # waived ones are not among them
        camera = violation.subject.partition(":")[2]
        if violation.code == "CAMERA_MAINTENANCE_OVERDUE" and camera in registry.cameras:
            text = notify_text.maintenance_overdue(
                camera,
                registry.cameras[camera].name,
                _last_service(evaluation, camera),
                registry.config.maintenance_interval_days,
                zone,
            )
            notices.append(Notice("maintenance_overdue", violation.subject, technicians, *text))
    return notices


def _last_service(evaluation: Evaluation, camera: str) -> datetime:
    """The camera's newest service, or its installation (as devices.rego counts)."""
    registry = evaluation.registry
    times = [m.performed_at for m in registry.maintenance.values() if m.camera == camera]
    return max([*times, registry.cameras[camera].installed_on])


def _pending(evaluation: Evaluation, after_hours: int) -> list[Notice]:
    registry, zone = evaluation.registry, _zone(evaluation)
    cutoff = evaluation.now - timedelta(hours=after_hours)
    notices = []
    for request_id, request in sorted(registry.requests.items()):
        decision = registry.decisions.get(request_id)
        decided = decision is not None and (
            decision.request_sha256 == registry.request_sha256.get(request_id)
        )
        if decided or request.submitted_at > cutoff:
            continue
        text = notify_text.request_pending(
            request_id, request.applicant, request.submitted_at, zone
        )
        notices.append(
            Notice(
                "request_pending", f"request:{request_id}", frozenset({"security_office"}), *text
            )
        )
    return notices


def _apply_problems(evaluation: Evaluation, problems: Iterable[dict[str, Any]]) -> list[Notice]:
    zone, since = _zone(evaluation), evaluation.now - APPLY_LOOKBACK
    notices = []
    for entry in problems:
        try:
            at = datetime.fromisoformat(str(entry["at"]))
            seq = int(entry["seq"])
        except (KeyError, ValueError, TypeError):
            continue
        if not since <= at <= evaluation.now + _LATE:
            continue
        reason = str(entry.get("reason") or entry.get("keys") or entry.get("day") or "")
        text = notify_text.apply_refused(str(entry.get("event")), at, reason, zone)
        notices.append(Notice("apply_refused", f"audit:{seq}", frozenset({"admin"}), *text))
    return notices


def _zone(evaluation: Evaluation) -> str:
    assert evaluation.registry.config is not None
    return evaluation.registry.config.timezone


def people_for(evaluation: Evaluation, notice: Notice, admins: list[str]) -> list[str]:
    """The person ids a notice is for, by its audiences."""
    people = evaluation.registry.people
    chosen: set[str] = set()
    for audience in notice.audiences:
        if audience == "applicant" and notice.applicant:
            chosen.add(notice.applicant)
        elif audience in ("security_office", "technician"):
            chosen |= {p.id for p in people.values() if Role(audience) in p.roles}
        elif audience == "admin":
            chosen |= set(admins) or {
                p.id for p in people.values() if Role.security_office in p.roles
            }
    return sorted(chosen)
