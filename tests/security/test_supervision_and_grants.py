"""Nobody gets an unsupervised readable copy, and grants pass an independent floor
(issue 8, holes 5 and 6)."""

from __future__ import annotations

import shutil
from pathlib import Path

from cctv_policy.audit.log import AuditLog
from cctv_policy.enforce.job import prepare, run_apply
from cctv_policy.enforce.models import Scope
from cctv_policy.engine import load_policies
from cctv_policy.engine.embedded import EmbeddedEngine
from cctv_policy.provenance.codeowners import parse, unowned_trust_roots
from cctv_policy.registry import load_registry
from cctv_policy.registry.types import parse_rfc3339
from cctv_policy.rulebook.evaluation import Evaluation
from testing.helpers import extract_at, point_export_target
from tests.conftest import NOW, POLICIES, REPO
from tests.security.conftest import enforce, grants_of, grants_on_disk, invoke


def test_view_supervised_footage_goes_only_to_the_viewing_station(registry_copy, nas, tmp_path):
    enforce(registry_copy, nas, tmp_path / "audit.jsonl")
    grants = grants_on_disk(nas)
    assert grants and all("--viewing-station--" in g for g in grants), grants
    assert grants_of(nas, "REQ-2026-0042")


def test_a_recipient_cannot_supervise_the_extraction(registry_copy, nas, tmp_path):
    """REQ-2026-0038 (export_copy) names f.zhao and d.he as recipients; d.he is a supervisor."""
    path = registry_copy / "decisions/REQ-2026-0038.yaml"
    path.write_text(path.read_text().replace("conditions:\n  supervised_by: m.guo\n", ""))
    (tmp_path / "exports").mkdir()
    point_export_target(registry_copy, tmp_path / "exports")
    assert invoke("extract", "keygen", "--out", str(tmp_path / "key")).exit_code == 0
    code, output = extract_at(
        registry_copy,
        "REQ-2026-0038",
        "d.he",
        "nas-export",
        nas,
        tmp_path / "key",
        tmp_path / "audit.jsonl",
        parse_rfc3339("2026-11-20T10:00:00+08:00"),
    )
    assert code == 1 and "recipient" in output, output
    assert not any(p.is_file() for p in (tmp_path / "exports").rglob("*"))


def test_grants_from_a_buggy_policy_are_refused_by_the_floor(registry_copy, nas, tmp_path):
    """A policy change that grants every approved request to its recipients, valid or not:
    the Python floor refuses each such grant and nothing reaches the disk."""
    policies = tmp_path / "policies"
    shutil.copytree(POLICIES, policies)
    enforce_rego = policies / "cctv/enforce.rego"
    text = enforce_rego.read_text()
    buggy = (
        text.replace("some id in approvals.valid", "some id, _ in input.decisions")
        .replace(
            "station := input.config.viewing_station",
            "some station in input.requests[id].use.recipients",
        )
        .replace("not lib.is_person(station)", "true")
    )
    assert buggy != text
    enforce_rego.write_text(buggy)
    decision = registry_copy / "decisions/REQ-2026-0042.yaml"
    decision.write_text(decision.read_text().replace("decided_by: h.liu", "decided_by: t.wang"))
    engine = EmbeddedEngine(load_policies(policies).without_tests())
    try:
        prepared = prepare(
            Evaluation(load_registry(registry_copy), engine, NOW, "buggy"),
            Scope("nas-main", {"nas-main": nas}),
        )
    finally:
        engine.close()
    refused = {s.key: s.reason for s in prepared.plan.grants_refused}
    assert "no valid approval" in refused["REQ-2026-0042--t.wang"]
    assert "viewing station" in refused["REQ-2026-0040--q.xu"]
    assert not [a for a in prepared.plan.actions if a.action == "grant"]
    run_apply(prepared, AuditLog(tmp_path / "audit.jsonl"))
    assert grants_on_disk(nas) == set()


def test_every_trust_root_is_owned_by_the_security_office():
    assert unowned_trust_roots(REPO, REPO / "registry") == []


OLD_CODEOWNERS = """/registry/decisions/   @your-school/security-office
/registry/holds/       @your-school/security-office
/registry/config.yaml  @your-school/security-office
/policies/             @your-school/security-office
/.github/              @your-school/security-office
"""


def test_the_old_codeowners_leaves_trust_roots_unowned(tmp_path: Path):
    (tmp_path / ".github").mkdir()
    (tmp_path / ".github/CODEOWNERS").write_text(OLD_CODEOWNERS)
    (tmp_path / "registry").mkdir()
    unowned = unowned_trust_roots(tmp_path, tmp_path / "registry")
    assert {"registry/people.yaml", "registry/cameras.yaml", "registry/storage.yaml"} <= set(
        unowned
    )


def test_codeowners_last_match_wins_and_patterns_follow_github():
    rules = parse("*  @all\n/registry/ @office\n/registry/reports/ \n*.md @docs\n")
    from cctv_policy.provenance.codeowners import owners_of

    assert owners_of(rules, "registry/people.yaml") == ("@office",)
    assert owners_of(rules, "registry/reports/REQ-1.yaml") == ()
    assert owners_of(rules, "registry/README.md") == ("@docs",)
    assert owners_of(rules, "tools/x.go") == ("@all",)


def test_a_viewing_station_that_is_a_person_is_an_error_and_grants_nothing(
    registry_copy, nas, tmp_path
):
    config = registry_copy / "config.yaml"
    config.write_text(config.read_text() + "viewing_station: t.wang\n")
    result = invoke("check", "--registry", str(registry_copy), "--now", "2026-11-25T12:00:00+08:00")
    assert result.exit_code == 1 and "CONFIG_STATION_IS_A_PERSON" in result.output
    enforce(registry_copy, nas, tmp_path / "audit.jsonl")
    assert grants_on_disk(nas) == set()


def test_an_approval_dated_in_the_future_grants_nothing_but_protects(registry_copy, nas, tmp_path):
    decision = registry_copy / "decisions/REQ-2026-0042.yaml"
    decision.write_text(
        decision.read_text().replace(
            "decided_at: 2026-11-20T15:00:00+08:00", "decided_at: 2027-11-20T15:00:00+08:00"
        )
    )
    prepared = enforce(registry_copy, nas, tmp_path / "audit.jsonl")
    assert grants_of(nas, "REQ-2026-0042") == []
    assert any(a.action == "hold" and a.request == "REQ-2026-0042" for a in prepared.plan.actions)
