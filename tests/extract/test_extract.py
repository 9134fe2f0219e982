"""Supervised extraction: every refusal touches nothing; a tampered package fails verify."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from cctv_policy.cli.main import cli
from cctv_policy.demo import write_footage
from cctv_policy.registry.types import parse_rfc3339
from testing.helpers import DEMO_LAYOUT as LAYOUT
from testing.helpers import extract_at, point_export_target
from tests.conftest import DEMO_REGISTRY

DURING_USE = "2026-11-20T10:00:00+08:00"  # REQ-2026-0038 (export_copy) is in its use period


@pytest.fixture
def site(tmp_path: Path) -> Path:
    write_footage(
        tmp_path / "nas",
        LAYOUT,
        ["CAM-SPT-01", "CAM-SPT-02", "CAM-GYM-01", "CAM-LIB-01", "CAM-GATE-03"],
        parse_rfc3339("2026-11-25T12:00:00+08:00"),
        days=12,
        segment_minutes=120,
    )
    (tmp_path / "exports").mkdir()
    shutil.copytree(DEMO_REGISTRY, tmp_path / "site-registry")
    point_export_target(tmp_path / "site-registry", tmp_path / "exports")
    assert (
        CliRunner().invoke(cli, ["extract", "keygen", "--out", str(tmp_path / "key")]).exit_code
        == 0
    )
    return tmp_path


@dataclass
class Outcome:
    exit_code: int
    output: str


def run(
    site: Path,
    request_id: str,
    *args: str,
    registry: Path | None = None,
    now: str = DURING_USE,
    audit: Path | None = None,
) -> Outcome:
    """An extraction at a fixed clock through the library (the CLI runs on the system clock),
    with the CLI's exit codes: 0 done, 1 refused, 2 could not run, 3 bad registry."""
    flags = dict(zip(args[::2], args[1::2], strict=False))
    if registry is not None:
        point_export_target(registry, site / "exports")
    code, output = extract_at(
        registry or site / "site-registry",
        request_id,
        flags["--supervisor"],
        flags["--to"],
        site / "nas",
        site / "key",
        audit or site / "audit.jsonl",
        parse_rfc3339(now),
    )
    return Outcome(code, output)


def exported(site: Path) -> list[Path]:
    return [p for p in (site / "exports").rglob("*") if p.is_file()]


def test_extracts_exactly_the_approved_scope_with_a_signed_manifest(site: Path):
    result = run(site, "REQ-2026-0038", "--supervisor", "m.guo", "--to", "nas-export")
    assert result.exit_code == 0, result.output
    (package,) = (site / "exports").iterdir()
    manifest = json.loads((package / "MANIFEST.json").read_text())
    # scope: CAM-SPT-01/02 (not CAM-GYM-01), 2026-11-16 07:30-09:00Z -> the 06:00 and 08:00 segments
    assert sorted(f["path"] for f in manifest["files"]) == [
        f"{c}/2026/11/16/20261116T{h}0000Z_7200s.mp4"
        for c in ("CAM-SPT-01", "CAM-SPT-02")
        for h in ("06", "08")
    ]
    assert manifest["supervisor"] == "m.guo" and manifest["request"] == "REQ-2026-0038"
    assert manifest["policy_version"]
    events = [json.loads(line)["event"] for line in (site / "audit.jsonl").read_text().splitlines()]
    assert events.count("extract_file") == 4 and events[-1] == "extract_finished"
    verify = CliRunner().invoke(
        cli, ["extract", "verify", str(package), "--public-key", str(site / "key.pub")]
    )
    assert verify.exit_code == 0 and "4 files" in verify.output


@pytest.mark.parametrize(
    "args,now,why",
    [
        (
            ["REQ-2026-0099", "--supervisor", "m.guo", "--to", "nas-export"],
            DURING_USE,
            "no request",
        ),
        (
            ["REQ-2026-0046", "--supervisor", "m.guo", "--to", "nas-export"],
            DURING_USE,
            "not decided",
        ),
        (["REQ-2026-0025", "--supervisor", "m.guo", "--to", "nas-export"], DURING_USE, "rejected"),
        (
            ["REQ-2026-0038", "--supervisor", "m.guo", "--to", "nas-export"],
            "2026-11-25T10:00:00+08:00",
            "may be used only",
        ),
        (
            ["REQ-2026-0042", "--supervisor", "s.zhou", "--to", "nas-export"],
            "2026-11-22T10:00:00+08:00",
            "supervised viewing only",
        ),
        (
            ["REQ-2026-0038", "--supervisor", "f.zhao", "--to", "nas-export"],
            DURING_USE,
            "may not supervise",
        ),
        (
            ["REQ-2026-0038", "--supervisor", "nobody", "--to", "nas-export"],
            DURING_USE,
            "not in people.yaml",
        ),
        (
            ["REQ-2026-0038", "--supervisor", "s.zhou", "--to", "nas-export"],
            DURING_USE,
            "names m.guo as supervisor",
        ),
        (
            ["REQ-2026-0038", "--supervisor", "m.guo", "--to", "usb-legacy"],
            DURING_USE,
            "not an approved",
        ),
        (
            ["REQ-2026-0038", "--supervisor", "m.guo", "--to", "/tmp/my-laptop"],
            DURING_USE,
            "personal devices",
        ),
    ],
)
def test_refusals_say_why_and_copy_nothing(site: Path, args, now, why):
    result = run(site, *args, now=now)
    assert result.exit_code == 1, result.output
    assert why in result.output and "Nothing was copied" in result.output
    assert exported(site) == []


def test_applicant_cannot_supervise(site: Path, registry_copy: Path):
    people = registry_copy / "people.yaml"
    people.write_text(
        people.read_text().replace(
            "  - id: f.zhao\n    name: Zhao Fang\n    unit: sports\n    roles: [applicant]",
            "  - id: f.zhao\n    name: Zhao Fang\n    unit: sports\n"
            "    roles: [applicant, supervisor]",
        )
    )
    decision = registry_copy / "decisions" / "REQ-2026-0038.yaml"
    decision.write_text(decision.read_text().replace("  supervised_by: m.guo\n", "  notes: none\n"))
    result = run(
        site,
        "REQ-2026-0038",
        "--supervisor",
        "f.zhao",
        "--to",
        "nas-export",
        registry=registry_copy,
    )
    assert result.exit_code == 1 and "is the applicant" in result.output
    assert exported(site) == []


def test_third_party_handover_needs_the_approvals_permission(site: Path, registry_copy: Path):
    decision = registry_copy / "decisions" / "REQ-2026-0035.yaml"
    decision.write_text(
        decision.read_text().replace("third_party_allowed: true", "third_party_allowed: false")
    )
    result = run(
        site,
        "REQ-2026-0035",
        "--supervisor",
        "m.guo",
        "--to",
        "nas-export",
        registry=registry_copy,
        now="2026-11-17T10:00:00+08:00",
    )
    assert result.exit_code == 1 and "third party" in result.output
    assert exported(site) == []


def test_unwritable_audit_log_copies_nothing(site: Path):
    (site / "blocker").write_text("x")
    result = run(
        site,
        "REQ-2026-0038",
        "--supervisor",
        "m.guo",
        "--to",
        "nas-export",
        audit=site / "blocker" / "audit.jsonl",
    )
    assert result.exit_code == 2 and exported(site) == []


@pytest.mark.parametrize(
    "tamper,problem",
    [
        ("edit_file", "differs"),
        ("add_file", "not in the manifest"),
        ("remove_file", "missing"),
        ("edit_manifest", "signature"),
        ("other_key", "signature"),
    ],
)
def test_tampered_package_fails_verify(site: Path, tamper: str, problem: str):
    assert run(site, "REQ-2026-0038", "--supervisor", "m.guo", "--to", "nas-export").exit_code == 0
    (package,) = (site / "exports").iterdir()
    files = sorted(p for p in package.rglob("*.mp4"))
    public = site / "key.pub"
    if tamper == "edit_file":
        files[0].chmod(0o644)
        files[0].write_bytes(b"replaced footage")
    elif tamper == "add_file":
        (package / "extra.mp4").write_bytes(b"x")
    elif tamper == "remove_file":
        files[0].unlink()
    elif tamper == "edit_manifest":
        manifest = package / "MANIFEST.json"
        manifest.write_text(
            manifest.read_text().replace('"supervisor":"m.guo"', '"supervisor":"s.zhou"')
        )
    else:
        CliRunner().invoke(cli, ["extract", "keygen", "--out", str(site / "other")])
        public = site / "other.pub"
    result = CliRunner().invoke(
        cli, ["extract", "verify", str(package), "--public-key", str(public)]
    )
    assert result.exit_code == 1 and problem in result.output
