"""What protects footage and who may act (issue #26, third round).

Each test is an adversary's move on the demo campus with real footage on disk, real OPA
(embedded) and real files: an invalid rejection must not end a request's protection, a torn
decision must grant nothing, one officer must not file, approve and supervise alone, and a
request id must not write outside the registry.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cctv_policy.demo import write_footage
from cctv_policy.enforce.safety import SafetyFloor
from cctv_policy.extract.manifest import generate_key, verify_package
from cctv_policy.extract.supervisor import (
    SUPERVISOR_SIGNATURE,
    load_supervisor_key,
    openssh_public,
)
from cctv_policy.registry import load_registry
from cctv_policy.registry.approvals import NotValidlyApproved, approved_scope
from cctv_policy.registry.types import parse_rfc3339
from cctv_policy.rulebook.enforcement import enforcement_decision
from cctv_policy.rulebook.evaluation import Evaluation
from testing.helpers import DEMO_LAYOUT as LAYOUT
from testing.helpers import (
    campus_repo,
    demo_footage,
    extract_at,
    footage_keys,
    git,
    point_export_target,
    request_digest,
)
from tests.conftest import DEMO_REGISTRY, NOW, NOW_TEXT
from tests.security.conftest import authorize, check_json, enforce, invoke

REQUEST_ID = "REQ-2026-0050"
# CAM-LIB-02's footage of 25 Oct 12:00-16:00 (+08:00): inside the 30-day retention when the
# request was filed on 24 Nov, past it on 25 Nov; the use period runs until 5 Dec.
REQUEST = f"""id: {REQUEST_ID}
applicant: r.sun
unit: student-affairs
submitted_at: 2026-11-24T09:00:00+08:00
purpose:
  category: incident_investigation
  description: "Bag taken from the reading room"
footage:
  cameras: [CAM-LIB-02]
  from: 2026-10-25T12:00:00+08:00
  to: 2026-10-25T16:00:00+08:00
use:
  mode: view_supervised
  recipients: [r.sun]
  starts: 2026-11-26T09:00:00+08:00
  ends: 2026-12-05T17:00:00+08:00
"""


def file_request(registry: Path) -> None:
    (registry / "requests" / f"{REQUEST_ID}.yaml").write_text(REQUEST)


def write_rejection(registry: Path, decided_by: str, digest: str) -> None:
    (registry / "decisions" / f"{REQUEST_ID}.yaml").write_text(
        f"request: {REQUEST_ID}\n"
        f"request_sha256: {digest}\n"
        "decision: rejected\n"
        "scope: {}\n"
        f"decided_by: {decided_by}\n"
        "decided_at: 2026-11-24T12:00:00+08:00\n"
        'reasons: ["Not needed"]\n'
    )


def window_keys(nas: Path) -> set[str]:
    """The footage files of the request's window (two-hour segments, UTC names)."""
    start = datetime(2026, 10, 25, 4, tzinfo=UTC)
    return {
        k
        for k in footage_keys(nas)
        if (parsed := LAYOUT.parse(k)) is not None
        and parsed[0] == "CAM-LIB-02"
        and start <= parsed[1] < start + timedelta(hours=4)
    }


def two_applies(registry: Path, nas: Path, tmp_path: Path) -> None:
    audit = tmp_path / "audit.jsonl"
    enforce(registry, nas, audit)
    enforce(registry, nas, audit, now=NOW + timedelta(hours=1))


def assert_window_survives(registry: Path, tmp_path: Path) -> None:
    nas = demo_footage(tmp_path / "nas-main", ["CAM-LIB-02"], NOW)
    window = window_keys(nas)
    assert len(window) == 2, window  # 04:00-06:00 and 06:00-08:00 UTC
    two_applies(registry, nas, tmp_path)
    left = footage_keys(nas)
    assert window <= left, f"deleted: {sorted(window - left)}"
    # The run really deleted: the rest of that expired day is gone.
    assert not any(k.startswith("CAM-LIB-02/2026/10/24/") for k in left)


def test_rejection_by_a_non_officer_keeps_the_footage(registry_copy: Path, tmp_path: Path):
    file_request(registry_copy)
    write_rejection(registry_copy, "t.wang", request_digest(registry_copy, REQUEST_ID))
    _code, violations = check_json(registry_copy)
    assert "DECISION_NOT_SECURITY_OFFICE" in {v["code"] for v in violations}
    assert_window_survives(registry_copy, tmp_path)


def test_rejection_pinning_another_request_content_keeps_the_footage(
    registry_copy: Path, tmp_path: Path
):
    file_request(registry_copy)
    write_rejection(registry_copy, "h.liu", "ab" * 32)
    assert_window_survives(registry_copy, tmp_path)


def test_rejection_before_submission_keeps_the_footage(registry_copy: Path, tmp_path: Path):
    file_request(registry_copy)
    write_rejection(registry_copy, "h.liu", request_digest(registry_copy, REQUEST_ID))
    path = registry_copy / "decisions" / f"{REQUEST_ID}.yaml"
    path.write_text(path.read_text().replace("2026-11-24T12:00", "2026-11-23T12:00"))
    assert_window_survives(registry_copy, tmp_path)


@pytest.mark.parametrize(
    ("decided_by", "decided_at", "reasons", "pinned"),
    [
        ("t.wang", "2026-11-24T12:00:00+08:00", "[Not needed]", True),  # not an officer
        ("h.liu", "2026-11-23T12:00:00+08:00", "[Not needed]", True),  # before submission
        ("h.liu", "2026-11-24T12:00:00+08:00", "[]", True),  # no reason
        ("h.liu", "2026-11-24T12:00:00+08:00", "[Not needed]", False),  # stale
    ],
)
def test_rule_book_and_floor_each_keep_an_invalid_rejection_pending(
    registry_copy: Path, embedded_engine, decided_by, decided_at, reasons, pinned
):
    """Each side on its own: the policy's protections and the Python floor."""
    file_request(registry_copy)
    digest = request_digest(registry_copy, REQUEST_ID) if pinned else "ab" * 32
    write_rejection(registry_copy, decided_by, digest)
    path = registry_copy / "decisions" / f"{REQUEST_ID}.yaml"
    text = path.read_text().replace("2026-11-24T12:00:00+08:00", decided_at)
    path.write_text(text.replace('["Not needed"]', reasons))
    registry = load_registry(registry_copy)
    decision = enforcement_decision(Evaluation(registry, embedded_engine, NOW, "test"))
    assert f"pending:{REQUEST_ID}" in {p.id for p in decision.protections}
    start = datetime(2026, 10, 25, 4, tzinfo=UTC)
    why = SafetyFloor(registry, NOW).blocks_span("CAM-LIB-02", start, start + timedelta(hours=2))
    assert why is not None and REQUEST_ID in why


def test_valid_rejection_still_ends_the_protection(registry_copy: Path, tmp_path: Path):
    """The other side: a rejection by an officer, pinned, lets retention take its course."""
    file_request(registry_copy)
    write_rejection(registry_copy, "h.liu", request_digest(registry_copy, REQUEST_ID))
    nas = demo_footage(tmp_path / "nas-main", ["CAM-LIB-02"], NOW)
    window = window_keys(nas)
    two_applies(registry_copy, nas, tmp_path)
    assert not window & footage_keys(nas)


# --- item 5: `new request --id` names a file inside requests/ only -------------------------

NEW_REQUEST = [
    "--applicant", "t.wang", "--purpose", "lost_property", "--description", "Bag lost",
    "--camera", "CAM-GATE-01", "--from", "2026-11-24 16:00", "--to", "2026-11-24 17:00",
    "--mode", "view_supervised", "--recipient", "t.wang",
    "--starts", "2026-11-26 09:00", "--ends", "2026-11-26 17:00",
]  # fmt: skip


def files_under(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


@pytest.mark.parametrize(
    "request_id", ["../../x", "../decisions/REQ-2026-0046", "/tmp/x", "REQ-1/../../x", "req-1", ""]
)
def test_new_request_id_cannot_leave_the_registry(
    registry_copy: Path, tmp_path: Path, request_id: str
):
    before = files_under(tmp_path)
    result = invoke(
        "new", "request", "--registry", str(registry_copy), "--now", NOW_TEXT,
        "--id", request_id, *NEW_REQUEST,
    )  # fmt: skip
    assert result.exit_code == 3, result.output
    assert "Traceback" not in result.output and "No request was written" in result.output
    assert files_under(tmp_path) == before
    assert not Path("/tmp/x.yaml").exists()


def test_new_request_with_a_good_id_is_written(registry_copy: Path):
    result = invoke(
        "new", "request", "--registry", str(registry_copy), "--now", NOW_TEXT,
        "--id", "REQ-2026-0777", *NEW_REQUEST,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert (registry_copy / "requests" / "REQ-2026-0777.yaml").is_file()


# --- item 4: a decision cut short before `scope:` decides nothing ---------------------------

SCOPED = "REQ-2026-0038"  # approved, narrowed to two cameras and 15:30-17:00 by its scope


def tear_before_scope(registry: Path, request_id: str) -> None:
    path = registry / "decisions" / f"{request_id}.yaml"
    text = path.read_text()
    path.write_text(text[: text.index("scope:")])


def test_decision_torn_before_its_scope_grants_nothing(registry_copy: Path, tmp_path: Path):
    tear_before_scope(registry_copy, SCOPED)
    code, violations = check_json(registry_copy)
    assert code == 3
    torn = [v for v in violations if v["file"].endswith(f"decisions/{SCOPED}.yaml")]
    assert torn and torn[0]["code"] == "E_SCHEMA" and "scope" in torn[0]["message"], torn
    # Asked for, but cut by the decision's scope (camera, window, and the use end of 24 Nov).
    for camera, at in [
        ("CAM-GYM-01", "2026-11-16T17:30:00+08:00"),
        ("CAM-SPT-01", "2026-11-16T15:10:00+08:00"),
        ("CAM-SPT-01", "2026-11-16T16:00:00+08:00"),
    ]:
        answer = authorize(registry_copy, tmp_path / "audit.jsonl", "f.zhao", camera, at)
        assert answer.exit_code != 0 and "ALLOW" not in answer.output, answer.output


def test_torn_decision_leaves_its_request_pending(registry_copy: Path, embedded_engine):
    """The file is refused as written: the request has no decision in force, so its whole
    requested footage is protected and no grant is made."""
    tear_before_scope(registry_copy, SCOPED)
    registry = load_registry(registry_copy)
    assert SCOPED not in registry.decisions
    decision = enforcement_decision(Evaluation(registry, embedded_engine, NOW, "test"))
    assert f"pending:{SCOPED}" in {p.id for p in decision.protections}
    assert not [g for g in decision.grants if g.request == SCOPED]


def test_explicit_scope_as_requested_grants_the_request(registry_copy: Path):
    path = registry_copy / "decisions" / "REQ-2026-0042.yaml"
    assert "scope: as_requested" in path.read_text()
    registry = load_registry(registry_copy)
    assert registry.decisions["REQ-2026-0042"].scope.cameras is None
    path.write_text(path.read_text().replace("scope: as_requested", "scope: {}"))
    assert load_registry(registry_copy).decisions["REQ-2026-0042"].scope.cameras is None


# --- item 3: filer, decider and supervisor are different people -----------------------------

ALONE = "REQ-2026-0038"  # f.zhao's export_copy, approved by s.zhou, in use on 20 Nov
DURING_USE = parse_rfc3339("2026-11-20T10:00:00+08:00")


def file_for_applicant(registry: Path, filer: str, supervisor: str | None) -> None:
    """`filer` files ALONE in f.zhao's name; s.zhou's decision is pinned to it again and
    names `supervisor` (or none)."""
    request = registry / "requests" / f"{ALONE}.yaml"
    request.write_text(
        request.read_text().replace(
            "applicant: f.zhao\n", f"applicant: f.zhao\nsubmitted_by: {filer}\n"
        )
    )
    decision = registry / "decisions" / f"{ALONE}.yaml"
    text = decision.read_text()
    old = text.split("request_sha256: ", 1)[1].split("\n", 1)[0]
    text = text.replace(old, request_digest(registry, ALONE))
    replacement = f"  supervised_by: {supervisor}\n" if supervisor else "  notes: none\n"
    decision.write_text(text.replace("  supervised_by: m.guo\n", replacement))


@pytest.fixture
def extraction_site(tmp_path: Path) -> Path:
    write_footage(
        tmp_path / "nas",
        LAYOUT,
        ["CAM-SPT-01", "CAM-SPT-02"],
        parse_rfc3339("2026-11-25T12:00:00+08:00"),
        days=12,
        segment_minutes=120,
    )
    (tmp_path / "exports").mkdir()
    generate_key(tmp_path / "key")
    return tmp_path


def extract(site: Path, registry: Path, supervisor: str) -> tuple[int, str]:
    point_export_target(registry, site / "exports")
    return extract_at(
        registry,
        ALONE,
        supervisor,
        "nas-export",
        site / "nas",
        site / "key",
        site / "audit.jsonl",
        DURING_USE,
    )


def exported(site: Path) -> list[Path]:
    return [p for p in (site / "exports").rglob("*") if p.is_file()]


def test_one_officer_cannot_file_approve_and_supervise(registry_copy: Path, extraction_site: Path):
    file_for_applicant(registry_copy, "s.zhou", "s.zhou")  # s.zhou also decided it
    _code, violations = check_json(registry_copy)
    assert "DECISION_DUTIES_NOT_SEPARATED" in {
        v["code"] for v in violations if v["subject"] == f"decision:{ALONE}"
    }
    code, output = extract(extraction_site, registry_copy, "s.zhou")
    assert code == 1 and "different people" in output, output
    assert exported(extraction_site) == []
    with pytest.raises(NotValidlyApproved, match="different people"):  # the floor on its own
        approved_scope(load_registry(registry_copy), ALONE)


def test_supervisor_present_counts_when_the_decision_names_none(
    registry_copy: Path, extraction_site: Path
):
    """The decision names no supervisor: the one present at extraction must not be the
    filer nor the decider."""
    file_for_applicant(registry_copy, "h.liu", None)
    for supervisor in ("h.liu", "s.zhou"):
        code, output = extract(extraction_site, registry_copy, supervisor)
        assert code == 1 and "different people" in output, output
    assert exported(extraction_site) == []
    code, output = extract(extraction_site, registry_copy, "m.guo")
    assert code == 0, output


def test_two_people_are_enough_when_the_school_says_so(registry_copy: Path, extraction_site: Path):
    file_for_applicant(registry_copy, "h.liu", "s.zhou")  # s.zhou decides and supervises
    assert extract(extraction_site, registry_copy, "s.zhou")[0] == 1
    config = registry_copy / "config.yaml"
    config.write_text(config.read_text() + "separation_of_duties: {distinct_people: 2}\n")
    code, output = extract(extraction_site, registry_copy, "s.zhou")
    assert code == 0, output


# --- item 3: the supervisor confirms with their own key, not by a name typed in --------------


def supervisor_key_for(registry: Path, site: Path, person: str) -> Ed25519PrivateKey:
    """A new Ed25519 key listed as `person`'s signing key in people.yaml (OpenSSH form)."""
    key = Ed25519PrivateKey.generate()
    public = openssh_public(key)
    people = registry / "people.yaml"
    identity = f"    git_identities: [{person}@campus.example.edu]\n"
    people.write_text(
        people.read_text().replace(identity, f'{identity}    signing_keys: ["{public} {person}"]\n')
    )
    (site / f"{person}.key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.OpenSSH,
            serialization.NoEncryption(),
        )
    )
    return load_supervisor_key(site / f"{person}.key")


def require_signature(registry: Path) -> None:
    """The example opts out (its supervisors have no keys); a school's registry does not: the
    signature is required by default."""
    config = registry / "config.yaml"
    text = config.read_text()
    assert "require_supervisor_signature: false\n" in text
    config.write_text(text.replace("require_supervisor_signature: false\n", ""))


def extract_signed(site: Path, registry: Path, supervisor: str, key) -> tuple[int, str]:
    point_export_target(registry, site / "exports")
    return extract_at(
        registry,
        ALONE,
        supervisor,
        "nas-export",
        site / "nas",
        site / "key",
        site / "audit.jsonl",
        DURING_USE,
        supervisor_key=key,
    )


def test_a_typed_supervisor_name_is_not_a_confirmation(registry_copy: Path, extraction_site: Path):
    require_signature(registry_copy)
    supervisor_key_for(registry_copy, extraction_site, "m.guo")
    officers_own = supervisor_key_for(registry_copy, extraction_site, "s.zhou")
    code, output = extract_signed(extraction_site, registry_copy, "m.guo", None)
    assert code == 1 and "--supervisor-key" in output, output
    code, output = extract_signed(extraction_site, registry_copy, "m.guo", officers_own)
    assert code == 1 and "not one of m.guo's signing_keys" in output, output
    assert exported(extraction_site) == []


def test_the_supervisors_countersignature_is_in_the_package(
    registry_copy: Path, extraction_site: Path
):
    require_signature(registry_copy)
    key = supervisor_key_for(registry_copy, extraction_site, "m.guo")
    code, output = extract_signed(extraction_site, registry_copy, "m.guo", key)
    assert code == 0, output
    (package,) = (extraction_site / "exports").iterdir()
    manifest = json.loads((package / "MANIFEST.json").read_text())
    assert manifest["supervisor_key"] == openssh_public(key)
    assert verify_package(package).ok
    signature = package / SUPERVISOR_SIGNATURE
    other = Ed25519PrivateKey.generate().sign(b"something else")
    signature.write_text(base64.b64encode(other).decode() + "\n")
    check = verify_package(package)
    assert not check.ok and "supervisor's signature does not match" in " ".join(check.problems)
    signature.unlink()
    assert not verify_package(package).ok


def test_decide_writes_the_scope_explicitly_and_early(registry_copy: Path):
    result = invoke(
        "decide", "REQ-2026-0046", "--registry", str(registry_copy), "--now", NOW_TEXT,
        "--approve", "--by", "h.liu", "--reason", "Loss reported", "--supervisor", "m.guo",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    lines = (registry_copy / "decisions" / "REQ-2026-0046.yaml").read_text().splitlines()
    assert "scope: as_requested" in lines
    assert lines.index("scope: as_requested") < next(
        i for i, line in enumerate(lines) if line.startswith("decided_by:")
    )


def test_an_officer_filing_for_a_teacher_must_say_so(tmp_path: Path):
    """With provenance, a request committed by an officer in a teacher's name (no
    submitted_by) is not the teacher's: the filer cannot hide behind the applicant."""
    repo = campus_repo(tmp_path / "campus", DEMO_REGISTRY)
    path = repo / "registry" / "requests" / f"{REQUEST_ID}.yaml"
    path.write_text(REQUEST)
    git(repo, "add", str(path.relative_to(repo)))
    git(repo, "commit", "-q", "-m", "filed", person="h.liu", date="2026-11-24T09:00:00+08:00")
    mine = [v for v in provenance_of(repo) if v["file"].endswith(f"{REQUEST_ID}.yaml")]
    assert {v["code"] for v in mine if v["code"].startswith("PROVENANCE")} == {
        "PROVENANCE_MISMATCH"
    }, mine
    path.write_text(
        REQUEST.replace("applicant: r.sun\n", "applicant: r.sun\nsubmitted_by: h.liu\n")
    )
    git(repo, "commit", "-q", "-am", "say so", person="h.liu", date="2026-11-24T09:05:00+08:00")
    mine = [v for v in provenance_of(repo) if v["file"].endswith(f"{REQUEST_ID}.yaml")]
    assert not [v for v in mine if v["code"].startswith("PROVENANCE")], mine


def provenance_of(repo: Path) -> list[dict]:
    result = invoke(
        "check", "--registry", str(repo / "registry"), "--now", NOW_TEXT,
        "--verify-provenance", "--format", "json",
    )  # fmt: skip
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)["violations"]
