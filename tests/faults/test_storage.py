"""Storage under hostile or careless hands (issue 9, holes 7 and 8): symbolic links in the
state folder, a state folder others may write, local-time file names, a reviewed plan that
leaves out protective actions, shards, footage nobody manages, extraction into footage."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from cctv_policy.cli.main import cli
from cctv_policy.demo import write_footage
from cctv_policy.enforce.job import restrict_to_reviewed
from cctv_policy.enforce.models import Plan, Scope
from cctv_policy.registry import load_registry
from cctv_policy.rulebook.evaluation import Evaluation
from storage_backends.fdtree import UnsafeState
from storage_backends.layout import Layout, LayoutError
from testing.helpers import DEMO_LAYOUT as LAYOUT
from testing.helpers import apply_at, extract_at
from tests.conftest import DEMO_REGISTRY, NOW, NOW_TEXT


@pytest.fixture
def nas(tmp_path: Path) -> Path:
    root = tmp_path / "nas"
    write_footage(root, LAYOUT, ["CAM-CAN-03", "CAM-LIB-01"], NOW, days=40, segment_minutes=240)
    return root


def test_symlinked_grant_folder_never_changes_a_tree_outside(nas: Path, tmp_path: Path):
    outside = tmp_path / "outside"
    (outside / "sub").mkdir(parents=True)
    (outside / "sub" / "precious.txt").write_text("mine")
    os.chmod(outside, 0o700)
    grants = nas / ".cctv-policy" / "grants"
    grants.mkdir(parents=True)
    os.chmod(nas / ".cctv-policy", 0o750)
    os.symlink(outside, grants / "REQ-2026-0001--viewing-station--0000000000")
    prepared, _ = apply_at(DEMO_REGISTRY, {"nas-main": nas}, tmp_path / "audit.jsonl", NOW)
    assert oct(outside.stat().st_mode)[-3:] == "700"
    assert (outside / "sub" / "precious.txt").read_text() == "mine"
    reported = {u.key: u.reason for u in prepared.plan.unmanaged}
    assert any("symbolic link" in why for key, why in reported.items() if "grants" in key)
    # and the next run works as well
    apply_at(DEMO_REGISTRY, {"nas-main": nas}, tmp_path / "audit.jsonl", NOW)


def test_symlinked_state_folder_is_refused(nas: Path, tmp_path: Path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    os.symlink(elsewhere, nas / ".cctv-policy")
    with pytest.raises(UnsafeState, match="symbolic link"):
        apply_at(DEMO_REGISTRY, {"nas-main": nas}, tmp_path / "audit.jsonl", NOW)
    assert list(elsewhere.iterdir()) == []


def test_hold_manifest_is_never_written_through_a_symlink(nas: Path, tmp_path: Path):
    target = tmp_path / "target.json"
    holds = nas / ".cctv-policy" / "holds"
    holds.mkdir(parents=True)
    os.chmod(nas / ".cctv-policy", 0o750)
    os.symlink(target, holds / "hold:HOLD-2026-0002.json")
    apply_at(DEMO_REGISTRY, {"nas-main": nas}, tmp_path / "audit.jsonl", NOW)
    assert not target.exists()
    assert (nas / "CAM-CAN-03/2026/10/18/20261018T160000Z_14400s.mp4").exists()


def test_state_folder_writable_by_others_is_refused(nas: Path, tmp_path: Path):
    (nas / ".cctv-policy").mkdir()
    os.chmod(nas / ".cctv-policy", 0o777)
    before = sorted(nas.rglob("*.mp4"))
    with pytest.raises(UnsafeState, match="writable by group or others"):
        apply_at(DEMO_REGISTRY, {"nas-main": nas}, tmp_path / "audit.jsonl", NOW)
    assert sorted(nas.rglob("*.mp4")) == before


def test_layout_without_a_time_zone_is_an_input_error(registry_copy: Path):
    storage = registry_copy / "storage.yaml"
    storage.write_text(
        storage.read_text().replace(
            '{start:%Y%m%dT%H%M%SZ}_{seconds}s.mp4"', '{start:%Y%m%dT%H%M%S}_{seconds}s.mp4"'
        )
    )
    result = CliRunner().invoke(cli, ["check", "--registry", str(registry_copy)])
    assert result.exit_code == 3 and "storage.yaml" in result.output
    assert "which clock" in result.output


def test_local_time_names_are_read_in_their_zone_with_dst():
    layout = Layout(
        "{camera}/{start:%Y/%m/%d}/{start:%Y%m%d-%H%M%S}_{seconds}s.mp4", "Europe/Berlin"
    )
    _camera, start, _ = layout.parse("CAM-A/2026/11/18/20261118-143000_60s.mp4")
    assert start == datetime(2026, 11, 18, 13, 30, tzinfo=UTC)
    # 02:30 on 2026-10-25 happens twice in Berlin: the later reading, so never deleted early
    _, twice, _ = layout.parse("CAM-A/2026/10/25/20261025-023000_60s.mp4")
    assert twice == datetime(2026, 10, 25, 1, 30, tzinfo=UTC)
    # 02:30 on 2026-03-29 never happens there: not footage we can date, never touched
    assert layout.parse("CAM-A/2026/03/29/20260329-023000_60s.mp4") is None
    with pytest.raises(LayoutError, match="which clock"):
        Layout("{camera}/{start:%Y/%m/%d}/{start:%Y%m%d-%H%M%S}_{seconds}s.mp4")
    key = layout.key("CAM-A", datetime(2026, 11, 18, 13, 30, tzinfo=UTC), 60)
    assert key == "CAM-A/2026/11/18/20261118-143000_60s.mp4"


def test_a_reviewed_plan_cannot_leave_out_holds_and_revokes(
    nas: Path, tmp_path: Path, registry_copy: Path
):
    audit = tmp_path / "audit.jsonl"
    _prepared, _ = apply_at(registry_copy, {"nas-main": nas}, audit, NOW)
    decision = registry_copy / "decisions" / "REQ-2026-0042.yaml"
    decision.write_text(decision.read_text().replace("decided_by: h.liu", "decided_by: t.wang"))
    (registry_copy / "holds" / "HOLD-2026-0090.yaml").write_text(  # young footage, held at once
        (registry_copy / "holds" / "HOLD-2026-0002.yaml")
        .read_text()
        .replace("HOLD-2026-0002", "HOLD-2026-0090")
        .replace("CAM-CAN-03", "CAM-LIB-01")
        .replace("from: 2026-10-19T01:00:00+08:00", "from: 2026-11-20T01:00:00+08:00")
        .replace("to: 2026-10-19T05:00:00+08:00", "to: 2026-11-20T05:00:00+08:00")
    )
    from cctv_policy.enforce.job import prepare
    from cctv_policy.engine import load_policies
    from cctv_policy.engine.embedded import EmbeddedEngine

    engine = EmbeddedEngine(load_policies().without_tests())
    fresh = prepare(
        Evaluation(load_registry(registry_copy), engine, NOW, "v"),
        Scope(root_overrides={"nas-main": nas}),
    ).plan
    engine.close()
    reviewed = Plan(now=NOW, policy_version="v", input_hash="x", retention_days=30)  # empty
    kept = restrict_to_reviewed(fresh, reviewed)
    assert {a.action for a in kept.actions} == {"hold", "revoke"}
    assert any(a.action == "revoke" and a.request == "REQ-2026-0042" for a in kept.actions)


def test_shards_do_not_revoke_each_others_grants(nas: Path):
    def actions(*extra: str) -> list[dict]:
        result = CliRunner().invoke(
            cli,
            [
                "plan",
                "--registry",
                str(DEMO_REGISTRY),
                "--now",
                NOW_TEXT,
                "--storage-root",
                f"nas-main={nas}",
                "--format",
                "json",
                *extra,
            ],
        )
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)["actions"]

    whole = {a["grant"] for a in actions() if a["action"] == "grant"}
    assert whole
    assert {a["grant"] for a in actions("--shard", "0/2") if a["action"] == "grant"} == whole
    assert not [a for a in actions("--shard", "1/2") if a["action"] in ("grant", "revoke")]
    assert not [a for a in actions("--camera", "CAM-LIB-01") if a["action"] in ("grant", "revoke")]


def test_footage_nobody_manages_is_reported(nas: Path, tmp_path: Path):
    (nas / "CAM-OLD-09" / "2026" / "10" / "01").mkdir(parents=True)
    (nas / "CAM-OLD-09/2026/10/01/20261001T000000Z_60s.mp4").write_text("x")
    (nas / "CAM-ADM-01").mkdir()  # a camera of another target
    (nas / "REQ-2026-0038-20261120T020000Z").mkdir()  # a stray extraction package
    os.symlink(tmp_path, nas / "CAM-LINK-01")
    prepared, _ = apply_at(DEMO_REGISTRY, {"nas-main": nas}, tmp_path / "audit.jsonl", NOW)
    reported = {u.key: u.reason for u in prepared.plan.unmanaged}
    assert "removed or renamed" in reported["CAM-OLD-09"]
    assert "campus-s3" in reported["CAM-ADM-01"]
    assert "not a camera" in reported["REQ-2026-0038-20261120T020000Z"]
    assert "symbolic link" in reported["CAM-LINK-01"]
    assert (nas / "CAM-OLD-09/2026/10/01/20261001T000000Z_60s.mp4").exists()
    report = CliRunner().invoke(
        cli,
        [
            "report",
            "--registry",
            str(DEMO_REGISTRY),
            "--now",
            NOW_TEXT,
            "--storage-root",
            f"nas-main={nas}",
        ],
    )
    assert "## Unmanaged footage" in report.output and "CAM-OLD-09" in report.output


def test_extraction_never_writes_into_a_footage_target(
    nas: Path, tmp_path: Path, registry_copy: Path
):
    CliRunner().invoke(cli, ["extract", "keygen", "--out", str(tmp_path / "key")])
    code, output = extract_at(
        registry_copy,
        "REQ-2026-0038",
        "m.guo",
        "nas-main",
        nas,
        tmp_path / "key",
        tmp_path / "audit.jsonl",
        NOW - timedelta(days=5),
    )
    assert code == 1 and "holds camera footage" in output


def test_extraction_destination_cannot_be_moved_by_a_flag(
    nas: Path, tmp_path: Path, registry_copy: Path
):
    usb = tmp_path / "usb"
    usb.mkdir()
    CliRunner().invoke(cli, ["extract", "keygen", "--out", str(tmp_path / "key")])
    result = CliRunner().invoke(
        cli,
        [
            "extract",
            "REQ-2026-0038",
            "--registry",
            str(registry_copy),
            "--supervisor",
            "m.guo",
            "--to",
            "nas-export",
            "--signing-key",
            str(tmp_path / "key"),
            "--storage-root",
            f"nas-main={nas}",
            "--storage-root",
            f"nas-export={usb}",
            "--audit-log",
            str(tmp_path / "audit.jsonl"),
        ],
    )
    assert result.exit_code != 0 and list(usb.iterdir()) == []
