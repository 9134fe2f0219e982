"""An approval grants exactly what was approved (issue 8, holes 1 and 2).

Each test is an applicant's move after the security office approved REQ-2026-0042 (t.wang,
CAM-LIB-01, 2026-11-18 14:00-16:00 +08:00, in use 11-21..11-28): it must grant nothing more.
"""

from __future__ import annotations

from pathlib import Path

from cctv_policy.demo import write_footage
from cctv_policy.registry.types import parse_rfc3339
from testing.helpers import extract_at, point_export_target
from tests.conftest import NOW
from tests.security.conftest import (
    LAYOUT,
    authorize,
    check_json,
    enforce,
    grants_of,
    invoke,
)

AT = "2026-11-18T15:00:00+08:00"  # inside the approved window
REQUEST = "requests/REQ-2026-0042.yaml"


def widen(registry: Path) -> None:
    path = registry / REQUEST
    path.write_text(
        path.read_text()
        .replace("cameras: [CAM-LIB-01]", "cameras: [CAM-LIB-01, CAM-LIB-02]")
        .replace("recipients: [t.wang]", "recipients: [t.wang, r.sun]")
    )


def test_edited_request_makes_the_approval_stale_and_grants_nothing(registry_copy, tmp_path):
    widen(registry_copy)
    code, violations = check_json(registry_copy)
    stale = [v for v in violations if v["code"] == "DECISION_STALE"]
    assert code == 1 and stale and stale[0]["file"].endswith("decisions/REQ-2026-0042.yaml")
    audit = tmp_path / "audit.jsonl"
    for principal, camera in [
        ("t.wang", "CAM-LIB-02"),
        ("r.sun", "CAM-LIB-01"),
        ("t.wang", "CAM-LIB-01"),
    ]:
        answer = authorize(registry_copy, audit, principal, camera, AT)
        assert answer.exit_code == 1 and answer.output.startswith("DENY"), answer.output


def test_edited_request_gets_no_grant_and_an_existing_one_is_revoked(registry_copy, nas, tmp_path):
    audit = tmp_path / "audit.jsonl"
    enforce(registry_copy, nas, audit)
    (granted,) = grants_of(nas, "REQ-2026-0042")
    widen(registry_copy)
    prepared = enforce(registry_copy, nas, audit)
    revokes = [a for a in prepared.plan.actions if a.action == "revoke"]
    assert [(a.grant, a.rule) for a in revokes] == [(granted, "NO_VALID_APPROVAL")]
    assert not any(
        a.action == "grant" and a.request == "REQ-2026-0042" for a in prepared.plan.actions
    )
    assert grants_of(nas, "REQ-2026-0042") == []


def test_narrowed_reapproval_replaces_the_existing_grant(registry_copy, nas, tmp_path):
    """REQ-2026-0040 is granted for CAM-LAB-02 and CAM-TB2-02; the office decides again,
    narrowing to CAM-LAB-02: the old export (with CAM-TB2-02 in it) must go."""
    write_footage(nas, LAYOUT, ["CAM-LAB-02", "CAM-TB2-02"], NOW, days=12, segment_minutes=120)
    audit = tmp_path / "audit.jsonl"
    enforce(registry_copy, nas, audit)
    (before,) = grants_of(nas, "REQ-2026-0040")
    assert [
        p
        for p in (nas / ".cctv-policy/grants" / before).rglob("*.mp4")
        if "CAM-TB2-02" in p.as_posix()
    ]
    result = invoke(
        "decide",
        "REQ-2026-0040",
        "--approve",
        "--replace",
        "--by",
        "m.guo",
        "--supervisor",
        "d.he",
        "--narrow",
        "cameras=CAM-LAB-02",
        "--reason",
        "Only the lab camera",
        "--registry",
        str(registry_copy),
        "--now",
        "2026-11-25T11:00:00+08:00",
    )
    assert result.exit_code == 0, result.output
    enforce(registry_copy, nas, audit)
    (after,) = grants_of(nas, "REQ-2026-0040")
    assert after != before
    exported = [p.as_posix() for p in (nas / ".cctv-policy/grants" / after).rglob("*.mp4")]
    assert exported and not [p for p in exported if "CAM-TB2-02" in p]


def test_twin_file_is_a_duplicate_id_and_changes_nothing(registry_copy, tmp_path):
    original = (registry_copy / REQUEST).read_text()
    (registry_copy / "requests/REQ-2026-0042.yml").write_text(
        original.replace("cameras: [CAM-LIB-01]", "cameras: [CAM-LIB-01, CAM-LIB-02]")
    )
    code, violations = check_json(registry_copy)
    assert code == 3
    assert any(
        v["code"] == "E_DUPLICATE_ID" and v["file"].endswith("REQ-2026-0042.yml")
        for v in violations
    )
    answer = authorize(registry_copy, tmp_path / "audit.jsonl", "t.wang", "CAM-LIB-02", AT)
    assert answer.exit_code != 0 and "ALLOW" not in answer.output


def decision_by(registry: Path, person: str, extra: str = "") -> None:
    path = registry / "decisions/REQ-2026-0042.yaml"
    text = path.read_text().replace("decided_by: h.liu", f"decided_by: {person}")
    path.write_text(text + extra)


def test_self_approval_is_denied_revoked_and_not_extractable(registry_copy, nas, tmp_path):
    audit = tmp_path / "audit.jsonl"
    enforce(registry_copy, nas, audit)
    (granted,) = grants_of(nas, "REQ-2026-0042")
    # The applicant writes their own name into the decision: check flags it, and nothing may
    # act on it.
    decision_by(registry_copy, "t.wang")
    code, violations = check_json(registry_copy)
    assert code == 1 and {"DECISION_SELF_APPROVAL", "DECISION_NOT_SECURITY_OFFICE"} <= {
        v["code"] for v in violations
    }
    answer = authorize(registry_copy, audit, "t.wang", "CAM-LIB-01", AT)
    assert answer.exit_code == 1 and answer.output.startswith("DENY")
    prepared = enforce(registry_copy, nas, audit)
    assert [a.grant for a in prepared.plan.actions if a.action == "revoke"] == [granted]
    assert grants_of(nas, "REQ-2026-0042") == []


def test_decider_outside_the_security_office_is_denied(registry_copy, tmp_path):
    decision_by(registry_copy, "d.he")  # a supervisor, not security office
    answer = authorize(registry_copy, tmp_path / "audit.jsonl", "t.wang", "CAM-LIB-01", AT)
    assert answer.exit_code == 1 and answer.output.startswith("DENY")


def test_widening_decision_is_refused_by_extract(registry_copy, nas, tmp_path):
    """REQ-2026-0038 asks for 3 cameras x 3 hours; a decision that widens the footage window to
    24 days must not let extract copy anything."""
    path = registry_copy / "decisions/REQ-2026-0038.yaml"
    path.write_text(
        path.read_text().replace(
            "from: 2026-11-16T15:30:00+08:00", "from: 2026-10-23T15:30:00+08:00"
        )
    )
    (tmp_path / "exports").mkdir()
    point_export_target(registry_copy, tmp_path / "exports")
    assert invoke("extract", "keygen", "--out", str(tmp_path / "key")).exit_code == 0
    code, output = extract_at(
        registry_copy,
        "REQ-2026-0038",
        "m.guo",
        "nas-export",
        nas,
        tmp_path / "key",
        tmp_path / "audit.jsonl",
        parse_rfc3339("2026-11-20T10:00:00+08:00"),
    )
    assert code == 1 and "refused" in output, output
    assert not any(p.is_file() for p in (tmp_path / "exports").rglob("*"))
