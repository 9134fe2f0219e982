"""The corpus under tests/data: each case overlays files on the demo registry and names the one
violation it must cause (code, file, line, exit code). Bad input must also leave every file as
it was and break nothing else: all other violations are the demo registry's own."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from cctv_policy.cli.main import cli
from tests.conftest import DATA, DEMO_REGISTRY, NOW_TEXT

CASES = sorted(p for group in ("bad", "violations") for p in (DATA / group).iterdir() if p.is_dir())

SPEC_CODES = {
    "E_YAML",
    "E_SCHEMA",
    "E_DUPLICATE_ID",
    "E_REFERENCE",
    "CAMERA_PRIVATE_AREA",
    "CAMERA_UNCERTIFIED_INSTALLER",
    "CAMERA_UNAPPROVED_STORAGE",
    "REQUEST_NOT_IN_ADVANCE",
    "REQUEST_WINDOW_INVALID",
    "REQUEST_FOOTAGE_BEYOND_RETENTION",
    "REQUEST_USE_TOO_LONG",
    "REQUEST_PURPOSE_NOT_ALLOWED",
    "REQUEST_THIRD_PARTY_WITHOUT_BASIS",
    "REQUEST_APPLICANT_REPORT_OVERDUE",
    "DECISION_UNKNOWN_REQUEST",
    "DECISION_NOT_SECURITY_OFFICE",
    "DECISION_SELF_APPROVAL",
    "DECISION_REJECTION_WITHOUT_REASON",
    "DECISION_SCOPE_WIDENED",
    "DECISION_BEFORE_SUBMISSION",
    "REPORT_OVERDUE",
    "REPORT_UNKNOWN_REQUEST",
    "HOLD_NOT_SECURITY_OFFICE",
}


def run_check(registry: Path) -> tuple[int, list[dict]]:
    result = CliRunner().invoke(
        cli, ["check", "--registry", str(registry), "--now", NOW_TEXT, "--format", "json"]
    )
    assert result.exit_code in (0, 1, 3), result.output
    violations = json.loads(result.stdout)["violations"]
    for v in violations:
        v["file"] = str(Path(v["file"]).relative_to(registry))
    return result.exit_code, violations


def digest_tree(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def demo_violations(tmp_path_factory) -> set[tuple[str, str, int]]:
    copy = tmp_path_factory.mktemp("demo") / "registry"
    shutil.copytree(DEMO_REGISTRY, copy)
    _, violations = run_check(copy)
    return {(v["code"], v["file"], v["line"]) for v in violations}


def test_every_spec_code_has_a_corpus_case():
    expected = {yaml.safe_load((case / "expect.yaml").read_text())["code"] for case in CASES}
    assert expected >= SPEC_CODES, f"no corpus case for {sorted(SPEC_CODES - expected)}"


@pytest.mark.parametrize("case", CASES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_corpus_case(case: Path, registry_copy: Path, demo_violations):
    expect = yaml.safe_load((case / "expect.yaml").read_text())
    for rel in expect.get("remove", []):
        (registry_copy / rel).unlink()
    overlay = case / "registry"
    if overlay.exists():
        shutil.copytree(overlay, registry_copy, dirs_exist_ok=True)
    before = digest_tree(registry_copy)

    exit_code, violations = run_check(registry_copy)

    assert exit_code == expect["exit"], violations
    hits = [v for v in violations if v["code"] == expect["code"]]
    assert hits, f"{expect['code']} not reported; got {[v['code'] for v in violations]}"
    assert any(v["file"] == expect["file"] and v["line"] == expect["line"] for v in hits), hits
    assert all(v["message"] and v["subject"] for v in hits)
    allowed = {expect["code"], *expect.get("also", [])}
    unexpected = [
        v
        for v in violations
        if v["code"] not in allowed and (v["code"], v["file"], v["line"]) not in demo_violations
    ]
    assert not unexpected, f"the case broke something else: {unexpected}"
    assert digest_tree(registry_copy) == before, "check must never change the registry"
