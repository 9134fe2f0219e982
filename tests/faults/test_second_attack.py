"""The second round of attacks on the enforcer (issue 9): each was reproduced on the code
before this change by an outside tester; each now holds."""

from __future__ import annotations

import json
import os
import subprocess
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from cctv_policy.audit.log import AuditError, AuditLog
from cctv_policy.cli.main import cli
from cctv_policy.demo import write_footage
from storage_backends.fdtree import UnsafeState
from storage_backends.layout import Layout
from testing.helpers import DEMO_LAYOUT as LAYOUT
from testing.helpers import (
    apply_argv,
    apply_at,
    demo_footage,
    extract_at,
    footage_keys,
    point_export_target,
)
from tests.conftest import DEMO_REGISTRY, NOW, NOW_TEXT


@pytest.fixture
def nas(tmp_path: Path) -> Path:
    return demo_footage(tmp_path / "nas", ["CAM-CAN-03", "CAM-LIB-01", "CAM-GATE-01"], NOW)


def test_a_state_folder_owned_by_someone_else_is_refused(nas: Path, tmp_path: Path):
    """The account that owns the footage (e.g. the recorder's) pre-creates the state folder
    with a forged grant: not trusted."""
    grant = nas / ".cctv-policy/grants/REQ-2026-0042--viewing-station--forged"
    grant.mkdir(parents=True)
    (grant / "MANIFEST.json").write_text('{"grant": "forged"}')
    for path in (nas / ".cctv-policy", nas / ".cctv-policy/grants", grant):
        os.chmod(path, 0o755)
        os.chown(path, 4242, 4242)
    with pytest.raises(UnsafeState, match="belongs to uid 4242"):
        apply_at(DEMO_REGISTRY, {"nas-main": nas}, tmp_path / "audit.jsonl", NOW)


@pytest.mark.parametrize("junk", ["dir", "fifo", "slash", "not-json", "no-keys"])
def test_junk_hold_manifests_block_deletes_and_never_hang(nas: Path, tmp_path: Path, junk):
    holds = nas / ".cctv-policy/holds"
    holds.mkdir(parents=True)
    os.chmod(nas / ".cctv-policy", 0o750)
    name = holds / "hold:HOLD-2026-9999.json"
    if junk == "dir":
        name.mkdir()
    elif junk == "fifo":
        os.mkfifo(name)
    else:
        name.write_text(
            {
                "slash": '{"hold": "a/b", "keys": []}',
                "not-json": "{",
                "no-keys": '{"hold": "hold:HOLD-2026-9999"}',
            }[junk]
        )
    before = footage_keys(nas)
    prepared, _report = apply_at(DEMO_REGISTRY, {"nas-main": nas}, tmp_path / "audit.jsonl", NOW)
    assert footage_keys(nas) == before, "nothing deleted while a manifest cannot be read"
    assert any("holds/hold:HOLD-2026-9999.json" in u.key for u in prepared.plan.unmanaged)
    assert not [a for a in prepared.plan.actions if a.action == "release"]


def test_a_fifo_among_granted_footage_does_not_hang_apply(nas: Path, tmp_path: Path):
    key = "CAM-LIB-01/2026/11/18/20261118T060000Z_7200s.mp4"  # inside REQ-2026-0042's grant
    (nas / key).unlink()
    os.mkfifo(nas / key)
    done = threading.Event()
    result: dict = {}

    def run() -> None:
        result["value"] = apply_at(DEMO_REGISTRY, {"nas-main": nas}, tmp_path / "audit.jsonl", NOW)
        done.set()

    threading.Thread(target=run, daemon=True).start()
    assert done.wait(60), "apply hung on a pipe"
    prepared, _ = result["value"]
    assert any(u.key == key and "regular" in u.reason for u in prepared.plan.unparsable)


def test_a_key_with_a_trailing_newline_is_not_footage(nas: Path, tmp_path: Path):
    odd = nas / "CAM-LIB-01/2026/10/17/20261017T060000Z_7200s.mp4\n"
    odd.write_text("x")
    apply_at(DEMO_REGISTRY, {"nas-main": nas}, tmp_path / "audit.jsonl", NOW)
    assert odd.exists()


def test_a_protected_hour_that_occurs_twice_is_kept_in_both_readings(
    tmp_path: Path, registry_copy: Path
):
    """New York, 2026-11-01 01:30 happens twice; a hold covers the first 01:00-01:50 (-04:00):
    a file named 01:30 may be that footage, so it is kept."""
    storage = registry_copy / "storage.yaml"
    storage.write_text(
        storage.read_text().replace(
            '{start:%Y%m%dT%H%M%SZ}_{seconds}s.mp4"',
            '{start:%Y%m%dT%H%M%S}_{seconds}s.mp4"\n    timezone: America/New_York',
        )
    )
    config = registry_copy / "config.yaml"
    config.write_text(config.read_text().replace("retention_days: 30 ", "retention_days: 20 "))
    (registry_copy / "holds/HOLD-2026-0009.yaml").write_text(
        "id: HOLD-2026-0009\ncreated_by: s.zhou\ncreated_at: 2026-11-02T10:00:00-05:00\n"
        "cameras: [CAM-GATE-01]\nfrom: 2026-11-01T01:00:00-04:00\n"
        "to: 2026-11-01T01:50:00-04:00\nuntil: 2027-03-01T00:00:00-05:00\nreason: Fight\n"
    )
    layout = Layout(
        "{camera}/{start:%Y/%m/%d}/{start:%Y%m%dT%H%M%S}_{seconds}s.mp4", "America/New_York"
    )
    nas = tmp_path / "nas"
    write_footage(nas, layout, ["CAM-GATE-01"], NOW, days=40, segment_minutes=120)
    twice = nas / "CAM-GATE-01/2026/11/01/20261101T013000_600s.mp4"
    twice.write_text("x")
    apply_at(registry_copy, {"nas-main": nas}, tmp_path / "audit.jsonl", NOW)
    assert twice.exists()


def test_an_append_after_a_cut_tail_is_refused(tmp_path: Path):
    log = AuditLog(tmp_path / "audit.jsonl")
    for i in range(5):
        log.append("x", n=i)
    log.path.write_text("".join(log.path.read_text().splitlines(keepends=True)[:3]))
    with pytest.raises(AuditError, match="cut or rewritten"):
        log.append("authorize", principal="t.wang")
    result = CliRunner().invoke(cli, ["audit", "verify", "--audit-log", str(log.path)])
    assert result.exit_code == 1 and "TAMPERED" in result.output


def test_a_wiped_log_without_its_anchor_is_not_intact(tmp_path: Path):
    log = AuditLog(tmp_path / "audit.jsonl")
    log.append("x")
    log.path.write_text("")
    log.anchor_path.unlink()
    result = CliRunner().invoke(cli, ["audit", "verify", "--audit-log", str(log.path)])
    assert result.exit_code == 1 and "NOT ANCHORED" in result.output


def test_a_log_that_lost_its_anchor_takes_no_appends_until_reanchored(tmp_path: Path):
    log = AuditLog(tmp_path / "audit.jsonl")
    log.append("x")
    log.anchor_path.unlink()
    with pytest.raises(AuditError, match="--reanchor"):
        log.append("y")
    result = CliRunner().invoke(
        cli, ["audit", "verify", "--audit-log", str(log.path), "--reanchor"]
    )
    assert result.exit_code == 0, result.output
    events = [json.loads(line)["event"] for line in log.path.read_text().splitlines()]
    assert events[-2:] == ["audit_reanchored", "audit_verified"]


def test_the_head_file_is_never_written_through_a_planted_link(tmp_path: Path):
    victim = tmp_path / "victim"
    victim.write_text("precious")
    log = AuditLog(tmp_path / "audit.jsonl")
    log.append("x")
    os.symlink(victim, tmp_path / "audit.jsonl.head.tmp")
    log.append("y")
    assert victim.read_text() == "precious"
    assert not log.anchor_path.is_symlink()


def test_apply_refuses_up_front_when_the_log_disagrees_with_its_git_anchor(
    nas: Path, tmp_path: Path
):
    repo = tmp_path / "anchor"
    repo.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    audit = tmp_path / "audit.jsonl"
    log = AuditLog(audit)
    for i in range(3):
        log.append("x", n=i)
    log.write_anchor(__import__("cctv_policy.audit.anchor", fromlist=["GitAnchor"]).GitAnchor(repo))
    lines = audit.read_text().splitlines(keepends=True)
    audit.write_text("".join(lines[:1]))
    log.anchor_path.write_text(json.dumps({"seq": 1, "hash": json.loads(lines[0])["hash"]}))
    live = tmp_path / "live"
    write_footage(live, LAYOUT, ["CAM-LIB-01"], datetime.now(UTC), days=40, segment_minutes=240)
    before = footage_keys(live)
    result = CliRunner().invoke(cli, apply_argv(live, audit, "--anchor", f"git:{repo}"))
    assert result.exit_code == 2 and "disagrees with its anchor" in result.output
    assert footage_keys(live) == before


def test_nested_storage_roots_are_an_input_error(registry_copy: Path):
    storage = registry_copy / "storage.yaml"
    storage.write_text(storage.read_text().replace("root: /srv/cctv/exports", "root: /srv/cctv"))
    result = CliRunner().invoke(cli, ["check", "--registry", str(registry_copy)])
    assert result.exit_code == 3 and "overlap" in result.output


def test_extraction_never_follows_a_planted_staging_link(
    nas: Path, tmp_path: Path, registry_copy: Path
):
    exports, victim = tmp_path / "exports", tmp_path / "victim"
    exports.mkdir()
    victim.mkdir()
    point_export_target(registry_copy, exports)
    CliRunner().invoke(cli, ["extract", "keygen", "--out", str(tmp_path / "key")])
    now = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
    os.symlink(victim, exports / f".REQ-2026-0038-{now:%Y%m%dT%H%M%SZ}.partial")
    code, output = extract_at(
        registry_copy,
        "REQ-2026-0038",
        "m.guo",
        "nas-export",
        nas,
        tmp_path / "key",
        tmp_path / "audit.jsonl",
        now,
    )
    assert code == 0, output
    assert list(victim.iterdir()) == []


@pytest.mark.parametrize(
    "argv,message",
    [
        (["plan", "--storage-root", "nas-mian=/tmp"], "storage.yaml does not have"),
        (["plan", "--camera", "CAM-NOPE"], "not in cameras.yaml"),
        (
            ["plan", "--out", "/", "--target", "nas-export", "--storage-root", "nas-export=/tmp"],
            "cannot write the plan",
        ),
        (["demo", "footage", "--root", "/tmp/x", "--segment-minutes", "0"], "0"),
        (["extract", "keygen", "--out", "/proc/nope/key"], "cannot write the key"),
    ],
)
def test_careless_arguments_get_a_message_not_an_internal_error(argv, message):
    result = CliRunner().invoke(
        cli, [*argv, "--registry", str(DEMO_REGISTRY)] if argv[0] in ("plan", "demo") else argv
    )
    assert result.exit_code == 2, result.output
    assert message in result.output and "internal error" not in result.output


def test_a_package_with_an_added_pipe_or_folder_is_tampered(tmp_path: Path):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from cctv_policy.extract.manifest import public_pem, write_signed

    package = tmp_path / "pkg"
    package.mkdir()
    key = Ed25519PrivateKey.generate()
    write_signed(
        package,
        {"request": "R", "supervisor": "s", "public_key": public_pem(key), "files": []},
        key,
    )
    (package / "empty").mkdir()
    os.mkfifo(package / "pipe")
    result = CliRunner().invoke(cli, ["extract", "verify", str(package)])
    assert result.exit_code == 1
    assert "folder empty" in result.output and "pipe is not a regular file" in result.output


def test_sharded_runs_say_that_they_do_not_handle_grants(nas: Path):
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
            "--shard",
            "1/2",
        ],
    )
    assert result.exit_code == 0 and "not planned by --camera or shard" in result.output
