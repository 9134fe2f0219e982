"""Waivers with an expiry (#28): a known warning is acknowledged by the security office until a
date, not silenced forever. A waiver in force moves its warning out of the count (shown as
waived); an expired one is itself a finding; a waiver by anyone else, or of an error, waives
nothing and is an error of its own."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from cctv_policy.cli.main import cli
from testing.helpers import DEMO_REGISTRY, campus_repo, git
from tests.conftest import NOW_TEXT

# At NOW the example campus has two warnings: CAM-CAN-03's service is overdue (R2) and
# REQ-2026-0018's usage report is overdue (R11).
MAINTENANCE = ("CAMERA_MAINTENANCE_OVERDUE", "camera:CAM-CAN-03")


def write_waiver(
    registry: Path,
    waiver_id: str,
    code: str,
    subject: str,
    until: str = "2026-12-31T18:00:00+08:00",
    decided_by: str = "h.liu",
) -> None:
    folder = registry / "waivers"
    folder.mkdir(exist_ok=True)
    (folder / f"{waiver_id}.yaml").write_text(
        f"id: {waiver_id}\ncode: {code}\nsubject: {subject}\n"
        'reason: "Replacement part ordered, arrives in December"\n'
        f"until: {until}\ndecided_by: {decided_by}\n"
        "decided_at: 2026-11-20T10:00:00+08:00\n",
        encoding="utf-8",
    )


def check(registry: Path, *extra: str) -> tuple[int, dict]:
    args = ["check", "--registry", str(registry), "--now", NOW_TEXT, "--format", "json", *extra]
    result = CliRunner().invoke(cli, args)
    return result.exit_code, json.loads(result.output)


def codes(report: dict) -> set[tuple[str, str]]:
    return {(v["code"], v["subject"]) for v in report["violations"]}


def test_a_waiver_in_force_shows_the_warning_as_waived_and_does_not_count_it(registry_copy):
    write_waiver(registry_copy, "WAIVER-2026-0001", *MAINTENANCE)
    code, report = check(registry_copy)
    assert code == 0
    assert MAINTENANCE not in codes(report)
    assert [(w["code"], w["subject"], w["waiver"]) for w in report["waived"]] == [
        (*MAINTENANCE, "WAIVER-2026-0001")
    ]
    assert report["summary"]["warnings"] == 1 and report["summary"]["waived"] == 1
    text = CliRunner().invoke(cli, ["check", "--registry", str(registry_copy), "--now", NOW_TEXT])
    assert "WAIVER-2026-0001" in text.output and "CAM-CAN-03" in text.output
    assert "1 warning(s)" in text.output


def test_an_expired_waiver_is_itself_a_finding_and_waives_nothing(registry_copy):
    write_waiver(registry_copy, "WAIVER-2026-0001", *MAINTENANCE, until="2026-11-24T18:00:00+08:00")
    _, report = check(registry_copy)
    assert MAINTENANCE in codes(report)
    assert ("WAIVER_EXPIRED", "waiver:WAIVER-2026-0001") in codes(report)
    assert report["waived"] == []


def test_a_waiver_by_someone_outside_the_security_office_is_an_error(registry_copy):
    write_waiver(registry_copy, "WAIVER-2026-0001", *MAINTENANCE, decided_by="j.ma")
    code, report = check(registry_copy)
    assert code == 1
    assert ("WAIVER_NOT_SECURITY_OFFICE", "waiver:WAIVER-2026-0001") in codes(report)
    assert MAINTENANCE in codes(report) and report["waived"] == []


def test_an_error_cannot_be_waived(registry_copy):
    hold = registry_copy / "holds" / "HOLD-2026-0002.yaml"
    hold.write_text(
        hold.read_text(encoding="utf-8").replace("created_by: h.liu", "created_by: j.ma"),
        encoding="utf-8",
    )
    write_waiver(
        registry_copy, "WAIVER-2026-0001", "HOLD_NOT_SECURITY_OFFICE", "hold:HOLD-2026-0002"
    )
    code, report = check(registry_copy)
    assert code == 1
    assert ("HOLD_NOT_SECURITY_OFFICE", "hold:HOLD-2026-0002") in codes(report)
    assert ("WAIVER_CODE_NOT_WAIVABLE", "waiver:WAIVER-2026-0001") in codes(report)
    assert report["waived"] == []


def test_fail_on_warn_fails_on_warnings_that_are_not_waived(registry_copy):
    assert check(registry_copy)[0] == 0
    assert check(registry_copy, "--fail-on-warn")[0] == 1
    write_waiver(registry_copy, "WAIVER-2026-0001", *MAINTENANCE)
    (registry_copy / "reports" / "REQ-2026-0018.yaml").write_text(
        "request: REQ-2026-0018\nsubmitted_by: l.chen\n"
        "submitted_at: 2026-11-25T09:00:00+08:00\nsummary: Footage viewed; nothing found\n"
        "copies: destroyed\n",
        encoding="utf-8",
    )
    code, report = check(registry_copy, "--fail-on-warn")
    assert (code, report["summary"]["warnings"], report["summary"]["waived"]) == (0, 0, 1)


def test_a_waiver_is_written_by_the_officer_it_names_like_a_decision(tmp_path: Path):
    repo = campus_repo(tmp_path / "campus", DEMO_REGISTRY)
    registry = repo / "registry"
    args = ["check", "--registry", str(registry), "--now", NOW_TEXT, "--verify-provenance"]
    assert "waiver:WAIVER-2026-0001" not in CliRunner().invoke(cli, args).output
    write_waiver(registry, "WAIVER-2026-0001", "CAMERA_SILENT", "camera:CAM-PRK-02")
    git(repo, "commit", "-q", "-am", "waive my own camera", person="j.ma")
    result = CliRunner().invoke(cli, [*args, "--format", "json"])
    assert ("PROVENANCE_MISMATCH", "waiver:WAIVER-2026-0001") in codes(json.loads(result.output))
