"""Nobody gets an unsupervised readable copy, and grants pass an independent floor
(issue 8, holes 5 and 6)."""

from __future__ import annotations

import shutil
from pathlib import Path

from cctv_policy.checks.codeowners import parse, unowned_trust_roots
from cctv_policy.engine import load_policies
from cctv_policy.engine.embedded import EmbeddedEngine
from cctv_policy.enforce.run import prepare, run_apply
from cctv_policy.registry import load_registry
from cctv_policy.audit.log import AuditLog
from tests.conftest import NOW, POLICIES, REPO
from tests.security.conftest import enforce, grants_on_disk, invoke


def test_view_supervised_footage_goes_only_to_the_viewing_station(registry_copy, nas, tmp_path):
    enforce(registry_copy, nas, tmp_path / "audit.jsonl")
    grants = grants_on_disk(nas)
    assert "REQ-2026-0042--viewing-station" in grants
    assert not [g for g in grants if not g.endswith("--viewing-station")], grants


def test_a_recipient_cannot_supervise_the_extraction(registry_copy, nas, tmp_path):
    """REQ-2026-0038 (export_copy) names f.zhao and d.he as recipients; d.he is a supervisor."""
    path = registry_copy / "decisions/REQ-2026-0038.yaml"
    path.write_text(path.read_text().replace("conditions:\n  supervised_by: m.guo\n", ""))
    (tmp_path / "exports").mkdir()
    assert invoke("extract", "keygen", "--out", str(tmp_path / "key")).exit_code == 0
    result = invoke("extract", "REQ-2026-0038", "--registry", str(registry_copy),
                    "--now", "2026-11-20T10:00:00+08:00", "--supervisor", "d.he",
                    "--to", "nas-export", "--signing-key", str(tmp_path / "key"),
                    "--storage-root", f"nas-main={nas}",
                    "--storage-root", f"nas-export={tmp_path / 'exports'}",
                    "--audit-log", str(tmp_path / "audit.jsonl"))
    assert result.exit_code == 1 and "recipient" in result.output, result.output
    assert not any(p.is_file() for p in (tmp_path / "exports").rglob("*"))


def test_grants_from_a_buggy_policy_are_refused_by_the_floor(registry_copy, nas, tmp_path):
    """A policy change that grants every approved request to its recipients, valid or not:
    the Python floor refuses each such grant and nothing reaches the disk."""
    policies = tmp_path / "policies"
    shutil.copytree(POLICIES, policies)
    enforce_rego = policies / "cctv/enforce.rego"
    text = enforce_rego.read_text()
    buggy = text.replace("some id in approvals.valid", "some id, _ in input.decisions") \
                .replace("station := input.config.viewing_station",
                         "some station in input.requests[id].use.recipients")
    assert buggy != text
    enforce_rego.write_text(buggy)
    decision = registry_copy / "decisions/REQ-2026-0042.yaml"
    decision.write_text(decision.read_text().replace("decided_by: h.liu", "decided_by: t.wang"))
    engine = EmbeddedEngine(load_policies(policies).without_tests())
    try:
        prepared = prepare(load_registry(registry_copy), engine, NOW, "buggy",
                           root_overrides={"nas-main": nas}, target="nas-main")
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
    assert {"registry/people.yaml", "registry/cameras.yaml", "registry/storage.yaml"} <= \
        set(unowned)


def test_codeowners_last_match_wins_and_patterns_follow_github():
    rules = parse("*  @all\n/registry/ @office\n/registry/reports/ \n*.md @docs\n")
    from cctv_policy.checks.codeowners import owners_of

    assert owners_of(rules, "registry/people.yaml") == ("@office",)
    assert owners_of(rules, "registry/reports/REQ-1.yaml") == ()
    assert owners_of(rules, "registry/README.md") == ("@docs",)
    assert owners_of(rules, "tools/x.go") == ("@all",)
