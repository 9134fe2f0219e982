"""Unit feedback (R12): records per unit and period, FEEDBACK_OVERDUE, and the report's summary."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from cctv_policy.cli.main import cli
from tests.conftest import DEMO_REGISTRY, NOW_TEXT


def _invoke(*args: str, exit_codes: tuple[int, ...] = (0,)) -> str:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code in exit_codes, result.output
    return result.stdout


def test_feedback_is_summarised_in_the_report():
    text = _invoke("report", "--registry", str(DEMO_REGISTRY), "--now", NOW_TEXT)
    assert "## Unit feedback" in text
    assert "| student-affairs | 2026-07 | 2026-10-09 by t.wang | Two requests" in text
    assert "Allow requests for lost property" in text


def test_a_unit_that_used_footage_and_gave_no_feedback_is_overdue(registry_copy: Path):
    (registry_copy / "feedback" / "FB-2026-07-STUDENT-AFFAIRS.yaml").unlink()
    request = registry_copy / "requests" / "REQ-2026-0042.yaml"
    request.write_text(
        request.read_text().replace(
            "submitted_at: 2026-11-20T09:30:00+08:00", "submitted_at: 2026-09-20T09:30:00+08:00"
        )
    )
    # Moving the request into the July period breaks other rules too (its decision is stale).
    check = ("check", "--registry", str(registry_copy), "--now", NOW_TEXT, "--format", "json")
    out = _invoke(*check, exit_codes=(0, 1))
    overdue = [v for v in json.loads(out)["violations"] if v["code"] == "FEEDBACK_OVERDUE"]
    assert [v["subject"] for v in overdue] == ["unit:student-affairs"]
    assert overdue[0]["severity"] == "warning"
    report = _invoke("report", "--registry", str(registry_copy), "--now", NOW_TEXT)
    assert "- unit student-affairs used footage in the period starting 2026-07" in report
