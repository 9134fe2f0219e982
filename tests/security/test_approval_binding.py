"""An approval grants exactly what was approved (issue 8, holes 1 and 2).

Each test is an applicant's move after the security office approved REQ-2026-0042 (t.wang,
CAM-LIB-01, 2026-11-18 14:00-16:00 +08:00, in use 11-21..11-28): it must grant nothing more.
"""

from __future__ import annotations

from pathlib import Path

from tests.security.conftest import authorize, check_json, enforce, grants_on_disk, invoke

AT = "2026-11-18T15:00:00+08:00"  # inside the approved window
REQUEST = "requests/REQ-2026-0042.yaml"


def widen(registry: Path) -> None:
    path = registry / REQUEST
    path.write_text(path.read_text()
                    .replace("cameras: [CAM-LIB-01]", "cameras: [CAM-LIB-01, CAM-LIB-02]")
                    .replace("recipients: [t.wang]", "recipients: [t.wang, r.sun]"))


def test_edited_request_makes_the_approval_stale_and_grants_nothing(registry_copy, tmp_path):
    widen(registry_copy)
    code, violations = check_json(registry_copy)
    stale = [v for v in violations if v["code"] == "DECISION_STALE"]
    assert code == 1 and stale and stale[0]["file"].endswith("decisions/REQ-2026-0042.yaml")
    audit = tmp_path / "audit.jsonl"
    for principal, camera in [("t.wang", "CAM-LIB-02"), ("r.sun", "CAM-LIB-01"),
                              ("t.wang", "CAM-LIB-01")]:
        answer = authorize(registry_copy, audit, principal, camera, AT)
        assert answer.exit_code == 1 and answer.output.startswith("DENY"), answer.output


def test_edited_request_gets_no_grant_and_an_existing_one_is_revoked(registry_copy, nas,
                                                                     tmp_path):
    audit = tmp_path / "audit.jsonl"
    enforce(registry_copy, nas, audit)
    assert "REQ-2026-0042--viewing-station" in grants_on_disk(nas)
    widen(registry_copy)
    prepared = enforce(registry_copy, nas, audit)
    revokes = [a for a in prepared.plan.actions if a.action == "revoke"]
    assert [(a.grant, a.rule) for a in revokes] == [
        ("REQ-2026-0042--viewing-station", "NO_VALID_APPROVAL")]
    assert not any(a.action == "grant" and a.request == "REQ-2026-0042"
                   for a in prepared.plan.actions)
    assert "REQ-2026-0042--viewing-station" not in grants_on_disk(nas)


def test_twin_file_is_a_duplicate_id_and_changes_nothing(registry_copy, tmp_path):
    original = (registry_copy / REQUEST).read_text()
    (registry_copy / "requests/REQ-2026-0042.yml").write_text(
        original.replace("cameras: [CAM-LIB-01]", "cameras: [CAM-LIB-01, CAM-LIB-02]"))
    code, violations = check_json(registry_copy)
    assert code == 3
    assert any(v["code"] == "E_DUPLICATE_ID" and v["file"].endswith("REQ-2026-0042.yml")
               for v in violations)
    answer = authorize(registry_copy, tmp_path / "audit.jsonl", "t.wang", "CAM-LIB-02", AT)
    assert answer.exit_code != 0 and "ALLOW" not in answer.output


def decision_by(registry: Path, person: str, extra: str = "") -> None:
    path = registry / "decisions/REQ-2026-0042.yaml"
    text = path.read_text().replace("decided_by: h.liu", f"decided_by: {person}")
    path.write_text(text + extra)


def test_self_approval_is_denied_revoked_and_not_extractable(registry_copy, nas, tmp_path):
    audit = tmp_path / "audit.jsonl"
    enforce(registry_copy, nas, audit)
    assert "REQ-2026-0042--viewing-station" in grants_on_disk(nas)
    # The applicant writes their own name into the decision: check flags it, and nothing may
    # act on it.
    decision_by(registry_copy, "t.wang")
    code, violations = check_json(registry_copy)
    assert code == 1 and {"DECISION_SELF_APPROVAL", "DECISION_NOT_SECURITY_OFFICE"} <= {
        v["code"] for v in violations}
    answer = authorize(registry_copy, audit, "t.wang", "CAM-LIB-01", AT)
    assert answer.exit_code == 1 and answer.output.startswith("DENY")
    prepared = enforce(registry_copy, nas, audit)
    assert [a.grant for a in prepared.plan.actions if a.action == "revoke"] == [
        "REQ-2026-0042--viewing-station"]
    assert "REQ-2026-0042--viewing-station" not in grants_on_disk(nas)


def test_decider_outside_the_security_office_is_denied(registry_copy, tmp_path):
    decision_by(registry_copy, "d.he")  # a supervisor, not security office
    answer = authorize(registry_copy, tmp_path / "audit.jsonl", "t.wang", "CAM-LIB-01", AT)
    assert answer.exit_code == 1 and answer.output.startswith("DENY")


def test_widening_decision_is_refused_by_extract(registry_copy, nas, tmp_path):
    """REQ-2026-0038 asks for 3 cameras x 3 hours; a decision that widens the footage window to
    24 days must not let extract copy anything."""
    path = registry_copy / "decisions/REQ-2026-0038.yaml"
    path.write_text(path.read_text().replace("from: 2026-11-16T15:30:00+08:00",
                                             "from: 2026-10-23T15:30:00+08:00"))
    (tmp_path / "exports").mkdir()
    assert invoke("extract", "keygen", "--out", str(tmp_path / "key")).exit_code == 0
    result = invoke("extract", "REQ-2026-0038", "--registry", str(registry_copy),
                    "--now", "2026-11-20T10:00:00+08:00", "--supervisor", "m.guo",
                    "--to", "nas-export", "--signing-key", str(tmp_path / "key"),
                    "--storage-root", f"nas-main={nas}",
                    "--storage-root", f"nas-export={tmp_path / 'exports'}",
                    "--audit-log", str(tmp_path / "audit.jsonl"))
    assert result.exit_code == 1 and "refused" in result.output, result.output
    assert not any(p.is_file() for p in (tmp_path / "exports").rglob("*"))
