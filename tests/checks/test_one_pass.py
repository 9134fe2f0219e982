"""One `check` run reports every problem: input errors do not hide the rest of a document, nor
other documents; each problem has file:line and a fix, in Chinese with --lang zh."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from click.testing import CliRunner

from cctv_policy.cli.main import cli
from tests.conftest import DATA, NOW_TEXT

NEWCOMER = DATA / "newcomer" / "REQ-2026-0090.yaml"
_LOCATED = re.compile(r"^\S+\.yaml:\d+:\d+: (error|warning|错误|警告) [A-Z_]+ \[")


def check(registry: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        cli, ["check", "--registry", str(registry), "--now", NOW_TEXT, *args]
    )
    return result.exit_code, result.output


def with_newcomer(registry_copy: Path) -> Path:
    shutil.copy(NEWCOMER, registry_copy / "requests" / NEWCOMER.name)
    # and, in another file, a request that breaks a rule
    other = registry_copy / "requests/REQ-2026-0047.yaml"
    other.write_text(other.read_text().replace("ends: 2026-12-04", "ends: 2027-02-04"))
    return registry_copy


def test_newcomer_request_reports_everything_at_once(registry_copy: Path):
    code, output = check(with_newcomer(registry_copy), "--format", "json")
    found = {
        (v["code"], v["field"])
        for v in json.loads(output)["violations"]
        if v["subject"] in ("request:REQ-2026-0090", "request:REQ-2026-0047")
    }
    assert code == 3
    assert {
        ("E_SCHEMA", "applicant"),
        ("E_SCHEMA", "submitted_at"),
        ("E_SCHEMA", "purpose"),
        ("E_SCHEMA", "use.recipents"),
        ("E_REFERENCE", "footage.cameras.1"),  # same document as the input errors
        ("REQUEST_USE_TOO_LONG", "use.ends"),  # same document
    } <= found
    assert ("REQUEST_USE_TOO_LONG", "use.ends") in {
        (v["code"], v["field"])
        for v in json.loads(output)["violations"]
        if v["subject"] == "request:REQ-2026-0047"
    }  # another document
    # the misspelt field is one problem, not also "recipients is missing"
    assert ("E_SCHEMA", "use.recipients") not in found


def test_newcomer_request_in_chinese_with_places_and_fixes(registry_copy: Path):
    _, output = check(with_newcomer(registry_copy), "--lang", "zh")
    lines = output.splitlines()
    problems = [
        i for i, line in enumerate(lines) if "REQ-2026-0090" in line and _LOCATED.match(line)
    ]
    assert len(problems) >= 6
    for i in problems:
        assert re.search(r"[\u4e00-\u9fff]", lines[i]), lines[i]
        assert lines[i + 1].startswith("    -> ") and re.search(r"[\u4e00-\u9fff]", lines[i + 1])
    text = "\n".join(lines[i] for i in problems)
    assert "是不是想写 t.wang" in text
    assert "是不是想写 recipients" in text
    assert "CAM-GATE-99" in text


def test_newcomer_request_in_english_says_did_you_mean(registry_copy: Path):
    _, output = check(with_newcomer(registry_copy), "--lang", "en")
    assert "did you mean t.wang?" in output
    assert "did you mean recipients?" in output
    assert "Input should" not in output and "String should" not in output


def test_a_tab_is_named(registry_copy: Path):
    path = registry_copy / "requests/REQ-2026-0047.yaml"
    path.write_text(path.read_text().replace("  mode: export_copy", "\tmode: export_copy"))
    _, output = check(registry_copy, "--lang", "en")
    assert "REQ-2026-0047.yaml:13:1: error E_YAML" in output and "tab" in output
    _, output = check(registry_copy, "--lang", "zh")
    assert "Tab" in output


def test_language_from_config(registry_copy: Path):
    config = registry_copy / "config.yaml"
    config.write_text(config.read_text() + "language: zh\n")
    shutil.copy(NEWCOMER, registry_copy / "requests" / NEWCOMER.name)
    _, output = check(registry_copy)
    assert "未知字段 use.recipents" in output
    _, output = check(registry_copy, "--lang", "en")
    assert "unknown field use.recipents" in output


def test_control_characters_never_reach_the_text_output(registry_copy: Path):
    path = registry_copy / "requests/REQ-2026-0090.yaml"
    shutil.copy(NEWCOMER, path)
    text = path.read_text().replace("use:\n", 'use:\n  "x\\n::error file=a::forged": 1\n')
    path.write_text(text)
    for fmt in ("text", "junit", "github"):
        _, output = check(registry_copy, "--format", fmt)
        assert not any(line.startswith("::error file=a") for line in output.splitlines()), fmt


def test_a_bad_entry_in_people_yaml_does_not_stop_the_rule_book(registry_copy: Path):
    people = registry_copy / "people.yaml"
    people.write_text(
        people.read_text().replace(
            "  - id: t.wang\n    name: Wang Tao\n",
            "  - id: t.wang\n    name: Wang Tao\n    age: 40\n",
        )
    )
    other = registry_copy / "requests/REQ-2026-0047.yaml"
    other.write_text(other.read_text().replace("ends: 2026-12-04", "ends: 2027-02-04"))
    code, output = check(registry_copy, "--format", "json")
    violations = json.loads(output)["violations"]
    found = {(v["code"], v["file"].rsplit("/", 1)[-1]) for v in violations}
    assert code == 3
    assert ("E_SCHEMA", "people.yaml") in found
    assert ("REQUEST_USE_TOO_LONG", "REQ-2026-0047.yaml") in found  # the rule book still ran
    # documents naming t.wang are not reported as naming an unknown person
    assert not [v for v in violations if v["code"] == "E_REFERENCE" and "t.wang" in v["message"]]
    assert json.loads(output)["summary"]["policies_ran"] is True


def test_enforcement_still_refuses_a_registry_with_a_bad_entry(registry_copy: Path):
    people = registry_copy / "people.yaml"
    people.write_text(
        people.read_text().replace(
            "  - id: t.wang\n    name: Wang Tao\n",
            "  - id: t.wang\n    name: Wang Tao\n    age: 40\n",
        )
    )
    result = CliRunner().invoke(cli, ["plan", "--registry", str(registry_copy), "--now", NOW_TEXT])
    assert result.exit_code == 3, result.output


def test_control_characters_in_names_never_start_a_line(registry_copy: Path):
    people = registry_copy / "people.yaml"
    people.write_text(people.read_text().replace("name: Wang Tao", 'name: "Wang\\n::error::x"'))
    cameras = registry_copy / "cameras.yaml"
    cameras.write_text(
        cameras.read_text().replace("name: Main gate inbound", 'name: "Gate\\n::warning::y"', 1)
    )
    runs = [
        ["check"],
        ["check", "--lang", "zh"],
        ["notice", "REQ-2026-0042"],
        ["report", "--format", "md"],
    ]
    for args in runs:
        result = CliRunner().invoke(
            cli, [*args, "--registry", str(registry_copy), "--now", NOW_TEXT]
        )
        assert not [line for line in result.output.splitlines() if line.startswith("::")], args
