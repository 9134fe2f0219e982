"""A registry whose approvals are placed around the real clock, for OPA servers of the fleet:
they decide on their own clock (data.cctv.fleet), which a test cannot set.

`live_registry(target)` copies the demo registry and adds two approved requests by r.sun for
CAM-LIB-01, copies of the demo's REQ-2026-0042: IN_PERIOD (its use period runs from yesterday
to the day after tomorrow) and ENDED (its use period ended yesterday).
"""

from __future__ import annotations

import hashlib
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

from testing.helpers import DEMO_REGISTRY, pin_decision

FLEET = "cctv/fleet/decision"  # the path OPA servers of the fleet answer
IN_PERIOD = "REQ-2026-0090"
ENDED = "REQ-2026-0091"
VIEWER = "r.sun"
CAMERA = "CAM-LIB-01"


def rfc3339(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def add_approved_request(registry: Path, request_id: str, starts: datetime, ends: datetime):
    """An approved copy of REQ-2026-0042 by VIEWER, with its attachment, pinned decision and
    footage two days before its use period starts."""
    pdf = b"%PDF-1.4 incident report " + request_id.encode()
    (registry / "attachments" / request_id).mkdir(parents=True)
    (registry / "attachments" / request_id / "incident-report.pdf").write_bytes(pdf)
    request = yaml.safe_load((registry / "requests" / "REQ-2026-0042.yaml").read_text())
    footage_from = starts - timedelta(days=2)
    request.update(
        id=request_id,
        applicant=VIEWER,
        submitted_at=rfc3339(starts - timedelta(hours=3)),
        footage={
            "cameras": [CAMERA],
            "from": rfc3339(footage_from),
            "to": rfc3339(footage_from + timedelta(hours=2)),
        },
        attachments=[{"name": "incident-report.pdf", "sha256": hashlib.sha256(pdf).hexdigest()}],
    )
    request["use"].update(recipients=[VIEWER], starts=rfc3339(starts), ends=rfc3339(ends))
    (registry / "requests" / f"{request_id}.yaml").write_text(yaml.safe_dump(request))
    decision = yaml.safe_load((registry / "decisions" / "REQ-2026-0042.yaml").read_text())
    decision.pop("request_sha256")
    decision.update(request=request_id, decided_at=rfc3339(starts - timedelta(hours=2)))
    (registry / "decisions" / f"{request_id}.yaml").write_text(yaml.safe_dump(decision))
    pin_decision(registry, request_id)


def live_registry(target: Path) -> Path:
    shutil.copytree(DEMO_REGISTRY, target)
    now = datetime.now(UTC).replace(microsecond=0)
    add_approved_request(target, IN_PERIOD, now - timedelta(days=1), now + timedelta(days=2))
    add_approved_request(target, ENDED, now - timedelta(days=6), now - timedelta(days=1))
    return target


def question(registry: Path, request_id: str) -> dict[str, str]:
    """VIEWER asks about CAMERA half an hour into the request's footage window."""
    request = yaml.safe_load((registry / "requests" / f"{request_id}.yaml").read_text())
    at = _parse(request["footage"]["from"]) + timedelta(minutes=30)
    return {"principal": VIEWER, "camera": CAMERA, "at": rfc3339(at)}


def inside_use_period(registry: Path, request_id: str) -> str:
    """A moment inside the request's use period (what a caller replaying the past sends)."""
    request = yaml.safe_load((registry / "requests" / f"{request_id}.yaml").read_text())
    return rfc3339(_parse(request["use"]["starts"]) + timedelta(days=2))
