"""`apply --format json`: what a run did, as one document a monitoring job can read."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner

from cctv_policy.audit.log import AuditLog
from cctv_policy.cli.main import cli
from testing.helpers import apply_argv, demo_footage, footage_keys

CAMERAS = ["CAM-CAN-03", "CAM-LIB-01", "CAM-GATE-01"]


def test_apply_reports_what_it_did_as_one_json_document(tmp_path: Path) -> None:
    nas = demo_footage(tmp_path / "nas", CAMERAS, datetime.now(UTC))
    before = footage_keys(nas)
    audit = tmp_path / "audit.jsonl"
    result = CliRunner().invoke(cli, apply_argv(nas, audit, "--format", "json"))
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    deleted = before - footage_keys(nas)
    assert report["done"]["delete"] == len(deleted) > 0
    assert report["whole_days"] > 0
    assert set(report["done"]) == {"hold", "revoke", "grant", "release", "delete"}
    seq, digest = AuditLog(audit).head()
    assert report["audit_head"] == {"seq": seq, "hash": digest}
    assert report["audit_log"] == str(audit)
    assert isinstance(report["refused"], dict)


def test_the_text_table_says_the_same(tmp_path: Path) -> None:
    nas = demo_footage(tmp_path / "nas", CAMERAS, datetime.now(UTC))
    before = footage_keys(nas)
    audit = tmp_path / "audit.jsonl"
    result = CliRunner().invoke(cli, apply_argv(nas, audit))
    assert result.exit_code == 0, result.output
    deleted = len(before - footage_keys(nas))
    shown = " ".join(result.stdout.split())  # the table's lines may wrap at the width
    assert f"│ delete │ {deleted} │" in shown
    seq, digest = AuditLog(audit).head()
    assert f"head {seq}:{digest[:12]}" in shown
