"""Enforcement on a real directory tree: deletes, holds, grants, path safety, fail-closed."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from cctv_policy.audit.log import AuditError, AuditLog
from cctv_policy.cli.main import cli
from cctv_policy.demo import write_footage
from cctv_policy.enforce.job import prepare, run_apply
from cctv_policy.enforce.models import Scope
from cctv_policy.registry import load_registry
from cctv_policy.registry.types import parse_rfc3339
from cctv_policy.rulebook.evaluation import Evaluation
from storage_backends.filesystem import FilesystemBackend
from testing.helpers import DEMO_LAYOUT as LAYOUT
from testing.helpers import apply_argv, apply_at, demo_footage, footage_keys
from tests.conftest import DEMO_REGISTRY, NOW, NOW_TEXT


@pytest.fixture
def footage(tmp_path: Path) -> Path:
    # Three cameras are enough: one under a hold, one with an active grant, one with neither.
    return demo_footage(tmp_path / "nas-main", ["CAM-CAN-03", "CAM-GYM-01", "CAM-LIB-01"], NOW)


@pytest.fixture
def live_footage(tmp_path: Path) -> Path:
    """Footage up to the real clock, for the CLI's apply (it runs on the system clock)."""
    root = tmp_path / "live-nas"
    write_footage(
        root,
        LAYOUT,
        ["CAM-CAN-03", "CAM-GYM-01", "CAM-LIB-01"],
        datetime.now(UTC),
        days=40,
        segment_minutes=120,
    )
    return root


def run(root: Path, audit: Path, now: datetime = NOW):
    """Apply at a fixed clock (library: the CLI has no --now)."""
    return apply_at(DEMO_REGISTRY, {"nas-main": root}, audit, now, target="nas-main")


def cli_apply(root: Path, audit: Path, *extra: str, registry: Path = DEMO_REGISTRY):
    return CliRunner().invoke(cli, apply_argv(root, audit, *extra, registry=registry))


def test_apply_deletes_expired_keeps_young_and_held(footage: Path, tmp_path: Path):
    before = footage_keys(footage)
    run(footage, tmp_path / "audit.jsonl")
    after = footage_keys(footage)
    cutoff = NOW - timedelta(days=30)
    for key in before:
        camera, start, seconds = LAYOUT.parse(key)
        end = start + timedelta(seconds=seconds)
        held = (
            camera == "CAM-CAN-03"
            and start.date().isoformat() == "2026-10-18"
            and 16 <= start.hour <= 20
        )  # HOLD-2026-0002: 2026-10-18 17:00-21:00Z
        if end < cutoff and not held:
            assert key not in after, key
        else:
            assert key in after, key
    assert len(before - after) > 350


def test_grant_exports_exactly_the_approved_segments(footage: Path, tmp_path: Path):
    run(footage, tmp_path / "audit.jsonl")
    (grant,) = (footage / ".cctv-policy/grants").glob("REQ-2026-0042--viewing-station--*")
    manifest = json.loads((grant / "MANIFEST.json").read_text())
    # REQ-2026-0042: CAM-LIB-01, 2026-11-18 06:00-08:00Z; segments are 2 h on even hours.
    assert [f["key"] for f in manifest["files"]] == [
        "CAM-LIB-01/2026/11/18/20261118T060000Z_7200s.mp4"
    ]
    exported = grant / manifest["files"][0]["key"]
    assert not os.access(exported, os.W_OK) or os.geteuid() == 0
    assert oct(exported.stat().st_mode)[-3:] == "444"


def test_grant_is_revoked_after_the_use_period(footage: Path, tmp_path: Path):
    run(footage, tmp_path / "audit.jsonl")
    later = parse_rfc3339("2026-11-29T00:00:00+08:00")
    write_footage(
        footage,
        LAYOUT,
        ["CAM-CAN-03", "CAM-GYM-01", "CAM-LIB-01"],
        later,
        days=4,
        segment_minutes=120,
    )  # the cameras kept recording meanwhile
    run(footage, tmp_path / "audit.jsonl", later)
    assert not list((footage / ".cctv-policy/grants").glob("REQ-2026-0042--*"))


def test_second_run_is_a_no_op(footage: Path, tmp_path: Path):
    run(footage, tmp_path / "audit.jsonl")
    plan = CliRunner().invoke(
        cli,
        [
            "plan",
            "--registry",
            str(DEMO_REGISTRY),
            "--now",
            NOW_TEXT,
            "--storage-root",
            f"nas-main={footage}",
            "--format",
            "json",
        ],
    )
    assert json.loads(plan.stdout)["actions"] == []


def test_plan_never_changes_storage(footage: Path):
    before = footage_keys(footage)
    result = CliRunner().invoke(
        cli,
        [
            "plan",
            "--registry",
            str(DEMO_REGISTRY),
            "--now",
            NOW_TEXT,
            "--storage-root",
            f"nas-main={footage}",
        ],
    )
    assert result.exit_code == 0
    assert footage_keys(footage) == before


def test_unparsable_and_symlinked_keys_are_reported_never_touched(footage: Path, tmp_path: Path):
    day = footage / "CAM-LIB-01/2026/10/16"
    (day / "notes.txt").write_text("not footage")
    outside = tmp_path / "outside.mp4"
    outside.write_text("precious")
    os.symlink(outside, day / "20261016T220000Z_3600s.mp4")
    prepared, _ = run(footage, tmp_path / "audit.jsonl")
    assert {s.key for s in prepared.plan.unparsable} >= {
        "CAM-LIB-01/2026/10/16/notes.txt",
        "CAM-LIB-01/2026/10/16/20261016T220000Z_3600s.mp4",
    }
    assert (day / "notes.txt").exists() and outside.read_text() == "precious"
    assert (day / "20261016T220000Z_3600s.mp4").is_symlink()


def test_backend_refuses_paths_outside_its_root(tmp_path: Path):
    backend = FilesystemBackend("t", tmp_path, LAYOUT)
    for key in [
        "../CAM-A/2026/01/01/20260101T000000Z_60s.mp4",
        "/etc/passwd",
        "CAM-A/2026/01/02/20260101T000000Z_60s.mp4",
    ]:
        result = backend.delete([key])
        assert result.deleted == [] and key in result.refused
    result = backend.delete(["../../etc/passwd"])
    assert result.deleted == [] and result.refused


def test_cli_apply_on_the_system_clock_deletes_expired_footage(live_footage: Path, tmp_path: Path):
    before = footage_keys(live_footage)
    result = cli_apply(live_footage, tmp_path / "audit.jsonl")
    assert result.exit_code == 0, result.output
    gone = before - footage_keys(live_footage)
    cutoff = datetime.now(UTC) - timedelta(days=30)
    assert gone and all(LAYOUT.parse(k)[1] < cutoff for k in gone)
    assert CliRunner().invoke(cli, ["apply", "--yes", "--now", NOW_TEXT]).exit_code == 2


def test_unwritable_audit_log_means_nothing_happens(live_footage: Path, tmp_path: Path):
    before = footage_keys(live_footage)
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the log directory should be")
    result = cli_apply(live_footage, blocker / "audit.jsonl")
    assert result.exit_code == 2
    assert "audit log" in result.output
    assert footage_keys(live_footage) == before


def test_engine_failure_means_nothing_happens(live_footage: Path, tmp_path: Path):
    before = footage_keys(live_footage)
    policies = tmp_path / "policies"
    policies.mkdir()
    (policies / "x.rego").write_text("package cctv.enforce\nimport rego.v1\nx := 1\n")
    result = cli_apply(live_footage, tmp_path / "audit.jsonl", "--policies", str(policies))
    assert result.exit_code == 2 and "undefined" in result.output
    assert footage_keys(live_footage) == before


def test_registry_with_input_errors_is_not_enforced(
    live_footage: Path, tmp_path: Path, registry_copy: Path
):
    (registry_copy / "holds" / "HOLD-2026-0002.yaml").write_text("id: [broken\n")
    before = footage_keys(live_footage)
    result = cli_apply(live_footage, tmp_path / "a.jsonl", registry=registry_copy)
    assert result.exit_code == 3 and "nothing acts on a registry" in result.output
    assert footage_keys(live_footage) == before
    refused = json.loads((tmp_path / "a.jsonl").read_text().splitlines()[-1])
    assert refused["event"] == "refused" and refused["command"] == "apply"


def test_policy_that_protects_nothing_is_stopped_by_the_floor(
    footage: Path, tmp_path: Path, embedded_engine
):
    """A buggy policy (no protections, 1-day retention) cannot delete held or young footage."""

    class NoProtection:
        name = "broken"

        def evaluate(self, entrypoint, input):
            if entrypoint == "cctv/enforce/decision":
                return {"retention_days": 1, "protections": [], "grants": []}
            if entrypoint == "cctv/check/part_names":
                return ["everything"]
            return []  # no violations: the gate lets it through

        def evaluate_many(self, entrypoints, input):
            return [self.evaluate(entrypoint, input) for entrypoint in entrypoints]

    registry = load_registry(DEMO_REGISTRY)
    prepared = prepare(
        Evaluation(registry, NoProtection(), NOW, "v"), Scope(root_overrides={"nas-main": footage})
    )
    run_apply(prepared, AuditLog(tmp_path / "audit.jsonl"))
    remaining = footage_keys(footage)
    assert "CAM-CAN-03/2026/10/18/20261018T180000Z_7200s.mp4" in remaining  # held
    assert any(k.startswith("CAM-LIB-01/2026/11/24/") for k in remaining)  # young
    assert prepared.plan.blocked_by_floor


def test_audit_log_detects_edit_reorder_and_truncation(footage: Path, tmp_path: Path):
    log = tmp_path / "audit.jsonl"
    run(footage, log)
    verify = ["audit", "verify", "--audit-log", str(log)]
    assert CliRunner().invoke(cli, verify).exit_code == 0
    lines = log.read_text().splitlines(keepends=True)
    original = "".join(lines)

    log.write_text(original.replace('"rule":"R3_RETENTION"', '"rule":"R3_RETENTI0N"', 1))
    assert CliRunner().invoke(cli, verify).exit_code == 1
    lines = original.splitlines(keepends=True)
    log.write_text("".join([lines[0], lines[2], lines[1], *lines[3:]]))
    assert CliRunner().invoke(cli, verify).exit_code == 1
    log.write_text("".join(lines[:-2]))
    result = CliRunner().invoke(cli, verify)
    assert result.exit_code == 1 and "cut off" in result.output
    log.write_text(original)
    assert CliRunner().invoke(cli, verify).exit_code == 0


def test_audit_append_raises_when_unwritable(tmp_path: Path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(AuditError):
        AuditLog(tmp_path / "f" / "log.jsonl").append("x")


def test_delete_never_follows_a_symlinked_directory(tmp_path: Path):
    root, outside = tmp_path / "root", tmp_path / "outside"
    (outside / "10").mkdir(parents=True)
    victim = outside / "10" / "20261010T000000Z_60s.mp4"
    victim.write_text("not ours")
    (root / "CAM-A" / "2026").mkdir(parents=True)
    os.symlink(outside, root / "CAM-A" / "2026" / "10")  # swapped in after planning
    result = FilesystemBackend("t", root, LAYOUT).delete(
        ["CAM-A/2026/10/10/20261010T000000Z_60s.mp4"]
    )
    assert result.deleted == [] and result.refused
    assert victim.read_text() == "not ours"


def test_shards_split_the_work_without_overlap(footage: Path):
    def planned(*extra: str) -> set[str]:
        result = CliRunner().invoke(
            cli,
            [
                "plan",
                "--registry",
                str(DEMO_REGISTRY),
                "--now",
                NOW_TEXT,
                "--storage-root",
                f"nas-main={footage}",
                "--format",
                "json",
                *extra,
            ],
        )
        assert result.exit_code == 0, result.output
        return {a["key"] for a in json.loads(result.stdout)["actions"] if a["action"] == "delete"}

    whole = planned()
    first, second = planned("--shard", "0/2"), planned("--shard", "1/2")
    assert whole and first and second
    assert first | second == whole and not first & second
    assert planned("--camera", "CAM-LIB-01") == {k for k in whole if k.startswith("CAM-LIB-01/")}
    bad = CliRunner().invoke(cli, ["plan", "--registry", str(DEMO_REGISTRY), "--shard", "2/2"])
    assert bad.exit_code == 2
