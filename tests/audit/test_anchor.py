"""The head anchor catches what the hash chain cannot: lines cut off the end, even when the
admin also rewrites the <log>.head file beside the log."""

from __future__ import annotations

import subprocess
from pathlib import Path

from click.testing import CliRunner

from cctv_policy.audit.anchor import GitAnchor
from cctv_policy.audit.log import AuditLog
from cctv_policy.cli.main import cli


def make_log(path: Path, anchors=()) -> AuditLog:
    log = AuditLog(path, anchors=list(anchors))
    for i in range(5):
        log.append("delete", keys=[f"k{i}"])
    log.write_anchor()
    return log


def test_git_anchor_detects_truncation_after_both_files_were_rewritten(tmp_path: Path):
    repo = tmp_path / "anchor-repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    log_path = tmp_path / "audit.jsonl"
    make_log(log_path, [GitAnchor(repo)])
    verify = ["audit", "verify", "--audit-log", str(log_path), "--anchor", f"git:{repo}"]
    assert CliRunner().invoke(cli, verify).exit_code == 0

    # The admin cuts the last two lines and rewrites the .head file to match: the chain and
    # the file anchor are now consistent, but the committed anchor is not.
    lines = log_path.read_text().splitlines(keepends=True)
    log_path.write_text("".join(lines[:-2]))
    AuditLog(log_path).write_anchor()
    assert CliRunner().invoke(cli, ["audit", "verify", "--audit-log", str(log_path)]).exit_code == 0
    result = CliRunner().invoke(cli, verify)
    assert result.exit_code == 1 and "cut off and rewritten" in result.output


def test_git_anchor_reads_the_committed_head_not_the_working_file(tmp_path: Path):
    repo = tmp_path / "anchor-repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    anchor = GitAnchor(repo)
    anchor.write(7, "a" * 64)
    (repo / "audit-head.json").write_text('{"seq": 1, "hash": "forged"}\n')
    assert anchor.read() == {"seq": 7, "hash": "a" * 64}
    log = subprocess.run(["git", "log", "--oneline"], cwd=repo, capture_output=True, text=True)
    assert "audit head 7" in log.stdout


def test_unknown_anchor_spec_is_a_tool_error(tmp_path: Path):
    make_log(tmp_path / "audit.jsonl")
    result = CliRunner().invoke(
        cli, ["audit", "verify", "--audit-log", str(tmp_path / "audit.jsonl"), "--anchor", "ftp:x"]
    )
    assert result.exit_code == 2 and "git:DIR" in result.output
