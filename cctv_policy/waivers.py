"""Waivers (#28): a warning the security office acknowledged until a date is shown as waived
and not counted. Whether a waiver stands is the rule book's call (policies/cctv/waivers.rego):
one with any finding of its own (expired, not by the office, a code that cannot be waived, an
unknown person) waives nothing. Here only the floor: an error is never waived, whatever a
rule book says, and neither is anything once the waiver's `until` has passed."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from cctv_policy.registry.loaded import LoadedRegistry
from cctv_policy.registry.models import Waiver
from cctv_policy.violations import Severity, Violation


@dataclass(frozen=True)
class Waived:
    """A warning set aside by a waiver in force."""

    violation: Violation
    waiver: str
    until: datetime


def waivers_in_force(
    registry: LoadedRegistry, findings: Iterable[Violation], now: datetime
) -> dict[tuple[str, str], Waiver]:
    """(code, subject) -> the waiver that acknowledges it, for waivers with no finding."""
    judged = {v.subject for v in findings}
    return {
        (w.code, w.subject): w
        for w in sorted(registry.waivers.values(), key=lambda w: w.id)
        if f"waiver:{w.id}" not in judged and w.until > now
    }


def is_waived(
    in_force: dict[tuple[str, str], Waiver], code: str, subject: str, severity: Severity
) -> Waiver | None:
    """The waiver in force for a finding, or None; never for an error."""
    if severity is not Severity.warning:
        return None
    return in_force.get((code, subject))


def split_waived(
    registry: LoadedRegistry, violations: list[Violation], now: datetime, policies_ran: bool
) -> tuple[list[Violation], list[Waived]]:
    """The violations that count, and the warnings waivers in force set aside. Nothing is
    waived when the rule book did not run: no waiver was judged."""
    if not policies_ran or not registry.waivers:
        return violations, []
    in_force = waivers_in_force(registry, violations, now)
    kept: list[Violation] = []
    waived: list[Waived] = []
    for violation in violations:
        waiver = is_waived(in_force, violation.code, violation.subject, violation.severity)
        if waiver is None:
            kept.append(violation)
        else:
            waived.append(Waived(violation, waiver.id, waiver.until))
    return kept, waived
