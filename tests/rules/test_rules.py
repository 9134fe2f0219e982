"""`cctv-policy rules`: the published rule book, and the notice of what a revision changes."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from cctv_policy.cli.main import cli
from cctv_policy.registry import load_registry
from cctv_policy.rules.book import build_rule_book
from cctv_policy.rules.changes import describe, revision_problem
from tests.conftest import DEMO_REGISTRY, NOW, NOW_TEXT, POLICIES


def _config():
    config = load_registry(DEMO_REGISTRY).config
    assert config is not None
    return config


def test_every_rule_is_published_with_its_current_parameters():
    book = build_rule_book(_config(), "git:abc", "en")
    assert [r.number for r in book.rules] == [f"R{i}" for i in range(1, 14)]
    texts = {r.number: f"{r.title}: {r.text}" for r in book.rules}
    assert texts["R3"].startswith("Footage kept 30 days: Footage is kept 30 days")
    assert "within 7 days" in texts["R11"]
    assert "restroom" in texts["R1"] and "insurance_claim" in texts["R4"]
    assert "every 180 days" in texts["R2"] and "24 hours" in texts["R12"]
    assert book.effective_from == "2026-09-01 00:00 CST"


def test_chinese_rule_book_names_purposes_and_areas_in_chinese():
    result = CliRunner().invoke(
        cli, ["rules", "--registry", str(DEMO_REGISTRY), "--lang", "zh", "--format", "html"]
    )
    assert result.exit_code == 0, result.output
    page = result.output
    assert '<html lang="zh-CN">' in page and "视频监控图像信息使用登记制度" in page
    assert "录像保存 30 天" in page and "卫生间" in page and "事件调查" in page
    assert "2026-09-01 00:00 CST" in page and "CAMERA_SILENT" in page


def test_markdown_rule_book_names_the_policy_version():
    result = CliRunner().invoke(cli, ["rules", "--registry", str(DEMO_REGISTRY)])
    assert result.exit_code == 0, result.output
    assert "# CCTV footage rules" in result.output and "Policy version: `" in result.output


def test_changes_in_plain_words_in_both_languages():
    base = _config()
    new = base.model_copy(
        update={
            "retention_days": 15,
            "allowed_purposes": [*base.allowed_purposes, "traffic_accident"],
            "private_zones": base.private_zones[1:],
        }
    )
    en = [(c.rule, c.sentence) for c in describe(new, base, "en")]
    assert ("R3", "Footage is kept 15 days instead of 30 days.") in en
    assert ("R4", "Newly allowed purposes: traffic_accident.") in en
    assert ("R1", "No longer listed as private areas: dormitory_interior.") in en
    zh = [c.sentence for c in describe(new, base, "zh")]
    assert "录像保存期限由 30 天改为 15 天。" in zh and "不再列为私密场所：宿舍内部。" in zh


def test_a_changed_config_needs_an_effective_from_that_is_not_past():
    base = _config()
    assert revision_problem(base, base, NOW) is None  # nothing changed: nothing to date
    shorter = base.model_copy(update={"retention_days": 15})
    assert "already past" in (revision_problem(shorter, base, NOW) or "")
    undated = shorter.model_copy(update={"effective_from": None})
    assert "no effective_from" in (revision_problem(undated, base, NOW) or "")
    later = shorter.model_copy(update={"effective_from": NOW.replace(year=2027)})
    assert revision_problem(later, base, NOW) is None


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git repository with the demo registry and the policies, committed."""
    shutil.copytree(DEMO_REGISTRY, tmp_path / "registry")
    shutil.copytree(POLICIES, tmp_path / "policies")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid"]
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    subprocess.run(["git", "add", "."], cwd=tmp_path, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "base"], cwd=tmp_path, check=True)
    return tmp_path


def _notice(repo: Path, *extra: str):
    return CliRunner().invoke(
        cli,
        [
            "rules",
            "--registry",
            str(repo / "registry"),
            "--policies",
            str(repo / "policies"),
            "--changes",
            "HEAD",
            "--now",
            NOW_TEXT,
            *extra,
        ],
    )


def _set_config(repo: Path, retention: int, effective_from: str) -> None:
    config = repo / "registry" / "config.yaml"
    text = config.read_text().replace("retention_days: 30 ", f"retention_days: {retention} ")
    text = text.replace("effective_from: 2026-09-01T00:00:00+08:00", effective_from)
    config.write_text(text)


def test_notice_of_a_shorter_retention_taking_effect_later(repo: Path):
    _set_config(repo, 15, "effective_from: 2026-12-01T00:00:00+08:00")
    result = _notice(repo, "--lang", "zh")
    assert result.exit_code == 0, result.output
    assert "# 视频监控图像信息使用登记制度修订公告" in result.output
    assert "- 录像保存期限由 30 天改为 15 天。 (R3)" in result.output
    assert "以上修订自 2026-12-01 00:00 CST 起施行。" in result.output


def test_notice_refuses_a_revision_dated_in_the_past(repo: Path):
    _set_config(repo, 15, "effective_from: 2026-11-01T00:00:00+08:00")
    result = _notice(repo)
    assert result.exit_code == 1
    assert "Footage is kept 15 days instead of 30 days. (R3)" in result.output
    assert "already past" in result.output


def test_notice_lists_changed_policy_files(repo: Path):
    rego = repo / "policies" / "cctv" / "holds.rego"
    rego.write_text(rego.read_text() + "\n# reworded\n")
    result = _notice(repo)
    assert result.exit_code == 0, result.output
    assert "The rule book's parameters do not change." in result.output
    assert "- `cctv/holds.rego`" in result.output


def test_notice_against_an_unknown_revision_is_a_tool_error(repo: Path):
    result = CliRunner().invoke(
        cli, ["rules", "--registry", str(repo / "registry"), "--changes", "no-such-ref"]
    )
    assert result.exit_code == 2 and "cannot compare with 'no-such-ref'" in result.output
