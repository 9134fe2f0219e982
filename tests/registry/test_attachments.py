"""Attachments verified (R4): the files in attachments/<REQ-ID>/ must be the ones a request
names by SHA-256; proof is required for the purposes config names."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from cctv_policy.cli.main import cli
from tests.conftest import DEMO_REGISTRY, NOW_TEXT

FORM = Path("attachments/REQ-2026-0047/insurance-claim-form.pdf")


def check(registry: Path) -> tuple[int, list[dict]]:
    result = CliRunner().invoke(
        cli, ["check", "--registry", str(registry), "--now", NOW_TEXT, "--format", "json"]
    )
    return result.exit_code, json.loads(result.stdout)["violations"]


def codes(violations: list[dict]) -> set[str]:
    return {v["code"] for v in violations}


def test_demo_attachments_match():
    code, violations = check(DEMO_REGISTRY)
    assert code == 0 and not {c for c in codes(violations) if "ATTACHMENT" in c or "PROOF" in c}


def test_an_edited_attachment_is_a_mismatch_at_its_sha256(registry_copy: Path):
    (registry_copy / FORM).write_bytes(b"%PDF-1.4 another form\n")
    code, violations = check(registry_copy)
    (hit,) = [v for v in violations if v["code"] == "REQUEST_ATTACHMENT_MISMATCH"]
    assert code == 1 and hit["file"].endswith("requests/REQ-2026-0047.yaml")
    assert hit["line"] == 20 and hit["field"] == "attachments.0.sha256"


def test_a_removed_attachment_is_missing(registry_copy: Path):
    (registry_copy / FORM).unlink()
    code, violations = check(registry_copy)
    assert code == 1 and "REQUEST_ATTACHMENT_MISSING" in codes(violations)


def test_a_request_that_needs_proof_must_attach_some(registry_copy: Path):
    config = registry_copy / "config.yaml"
    config.write_text(
        config.read_text().replace(
            "proof_required_for: [law_enforcement_request]",
            "proof_required_for: [law_enforcement_request, insurance_claim]",
        )
    )
    _, violations = check(registry_copy)
    missing = [v["subject"] for v in violations if v["code"] == "REQUEST_PROOF_MISSING"]
    assert missing == ["request:REQ-2026-0025"]  # REQ-2026-0047 attaches its claim form


def test_odd_entries_of_the_store_are_named(registry_copy: Path):
    (registry_copy / "attachments" / "loose.pdf").write_bytes(b"x")
    (registry_copy / "attachments" / "REQ-2026-0047" / "scans").mkdir()
    (registry_copy / "attachments" / "REQ-2026-0999").mkdir()
    code, violations = check(registry_copy)
    assert code == 3
    files = {(v["code"], v["file"]) for v in violations}
    assert any(c == "E_SCHEMA" and f.endswith("attachments/loose.pdf") for c, f in files)
    assert any(c == "E_SCHEMA" and f.endswith("REQ-2026-0047/scans") for c, f in files)
    assert any(c == "E_REFERENCE" and f.endswith("attachments/REQ-2026-0999/") for c, f in files)
