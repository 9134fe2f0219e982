"""The embedded engine is the real OPA: it evaluates, and it fails closed."""

from __future__ import annotations

from pathlib import Path

import pytest

from cctv_policy.engine import EngineError, EngineUndefined, load_policies
from cctv_policy.engine.embedded import EmbeddedEngine
from cctv_policy.registry import load_registry
from cctv_policy.rulebook.check import run_check
from tests.conftest import DEMO_REGISTRY, NOW


def test_check_entrypoint_returns_a_set_of_violation_objects(embedded_engine):
    result = embedded_engine.evaluate(
        "cctv/check/violations",
        {
            "now": "2026-11-25T00:00:00Z",
            "config": {
                "retention_days": 30,
                "report_due_days": 7,
                "max_use_days": 30,
                "allowed_purposes": ["x"],
                "private_zones": ["restroom"],
            },
            "people": {},
            "targets": {},
            "requests": {},
            "decisions": {},
            "reports": {},
            "holds": {},
            "cameras": {
                "CAM-1": {"zone": "restroom", "installed_by": "t", "storage": "s", "location": "WC"}
            },
        },
    )
    assert {v["code"] for v in result} == {"CAMERA_PRIVATE_AREA", "E_REFERENCE"}


def test_undefined_document_raises_instead_of_passing(embedded_engine):
    with pytest.raises(EngineUndefined):
        embedded_engine.evaluate("cctv/check/no_such_rule", {})


def test_builtin_error_is_an_engine_error(embedded_engine):
    # A timestamp the policies cannot parse must stop the check, not silently skip a rule.
    bad = {
        "now": "not a time",
        "config": {"report_due_days": 7},
        "requests": {"R": {"applicant": "a", "use": {"ends": "2026-01-01T00:00:00Z"}}},
        "decisions": {"R": {"decision": "approved"}},
        "reports": {},
    }
    with pytest.raises(EngineError):
        EmbeddedEngine(load_policies().without_tests()).evaluate("cctv/reports/violations", bad)


def test_policy_that_does_not_compile_is_an_engine_error(tmp_path: Path):
    (tmp_path / "broken.rego").write_text("package cctv.check\nimport rego.v1\nviolations := {\n")
    with pytest.raises(EngineError, match="does not compile"):
        EmbeddedEngine(load_policies(tmp_path))


def test_check_without_the_entrypoint_fails_closed(tmp_path: Path):
    (tmp_path / "other.rego").write_text("package cctv.other\nimport rego.v1\nx := 1\n")
    engine = EmbeddedEngine(load_policies(tmp_path))
    with pytest.raises(EngineUndefined):
        run_check(load_registry(DEMO_REGISTRY), engine, NOW, "test")


def test_malformed_policy_output_fails_closed(tmp_path: Path):
    (tmp_path / "check.rego").write_text(
        'package cctv.check\nimport rego.v1\nviolations := [{"code": "X"}]\n'
    )
    engine = EmbeddedEngine(load_policies(tmp_path))
    with pytest.raises(EngineError, match="malformed"):
        run_check(load_registry(DEMO_REGISTRY), engine, NOW, "test")


def test_policy_version_is_stable_and_content_sensitive(tmp_path: Path):
    (tmp_path / "a.rego").write_text("package a\nimport rego.v1\nx := 1\n")
    first = load_policies(tmp_path).version
    assert load_policies(tmp_path).version == first
    (tmp_path / "a_test.rego").write_text("package a_test\nimport rego.v1\ntest_x if true\n")
    assert load_policies(tmp_path).version == first, "tests do not change what decides"
    (tmp_path / "a.rego").write_text("package a\nimport rego.v1\nx := 2\n")
    assert load_policies(tmp_path).version != first
