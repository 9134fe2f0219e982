"""Written notices of decisions (R5)."""

from __future__ import annotations

from click.testing import CliRunner

from cctv_policy.cli.main import cli
from tests.conftest import DEMO_REGISTRY


def notice(*args: str):
    return CliRunner().invoke(cli, ["notice", "--registry", str(DEMO_REGISTRY), *args])


def test_approval_shows_narrowed_scope_conditions_and_due_date():
    result = notice("REQ-2026-0038")
    assert result.exit_code == 0
    text = result.output
    assert "Approval notice" in text
    assert "CAM-SPT-01" in text and "CAM-GYM-01" not in text  # scope narrowed the cameras
    assert "2026-11-16 15:30 CST to 2026-11-16 17:00 CST" in text  # campus time zone
    assert "2026-12-01 17:00 CST" in text  # narrowed use end 11-24 17:00 + 7 days
    assert "Guo Mei" in text  # supervisor condition


def test_rejection_lists_every_reason_in_chinese():
    result = notice("REQ-2026-0025", "--lang", "zh")
    assert result.exit_code == 0
    assert "不予批准" in result.output
    assert result.output.count("\n- ") == 2


def test_third_party_notice_names_the_legal_basis():
    assert "HD-2026-11-0457" in notice("REQ-2026-0035").output


def test_html_is_escaped_and_complete(tmp_path):
    out = tmp_path / "n.html"
    result = notice("REQ-2026-0042", "--format", "html", "--out", str(out))
    text = out.read_text()
    assert result.exit_code == 0 and text.startswith("<!doctype html>") and "</html>" in text
    assert "<script" not in text


def test_pending_request_has_no_notice():
    result = notice("REQ-2026-0046")
    assert result.exit_code == 1 and "no decision yet" in result.output
