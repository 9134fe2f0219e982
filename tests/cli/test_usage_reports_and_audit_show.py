"""`reports due` and `audit show`."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from cctv_policy.audit.log import AuditLog, verify_log
from cctv_policy.cli.main import cli
from tests.conftest import DEMO_REGISTRY, NOW_TEXT


def test_reports_due_lists_overdue_with_days_late():
    result = CliRunner().invoke(
        cli,
        ["reports", "due", "--registry", str(DEMO_REGISTRY), "--now", NOW_TEXT, "--format", "json"],
    )
    assert result.exit_code == 0
    owed = {d["request"]: d for d in json.loads(result.stdout)}
    assert owed["REQ-2026-0018"]["state"] == "overdue" and owed["REQ-2026-0018"]["days_late"] == 7
    assert owed["REQ-2026-0042"]["state"] == "due"
    assert "REQ-2026-0021" not in owed  # report is in
    assert "REQ-2026-0025" not in owed  # rejected


def make_log(path: Path) -> AuditLog:
    log = AuditLog(path)
    log.append("delete", target="nas", keys=["CAM-A/2026/10/01/x.mp4", "CAM-B/2026/10/01/y.mp4"])
    log.append("grant", grant="REQ-1--t.wang", request="REQ-1", recipient="t.wang")
    log.append("authorize", principal="t.wang", camera="CAM-A", allow=True, request="REQ-1")
    log.append(
        "extract_file",
        request="REQ-2",
        supervisor="m.guo",
        camera="CAM-C",
        path="CAM-C/2026/10/02/z.mp4",
    )
    return log


def show(log: Path, *filters: str) -> list[dict]:
    result = CliRunner().invoke(
        cli, ["audit", "show", "--audit-log", str(log), "--format", "json", *filters]
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_audit_show_filters(tmp_path: Path):
    log = make_log(tmp_path / "a.jsonl").path
    assert [e["event"] for e in show(log, "--request", "REQ-1")] == ["grant", "authorize"]
    assert [e["event"] for e in show(log, "--person", "t.wang")] == ["grant", "authorize"]
    assert [e["event"] for e in show(log, "--person", "m.guo")] == ["extract_file"]
    assert [e["event"] for e in show(log, "--camera", "CAM-A")] == ["delete", "authorize"]
    assert [e["event"] for e in show(log, "--camera", "CAM-C")] == ["extract_file"]
    assert show(log, "--since", "2199-01-01T00:00:00Z") == []


def test_reading_the_log_is_logged_and_keeps_the_chain(tmp_path: Path):
    log = make_log(tmp_path / "a.jsonl").path
    show(log, "--request", "REQ-1")
    last = json.loads(log.read_text().splitlines()[-1])
    assert last["event"] == "audit_read" and last["filters"]["request"] == "REQ-1"
    assert verify_log(log).ok
