"""The violations register (R12) in the inspection report: entries, and detected violations
that nobody registered within config.register_within_days."""

from __future__ import annotations

import shutil
from pathlib import Path

from click.testing import CliRunner

from cctv_policy.cli.main import cli
from tests.conftest import DEMO_REGISTRY, NOW_TEXT


def _report(registry: Path, *extra: str) -> str:
    result = CliRunner().invoke(
        cli, ["report", "--registry", str(registry), "--now", NOW_TEXT, *extra]
    )
    assert result.exit_code == 0, result.output
    return result.output


def test_the_register_is_in_the_report():
    text = _report(DEMO_REGISTRY)
    assert "## Violations register" in text
    assert "| VIO-2026-0001 | R7 | - | 2026-10-09 by h.liu | The copy was deleted" in text
    assert "| VIO-2026-0002 | R11 REPORT_OVERDUE | request:REQ-2026-0018 |" in text
    assert "| (none yet) | OPEN |" in text
    html = _report(DEMO_REGISTRY, "--format", "html")
    assert 'id="violations-register"' in html and "VIO-2026-0001" in html


def test_a_detected_violation_left_out_of_the_register_is_listed(registry_copy: Path):
    request = registry_copy / "requests" / "REQ-2026-0027.yaml"
    request.write_text(request.read_text().replace("disciplinary_hearing", "curiosity"))
    text = _report(registry_copy)
    assert "Detected violations not in the register after 7 days:" in text
    assert "- request:REQ-2026-0027 REQUEST_PURPOSE_NOT_ALLOWED (visible since 2026-11-08)" in text
    shutil.copy(
        registry_copy / "violations" / "VIO-2026-0002.yaml",
        registry_copy / "violations" / "VIO-2026-0003.yaml",
    )
    entry = registry_copy / "violations" / "VIO-2026-0003.yaml"
    text = entry.read_text().replace("VIO-2026-0002", "VIO-2026-0003")
    entry.write_text(text.replace("request:REQ-2026-0018", "request:REQ-2026-0027"))
    assert "REQUEST_PURPOSE_NOT_ALLOWED (visible since" not in _report(registry_copy)
