"""The audit log under faults (issue 9, holes 3-5): concurrent writers, one very long line,
a cut tail, a missing or unreadable anchor, reserved keys."""

from __future__ import annotations

import json
import multiprocessing
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from cctv_policy.audit.anchor import AnchorError, GitAnchor, check_log
from cctv_policy.audit.log import AuditLog, verify_log
from cctv_policy.cli.main import cli
from tests.conftest import DEMO_REGISTRY, NOW_TEXT


def _writer(args: tuple[str, int, int]) -> None:
    path, worker, count = args
    log = AuditLog(Path(path), actor=f"writer-{worker}")
    for i in range(count):
        log.append("authorize", principal=f"p{worker}", n=i)


def test_concurrent_writers_keep_one_chain(tmp_path: Path):
    path = tmp_path / "audit.jsonl"
    workers, each = 6, 100
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        pool.map(_writer, [(str(path), w, each) for w in range(workers)])
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert len(lines) == workers * each, "nothing lost"
    assert [e["seq"] for e in lines] == list(range(1, workers * each + 1)), "seq unique, in order"
    assert verify_log(path).ok
    assert check_log(path).ok, "every append also moved the anchor along"


def test_a_long_line_leaves_every_command_working(tmp_path: Path):
    path = tmp_path / "audit.jsonl"
    log = AuditLog(path)
    log.append("delete", target="nas-main", keys=[f"CAM-{i:05d}/x" * 3 for i in range(40000)])
    assert path.stat().st_size > 1_000_000
    log.append("after", n=1)  # the head is found however long the line before it is
    for argv in (["audit", "verify"], ["audit", "show"]):
        result = CliRunner().invoke(cli, [*argv, "--audit-log", str(path)])
        assert result.exit_code == 0, result.output
    result = CliRunner().invoke(
        cli,
        [
            "authorize",
            "--registry",
            str(DEMO_REGISTRY),
            "--now",
            NOW_TEXT,
            "--principal",
            "t.wang",
            "--camera",
            "CAM-LIB-01",
            "--at",
            "2026-11-18T14:30:00+08:00",
            "--audit-log",
            str(path),
        ],
    )
    assert result.exit_code == 0, result.output
    assert verify_log(path).ok


def test_a_megabyte_principal_is_refused_and_bounded_in_the_log(tmp_path: Path):
    path = tmp_path / "audit.jsonl"
    result = CliRunner().invoke(
        cli,
        [
            "authorize",
            "--registry",
            str(DEMO_REGISTRY),
            "--now",
            NOW_TEXT,
            "--principal",
            "a" * 1_000_000,
            "--camera",
            "CAM-LIB-01",
            "--at",
            "2026-11-18T14:30:00+08:00",
            "--audit-log",
            str(path),
        ],
    )
    assert result.exit_code == 3 and "not a person id" in result.output
    assert path.stat().st_size < 4096
    assert CliRunner().invoke(cli, ["audit", "verify", "--audit-log", str(path)]).exit_code == 0


def test_reserved_keys_are_never_overwritten(tmp_path: Path):
    log = AuditLog(tmp_path / "audit.jsonl")
    with pytest.raises(ValueError, match="at"):
        log.append("authorize", at="2020-01-01T00:00:00Z")


def test_a_cut_tail_with_its_anchor_removed_is_not_anchored(tmp_path: Path):
    path = tmp_path / "audit.jsonl"
    log = AuditLog(path)
    for i in range(5):
        log.append("x", n=i)
    path.write_text("".join(path.read_text().splitlines(keepends=True)[:3]))
    result = CliRunner().invoke(cli, ["audit", "verify", "--audit-log", str(path)])
    assert result.exit_code == 1 and "cut off" in result.output
    log.anchor_path.unlink()
    result = CliRunner().invoke(cli, ["audit", "verify", "--audit-log", str(path)])
    assert result.exit_code == 1 and "NOT ANCHORED" in result.output
    assert not log.anchor_path.exists(), "a verify that did not pass must not re-anchor"


def test_an_unreadable_explicit_anchor_is_a_tool_error(tmp_path: Path):
    path = tmp_path / "audit.jsonl"
    AuditLog(path).append("x")
    broken = tmp_path / "head.json"
    broken.write_text("{not json")
    for spec in (f"file:{broken}", f"git:{tmp_path / 'no-repo'}"):
        result = CliRunner().invoke(
            cli, ["audit", "verify", "--audit-log", str(path), "--anchor", spec]
        )
        assert result.exit_code == 2, (spec, result.output)


def test_git_anchor_refuses_to_go_backwards_and_keeps_every_head(tmp_path: Path):
    repo = tmp_path / "anchor"
    repo.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    anchor = GitAnchor(repo)
    path = tmp_path / "audit.jsonl"
    log = AuditLog(path, anchors=[anchor])
    for i in range(4):
        log.append("x", n=i)
        log.write_anchor()
    assert [h["seq"] for h in anchor.history()] == [1, 2, 3, 4]
    path.write_text("".join(path.read_text().splitlines(keepends=True)[:2]))
    with pytest.raises(AnchorError, match="already anchors 4"):
        anchor.write(2, "0" * 64)
    # A cut log rewritten with new lines of the same length is caught by an older head too.
    outcome = check_log(path, anchor)
    assert not outcome.ok and "cut off" in outcome.describe()


def test_the_inspection_report_agrees_with_audit_verify(tmp_path: Path):
    path = tmp_path / "audit.jsonl"
    log = AuditLog(path)
    for i in range(3):
        log.append("x", n=i)
    log.anchor_path.unlink()
    report = CliRunner().invoke(
        cli,
        ["report", "--registry", str(DEMO_REGISTRY), "--now", NOW_TEXT, "--audit-log", str(path)],
    )
    assert report.exit_code == 0 and "NOT ANCHORED" in report.output
    assert "intact" not in report.output.split("## Audit log")[1]


def test_decision_entries_keep_their_own_time(tmp_path: Path):
    path = tmp_path / "audit.jsonl"
    CliRunner().invoke(
        cli,
        [
            "authorize",
            "--registry",
            str(DEMO_REGISTRY),
            "--now",
            NOW_TEXT,
            "--principal",
            "t.wang",
            "--camera",
            "CAM-LIB-01",
            "--at",
            "2026-11-18T14:30:00+08:00",
            "--audit-log",
            str(path),
        ],
    )
    entry = json.loads(path.read_text().splitlines()[-1])
    assert entry["footage_at"] == "2026-11-18T06:30:00Z"
    assert not entry["at"].startswith("2026-11-18")


def test_the_actor_records_the_ci_identity(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_ACTOR", "s-zhou")
    monkeypatch.setenv("GITHUB_RUN_ID", "4242")
    entry = AuditLog(tmp_path / "audit.jsonl").append("x")
    assert entry["ci"] == {"actor": "s-zhou", "run_id": "4242"}
    assert "@" in entry["actor"]


def test_audit_show_prints_no_control_characters(tmp_path: Path):
    path = tmp_path / "audit.jsonl"
    AuditLog(path).append("grant", request="REQ-1\n::error title=forged::\x1b[31mred")
    result = CliRunner().invoke(cli, ["audit", "show", "--audit-log", str(path)])
    assert result.exit_code == 0
    assert "\x1b" not in result.output and "\n::error" not in result.output
    assert "\\n::error" in result.output
