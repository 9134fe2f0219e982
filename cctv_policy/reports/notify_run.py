"""One `notify` run (#28): route each due notice to its recipients (an e-mail per person with
an address, a post per webhook whose audiences it concerns), skip what was already sent today,
send the rest and log each delivery in the audit log: `notice_sent` when it was accepted,
`notice_failed` when not (it stays due). A dry run sends and logs nothing."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from cctv_policy.audit.log import AuditLog
from cctv_policy.registry.notify_settings import NotificationSettings
from cctv_policy.reports.delivery import (
    DeliveryError,
    Message,
    SmtpTransport,
    Transport,
    WebhookTransport,
)
from cctv_policy.reports.notify import FAILED, SENT, Notice, campus_day, due_notices, people_for
from cctv_policy.reports.notify import read_log as read_notify_log
from cctv_policy.rulebook.evaluation import Evaluation
from storage_backends.base import Backend


@dataclass(frozen=True)
class Delivery:
    notice: Notice
    recipient: str  # email:<person id> or webhook:<id>
    channel: str  # email, wecom, dingtalk, json
    transport: Transport | None  # None: a person without an e-mail address, or no SMTP
    address: str | None = None


@dataclass
class Outcome:
    delivery: Delivery
    sent: bool = False
    error: str | None = None

    def as_json(self) -> dict[str, Any]:
        n = self.delivery.notice
        return {
            "kind": n.kind,
            "subject": n.subject,
            "recipient": self.delivery.recipient,
            "channel": self.delivery.channel,
            "title": n.title,
            "sent": self.sent,
            "error": self.error,
        }


@dataclass
class NotifyRun:
    now: datetime
    day: str
    dry_run: bool
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.error is not None]

    def as_json(self) -> dict[str, Any]:
        return {
            "now": self.now.isoformat(),
            "day": self.day,
            "dry_run": self.dry_run,
            "sent": sum(o.sent for o in self.outcomes),
            "failed": len(self.failed),
            "notices": [o.as_json() for o in self.outcomes],
        }


def plan_deliveries(
    evaluation: Evaluation, settings: NotificationSettings, notices: list[Notice]
) -> list[Delivery]:
    smtp = SmtpTransport(settings.email) if settings.email else None
    hooks = [(w, WebhookTransport(w)) for w in settings.webhooks]
    people = evaluation.registry.people
    deliveries = []
    for notice in notices:
        for person_id in people_for(evaluation, notice, settings.admins):
            person = people.get(person_id)
            if person is None or person.email is None or smtp is None:
                continue
            deliveries.append(Delivery(notice, f"email:{person_id}", "email", smtp, person.email))
        for hook, transport in hooks:
            if notice.audiences & set(hook.audiences):
                deliveries.append(Delivery(notice, f"webhook:{hook.id}", hook.kind, transport))
    return deliveries


def run_notify(
    evaluation: Evaluation,
    backends: Mapping[str, Backend],
    audit_path: Path,
    dry_run: bool,
) -> NotifyRun:
    registry = evaluation.registry
    assert registry.config is not None
    settings = registry.config.notifications
    day = campus_day(evaluation.now, registry.config.timezone)
    sent, problems = read_notify_log(audit_path)
    notices = due_notices(evaluation, backends, problems, settings.pending_after_hours)
    run = NotifyRun(evaluation.now, day, dry_run)
    audit = None if dry_run else AuditLog(audit_path, policy_version=evaluation.policy_version)
    for delivery in plan_deliveries(evaluation, settings, notices):
        if sent.already(delivery.notice, delivery.recipient, day):
            continue
        outcome = Outcome(delivery)
        run.outcomes.append(outcome)
        if audit is not None:
            _deliver(outcome, audit, day)
    return run


def _deliver(outcome: Outcome, audit: AuditLog, day: str) -> None:
    delivery, notice = outcome.delivery, outcome.delivery.notice
    details = {
        "kind": notice.kind,
        "subject": notice.subject,
        "recipient": delivery.recipient,
        "channel": delivery.channel,
        "day": day,
    }
    assert delivery.transport is not None
    message = Message(notice.kind, notice.subject, notice.title, notice.body, delivery.address)
    try:
        delivery.transport.send(message)
    except DeliveryError as exc:
        outcome.error = str(exc)
        audit.record_refusal(FAILED, **details, reason=outcome.error)
        return
    # Logged after it was accepted: a crash in between sends it once more, never not at all.
    audit.append(SENT, **details)
    outcome.sent = True
