"""The periodic inspection report (R12): what the security office reviews and feeds back to
units. Data first (build_inspection), then two renderings (Markdown, HTML with SVG charts)."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from cctv_policy.audit.anchor import AuditCheck, check_log
from cctv_policy.audit.query import entries
from cctv_policy.registry.models import Feedback, ViolationRecord
from cctv_policy.reports.device_health import DeviceHealth, read_device_health
from cctv_policy.rulebook.devices import Silent, silent_cameras
from cctv_policy.rulebook.due import DueReport, due_reports
from cctv_policy.rulebook.enforcement import enforcement_decision
from cctv_policy.rulebook.evaluation import Evaluation
from storage_backends.base import Backend
from storage_backends.listing import oldest_segment, unmanaged_entries


@dataclass
class CameraRow:
    id: str
    name: str
    zone: str
    storage: str
    problems: list[str]
    oldest: datetime | None = None
    age_days: float | None = None
    kept_by: str | None = None  # the protection that keeps footage past retention

    def over_retention(self, retention_days: int) -> bool:
        """Older than retention (plus a day of sweep slack) with nothing protecting it."""
        return (
            self.age_days is not None
            and self.age_days > retention_days + 1
            and self.kept_by is None
        )


@dataclass
class Inspection:
    now: datetime
    period: tuple[datetime, datetime]
    retention_days: int
    policy_version: str
    cameras: list[CameraRow]
    outcomes_by_unit: dict[str, Counter[str]]
    purposes: Counter[str]
    per_month_unit: dict[str, Counter[str]]
    grants: list[dict] = field(default_factory=list)
    revokes: list[dict] = field(default_factory=list)
    extractions: list[dict] = field(default_factory=list)
    owed: list[DueReport] = field(default_factory=list)
    violations: Counter[str] = field(default_factory=Counter)
    violation_lines: list[str] = field(default_factory=list)
    audit: AuditCheck | None = None
    storage_notes: dict[str, str] = field(default_factory=dict)
    unmanaged: list[tuple[str, str, str]] = field(default_factory=list)  # target, entry, why
    # Device health (R12): per camera whose storage was read; silent ones by the rule book.
    health: dict[str, DeviceHealth] = field(default_factory=dict)
    silent: list[Silent] = field(default_factory=list)
    silent_after_hours: int = 24
    # camera -> (when, by whom) of its newest maintenance record (R2).
    last_service: dict[str, tuple[datetime, str]] = field(default_factory=dict)
    # The violations register (R12) and detected violations missing from it past the deadline.
    register: list[ViolationRecord] = field(default_factory=list)
    unregistered: list[Unregistered] = field(default_factory=list)
    register_within_days: int = 7
    # Unit feedback (R12): what units reported, and FEEDBACK_OVERDUE messages.
    feedback: list[Feedback] = field(default_factory=list)
    feedback_owed: list[str] = field(default_factory=list)


def build_inspection(
    evaluation: Evaluation,
    period: tuple[datetime, datetime],
    backends: dict[str, Backend],
    audit_path: Path | None,
) -> Inspection:
    registry, now, policy_version = evaluation.registry, evaluation.now, evaluation.policy_version
    assert registry.config is not None
    check = evaluation.check()
    decision = enforcement_decision(evaluation)
    by_camera: dict[str, list[str]] = defaultdict(list)
    for v in check.violations:
        if v.subject.startswith("camera:"):
            by_camera[v.subject.split(":", 1)[1]].append(v.code)
    cameras = [
        CameraRow(c.id, c.name, c.zone, c.storage, by_camera.get(c.id, []))
        for c in sorted(registry.cameras.values(), key=lambda c: c.id)
    ]
    notes: dict[str, str] = {}
    unmanaged: list[tuple[str, str, str]] = []
    for row in cameras:
        backend = backends.get(row.storage)
        if backend is None:
            notes.setdefault(row.storage, "not read (storage not reachable from here)")
            continue
        oldest = oldest_segment(backend, row.id)
        if oldest is not None:
            row.oldest = oldest.start
            row.age_days = (now - oldest.start).total_seconds() / 86400
            row.kept_by = next(
                (
                    p.id
                    for p in decision.protections
                    if p.until > now and p.covers(row.id, oldest.start, oldest.end)
                ),
                None,
            )

    health = {
        row.id: read_device_health(backends[row.storage], row.id, period)
        for row in cameras
        if row.storage in backends
    }
    for backend in backends.values():
        unmanaged += [
            (u.target, u.key, u.reason) for u in unmanaged_entries(backend, registry.camera_targets)
        ]

    start, end = period
    outcomes: dict[str, Counter[str]] = defaultdict(Counter)
    purposes: Counter[str] = Counter()
    per_month: dict[str, Counter[str]] = defaultdict(Counter)
    for request_id, request in registry.requests.items():
        if not start <= request.submitted_at < end:
            continue
        office = registry.decisions.get(request_id)
        outcomes[request.unit][office.decision if office else "pending"] += 1
        purposes[request.purpose.category] += 1
        per_month[request.submitted_at.strftime("%Y-%m")][request.unit] += 1

    inspection = Inspection(
        now,
        period,
        registry.config.retention_days,
        policy_version,
        cameras,
        dict(outcomes),
        purposes,
        dict(sorted(per_month.items())),
        storage_notes=notes,
        unmanaged=unmanaged,
    )
    inspection.health = health
    inspection.silent_after_hours = registry.config.silent_after_hours
    newest = {c: h.newest for c, h in health.items() if h.newest is not None}
    inspection.silent = silent_cameras(evaluation, health, newest)
    rows = {row.id: row for row in cameras}
    for finding in inspection.silent:
        rows[finding.camera].problems.append("CAMERA_SILENT")
    inspection.last_service = _last_service(evaluation)
    inspection.register = list(registry.violation_register.values())
    inspection.unregistered = unregistered(evaluation)
    inspection.register_within_days = registry.config.register_within_days
    inspection.feedback = list(registry.feedback.values())
    inspection.feedback_owed = [v.message for v in check.violations if v.code == "FEEDBACK_OVERDUE"]
    inspection.owed = [d for d in due_reports(evaluation) if d.state == "overdue"]
    inspection.violations = Counter(v.code for v in check.violations)
    inspection.violations["CAMERA_SILENT"] += len(inspection.silent)
    inspection.violation_lines = [
        f"{v.file}:{v.line} {v.code} {v.message}" for v in check.violations
    ]
    if audit_path is not None and audit_path.exists():
        inspection.audit = check_log(audit_path)
        for entry in entries(audit_path):
            at = datetime.fromisoformat(entry["at"])
            if not start <= at < end:
                continue
            if entry["event"] == "grant":
                inspection.grants.append(entry)
            elif entry["event"] == "revoke":
                inspection.revokes.append(entry)
            elif entry["event"] == "extract_finished":
                inspection.extractions.append(entry)
    return inspection


def _last_service(evaluation: Evaluation) -> dict[str, tuple[datetime, str]]:
    newest: dict[str, tuple[datetime, str]] = {}
    for record in evaluation.registry.maintenance.values():
        if record.camera not in newest or record.performed_at > newest[record.camera][0]:
            newest[record.camera] = (record.performed_at, record.performed_by)
    return newest


@dataclass(frozen=True)
class Unregistered:
    """A detected error-level violation with no register entry after the deadline."""

    code: str
    subject: str
    since: str
    message: str


def unregistered(evaluation: Evaluation) -> list[Unregistered]:
    raw = evaluation.evaluate("cctv/register_due/unregistered")
    items = [Unregistered(i["code"], i["subject"], i["since"], i["message"]) for i in raw or []]
    return sorted(items, key=lambda u: (u.since, u.subject, u.code))
