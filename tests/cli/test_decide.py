"""`cctv-policy decide`: the round trip of issue 8 and every refusal, on a copy of the demo."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from cctv_policy.cli.main import cli
from tests.conftest import NOW_TEXT

PENDING = "REQ-2026-0046"  # y.zhang, pending in the demo


def decide(registry: Path, *args: str):
    return CliRunner().invoke(
        cli, ["decide", PENDING, "--registry", str(registry), "--now", NOW_TEXT, *args]
    )


def check(registry: Path) -> tuple[int, list[dict]]:
    result = CliRunner().invoke(
        cli, ["check", "--registry", str(registry), "--now", NOW_TEXT, "--format", "json"]
    )
    return result.exit_code, json.loads(result.stdout)["violations"]


def test_approve_check_edit_stale_round_trip(registry_copy: Path):
    result = decide(
        registry_copy,
        "--approve",
        "--by",
        "h.liu",
        "--supervisor",
        "s.zhou",
        "--reason",
        "Loss: reported with photos",
    )
    assert result.exit_code == 0, result.output
    assert "Approval notice" in result.stdout
    written = (registry_copy / f"decisions/{PENDING}.yaml").read_text()
    assert "request_sha256: " in written and "decided_at: 2026-11-25T12:00:00+08:00" in written
    assert 'reasons:\n  - "Loss: reported with photos"' in written
    code, violations = check(registry_copy)
    assert code == 0 and not [v for v in violations if v["subject"].endswith(PENDING)]

    request = registry_copy / f"requests/{PENDING}.yaml"
    request.write_text("# reformatted, same content\n" + request.read_text())
    assert check(registry_copy)[0] == 0, "comments do not change what was decided"
    request.write_text(
        request.read_text().replace(
            "submitted_at: 2026-11-24T16:20:00+08:00", "submitted_at: 2026-11-24T16:21:00+08:00"
        )
    )
    code, violations = check(registry_copy)
    assert code == 1 and [
        v["code"] for v in violations if v["subject"] == f"decision:{PENDING}"
    ] == ["DECISION_STALE"]


def test_deciding_again_needs_replace_and_keeps_comments(registry_copy: Path):
    assert decide(registry_copy, "--approve", "--by", "h.liu", "--reason", "ok").exit_code == 0
    path = registry_copy / f"decisions/{PENDING}.yaml"
    path.write_text(
        path.read_text().replace("decision: approved", "decision: approved  # checked the photos")
    )
    again = decide(registry_copy, "--reject", "--by", "m.guo", "--reason", "Window too wide")
    assert again.exit_code == 1 and "--replace" in again.output
    replaced = decide(
        registry_copy, "--reject", "--by", "m.guo", "--reason", "Window too wide", "--replace"
    )
    assert replaced.exit_code == 0, replaced.output
    text = path.read_text()
    assert "decision: rejected  # checked the photos" in text and "decided_by: m.guo" in text
    assert "Rejection notice" in replaced.stdout


@pytest.mark.parametrize(
    "args,code",
    [
        (["--approve", "--by", "d.he", "--reason", "x"], "DECISION_NOT_SECURITY_OFFICE"),
        (["--approve", "--by", "y.zhang", "--reason", "x"], "DECISION_SELF_APPROVAL"),
        (["--reject", "--by", "h.liu"], "DECISION_REJECTION_WITHOUT_REASON"),
        (
            ["--approve", "--by", "h.liu", "--narrow", "cameras=CAM-GATE-01"],
            "DECISION_SCOPE_WIDENED",
        ),
        (
            ["--approve", "--by", "h.liu", "--narrow", "ends=2027-01-30T00:00:00+08:00"],
            "DECISION_SCOPE_WIDENED",
        ),
        (["--approve", "--by", "h.liu", "--supervisor", "y.zhang"], "DECISION_SUPERVISOR_INVOLVED"),
        (["--approve", "--by", "nobody"], "E_REFERENCE"),
    ],
)
def test_what_check_would_reject_is_refused_and_nothing_written(registry_copy, args, code):
    result = decide(registry_copy, *args)
    assert result.exit_code == 1, result.output
    assert code in result.output
    assert not (registry_copy / f"decisions/{PENDING}.yaml").exists()


def test_approving_a_request_that_breaks_the_rule_book_is_refused(registry_copy: Path):
    request = registry_copy / f"requests/{PENDING}.yaml"
    request.write_text(
        request.read_text().replace("category: lost_property", "category: curiosity")
    )
    result = decide(registry_copy, "--approve", "--by", "h.liu")
    assert result.exit_code == 1 and "REQUEST_PURPOSE_NOT_ALLOWED" in result.output
    rejected = decide(registry_copy, "--reject", "--by", "h.liu", "--reason", "Not a purpose")
    assert rejected.exit_code == 0, rejected.output


def test_bad_flags_are_tool_errors(registry_copy: Path):
    assert decide(registry_copy, "--by", "h.liu").exit_code == 2
    assert (
        decide(registry_copy, "--approve", "--by", "h.liu", "--narrow", "colour=red").exit_code == 1
    )
    unknown = CliRunner().invoke(
        cli,
        ["decide", "REQ-2026-0999", "--approve", "--by", "h.liu", "--registry", str(registry_copy)],
    )
    assert unknown.exit_code == 1 and "no readable request" in unknown.output
