"""`cctv-policy test` runs every Rego test and fails when a policy is broken."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from click.testing import CliRunner

from cctv_policy.cli.main import cli
from cctv_policy.engine import load_policies
from cctv_policy.engine.rego_tests import Outcome, discover, run_rego_tests
from tests.conftest import POLICIES


def test_every_policy_module_has_a_test_module_beside_it():
    names = {m.path for m in load_policies(POLICIES).modules}
    for path in names:
        if not path.endswith("_test.rego") and not path.endswith("lib.rego"):
            assert path.replace(".rego", "_test.rego") in names, f"{path} has no _test.rego"


def test_every_rule_code_is_exercised_by_a_rego_test(policies):
    tests = "\n".join(m.source for m in policies.modules if m.is_test)
    codes = {
        code
        for m in policies.modules
        if not m.is_test
        for code in re.findall(r'lib\.(?:error|warning)\(\s*"([A-Z_]+)"', m.source)
    }
    assert len(codes) >= 20
    missing = sorted(c for c in codes if c not in tests and c != "E_REFERENCE")
    assert not missing, f"codes with no Rego test: {missing}"


def test_a_broken_policy_fails_its_tests(tmp_path: Path):
    shutil.copytree(POLICIES, tmp_path / "p")
    cameras = tmp_path / "p" / "cctv" / "cameras.rego"
    cameras.write_text(
        cameras.read_text().replace(
            "cam.zone in input.config.private_zones", 'cam.zone == "nowhere"'
        )
    )
    result = CliRunner().invoke(cli, ["test", "--run", "cameras_test", str(tmp_path / "p")])
    assert result.exit_code == 1
    assert "FAIL" in result.output and "test_private_area_flagged" in result.output


def test_discovery_counts_incremental_test_definitions_once(tmp_path: Path):
    (tmp_path / "x_test.rego").write_text(
        "package x_test\nimport rego.v1\ntest_a if true\ntest_a if false\ntest_b if false\n"
    )
    tests = discover(load_policies(tmp_path))
    assert [t.name for t in tests] == ["test_a", "test_b"]
    results = {r.name: r.outcome for r in run_rego_tests(load_policies(tmp_path))}
    assert results == {"test_a": Outcome.passed, "test_b": Outcome.failed}
