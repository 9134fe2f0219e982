"""The inspection report of the demo campus, as data, Markdown and HTML rendered by Chromium."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from cctv_policy.cli.main import cli
from cctv_policy.demo import write_footage
from testing.helpers import DEMO_LAYOUT as LAYOUT
from testing.helpers import apply_at
from tests.conftest import DEMO_REGISTRY, NOW, NOW_TEXT


@pytest.fixture(scope="module")
def campus(tmp_path_factory) -> Path:
    """Demo footage (40 days) swept once, so the audit log has deletes, holds and grants."""
    root = tmp_path_factory.mktemp("campus")
    write_footage(
        root / "nas",
        LAYOUT,
        ["CAM-CAN-03", "CAM-LIB-01", "CAM-GATE-01"],
        NOW,
        days=40,
        segment_minutes=240,
    )
    apply_at(
        DEMO_REGISTRY, {"nas-main": root / "nas"}, root / "audit.jsonl", NOW, target="nas-main"
    )
    return root


def report(campus: Path, *extra: str, audit: Path | None = None) -> str:
    result = CliRunner().invoke(
        cli,
        [
            "report",
            "--registry",
            str(DEMO_REGISTRY),
            "--now",
            NOW_TEXT,
            "--from",
            "2026-09-01T00:00:00+08:00",
            "--to",
            "2199-01-01T00:00:00Z",
            "--storage-root",
            f"nas-main={campus / 'nas'}",
            "--audit-log",
            str(audit or campus / "audit.jsonl"),
            *extra,
        ],
    )
    assert result.exit_code == 0, result.output
    return result.output


def test_markdown_covers_what_the_inspection_needs(campus: Path):
    text = report(campus)
    for heading in (
        "## Cameras",
        "## Requests by unit and outcome",
        "## Requests by purpose",
        "## Grants and revocations",
        "## Extractions",
        "## Overdue usage reports",
        "## Violations",
        "## Audit log",
    ):
        assert heading in text
    assert "(kept by hold:HOLD-2026-0002)" in text  # held footage past retention, explained
    assert "over retention" not in text  # the sweep left nothing else behind
    assert "| CAM-ADM-01 Administration lobby | admin_lobby | campus-s3 | not read | ok |" in text
    assert "REQ-2026-0018 (dormitory-management, l.chen): 7 days late" in text
    assert "- grant REQ-2026-0042--viewing-station" in text
    assert "intact:" in text


def test_unswept_footage_is_flagged_over_retention(tmp_path: Path):
    write_footage(tmp_path / "nas", LAYOUT, ["CAM-LIB-02"], NOW, days=40, segment_minutes=240)
    text = report(tmp_path, audit=tmp_path / "none.jsonl")
    assert "CAM-LIB-02 Library entrance | library | nas-main | 40.0 **over retention**" in text


def test_tampered_audit_log_shows_in_the_report(campus: Path, tmp_path: Path):
    log = tmp_path / "audit.jsonl"
    log.write_text(campus.joinpath("audit.jsonl").read_text().replace('"hold"', '"h0ld"', 1))
    assert "TAMPERED" in report(campus, audit=log)


def test_html_renders_with_charts_in_headless_chromium(campus: Path, tmp_path: Path):
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if not browser:
        pytest.skip("no headless Chromium (Debian package `chromium`; .ci/run installs it)")
    page = tmp_path / "inspection.html"
    report(campus, "--format", "html", "--out", str(page))
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
    ]
    dom = subprocess.run(
        [browser, *flags, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120
    ).stdout
    assert 'id="age-chart"' in dom and 'id="month-chart"' in dom
    assert dom.count("<rect") > 10 and "retention 30 days" in dom
    shot = tmp_path / "inspection.png"
    subprocess.run(
        [browser, *flags, "--window-size=1280,2000", f"--screenshot={shot}", page.as_uri()],
        capture_output=True,
        timeout=120,
    )
    assert shot.exists() and shot.stat().st_size > 50_000  # a rendered page, not a blank one
