"""One enforcement gate (issue 9, hole 2): a hold with a misspelled camera (E_REFERENCE from
the policies) stops every command that acts, with one wording and exit 3, and the refusal is
logged."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from cctv_policy.cli.main import cli
from cctv_policy.demo import write_footage
from cctv_policy.rulebook.gate import RegistryNotEnforceable
from testing.helpers import DEMO_LAYOUT as LAYOUT
from testing.helpers import apply_argv, apply_at, extract_at, point_export_target
from tests.conftest import NOW, NOW_TEXT, POLICIES

WORDING = "nothing acts on a registry that cannot be read as written"


@pytest.fixture
def misspelled(registry_copy: Path) -> Path:
    hold = registry_copy / "holds" / "HOLD-2026-0002.yaml"
    hold.write_text(hold.read_text().replace("cameras: [CAM-CAN-03]", "cameras: [CAM-CAN-3]"))
    result = CliRunner().invoke(cli, ["check", "--registry", str(registry_copy), "--now", NOW_TEXT])
    assert result.exit_code == 3 and "E_REFERENCE" in result.output
    return registry_copy


def test_apply_deletes_nothing(misspelled: Path, tmp_path: Path):
    nas = tmp_path / "nas"
    write_footage(nas, LAYOUT, ["CAM-CAN-03"], NOW, days=40, segment_minutes=240)
    before = sorted(nas.rglob("*.mp4"))
    with pytest.raises(RegistryNotEnforceable, match=WORDING):
        apply_at(misspelled, {"nas-main": nas}, tmp_path / "audit.jsonl", NOW)
    assert sorted(nas.rglob("*.mp4")) == before


@pytest.mark.parametrize(
    "command",
    [
        [
            "authorize",
            "--principal",
            "t.wang",
            "--camera",
            "CAM-LIB-01",
            "--at",
            "2026-11-18T14:30:00+08:00",
            "--now",
            NOW_TEXT,
        ],
        ["serve", "--port", "0"],
        ["apply", "--yes"],
    ],
)
def test_commands_that_act_refuse_with_one_wording(misspelled: Path, tmp_path: Path, command):
    audit = tmp_path / "audit.jsonl"
    result = CliRunner().invoke(
        cli, [*command, "--registry", str(misspelled), "--audit-log", str(audit)]
    )
    assert result.exit_code == 3, result.output
    assert WORDING in result.output and "HOLD-2026-0002" in result.output
    refused = json.loads(audit.read_text().splitlines()[-1])
    assert refused["event"] == "refused" and WORDING in refused["reason"]


def test_extract_refuses(misspelled: Path, tmp_path: Path):
    (tmp_path / "exports").mkdir()
    point_export_target(misspelled, tmp_path / "exports")
    assert (
        CliRunner().invoke(cli, ["extract", "keygen", "--out", str(tmp_path / "key")]).exit_code
        == 0
    )
    code, output = extract_at(
        misspelled,
        "REQ-2026-0038",
        "m.guo",
        "nas-export",
        tmp_path / "nas",
        tmp_path / "key",
        tmp_path / "audit.jsonl",
        NOW,
    )
    assert code == 3 and WORDING in output
    assert not list((tmp_path / "exports").iterdir())
    refused = json.loads((tmp_path / "audit.jsonl").read_text().splitlines()[-1])
    assert refused["event"] == "extract_refused"


def test_a_rule_book_whose_decision_is_undefined_deletes_nothing(tmp_path: Path):
    """apply asks the gate and the decision in one query. When the check passes and the
    decision is undefined, that query fails, the check is asked alone (and passes), and the
    decision, asked alone, fails closed under its own name: exit 2, nothing deleted."""
    policies = tmp_path / "policies"
    shutil.copytree(POLICIES, policies)
    enforce = policies / "cctv" / "enforce.rego"
    enforce.write_text(enforce.read_text().replace("\ndecision := {", "\nrenamed := {", 1))
    nas = tmp_path / "nas"
    write_footage(nas, LAYOUT, ["CAM-CAN-03"], datetime.now(UTC), days=40, segment_minutes=240)
    before = sorted(nas.rglob("*.mp4"))
    argv = apply_argv(nas, tmp_path / "audit.jsonl", "--policies", str(policies))
    result = CliRunner().invoke(cli, argv)
    assert result.exit_code == 2, result.output
    assert "data.cctv.enforce.decision is undefined" in result.output
    assert "one of" not in result.output  # not the combined query's error
    assert sorted(nas.rglob("*.mp4")) == before
