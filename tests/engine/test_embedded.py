"""The embedded engine is the real OPA: it evaluates, and it fails closed."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cctv_policy.engine import EngineError, EngineUndefined, embedded, load_policies
from cctv_policy.engine.embedded import EmbeddedEngine, share_out
from cctv_policy.registry import load_registry
from cctv_policy.registry.input_doc import build_input, canonical_json
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


def test_evaluate_many_side_by_side_equals_one_at_a_time(embedded_engine):
    """The rule book's parts in engines of their own (input held as data) give what each
    part gives evaluated alone, whatever the costs say; an undefined one fails closed."""
    registry = load_registry(DEMO_REGISTRY)
    document = build_input(registry, NOW)
    names = embedded_engine.evaluate("cctv/check/part_names", {})
    entrypoints = [f"cctv/check/parts/{name}" for name in names]
    alone = [embedded_engine.evaluate(e, document) for e in entrypoints]
    for costs in (None, [1.0] * len(names), [float(i + 1) for i in range(len(names))]):
        assert embedded_engine.evaluate_many(entrypoints, document, costs) == alone
    with pytest.raises(EngineUndefined):
        embedded_engine.evaluate_many([*entrypoints, "cctv/check/no_such_part"], document)


@given(st.lists(st.floats(min_value=0.1, max_value=100), min_size=1, max_size=30))
def test_share_out_keeps_every_item_once_and_balances(costs: list[float]):
    items = [f"part{i}" for i in range(len(costs))]
    groups = share_out(items, costs, 2)
    assert sorted(item for group in groups for item in group) == sorted(items)
    cost = dict(zip(items, costs, strict=True))
    totals = [sum(cost[item] for item in group) for group in groups]
    # greedy, costliest first: no group exceeds the other by more than the costliest item
    assert max(totals) - min(totals) <= max(costs) + 1e-9


def test_a_small_input_is_evaluated_in_one_engine(embedded_engine, monkeypatch):
    """Below SIDE_BY_SIDE_FROM bytes of input no new engine is made (each compiles the rule
    book first, which costs more than it saves); above, the parts go to new engines."""
    registry = load_registry(DEMO_REGISTRY)
    document = build_input(registry, NOW)
    encoded = canonical_json(document)
    names = embedded_engine.evaluate("cctv/check/part_names", {})
    entrypoints = [f"cctv/check/parts/{name}" for name in names]
    made: list[list[str]] = []
    apart = EmbeddedEngine._evaluate_apart

    def counting(self, group, input, encoded):
        made.append(group)
        return apart(self, group, input, encoded)

    monkeypatch.setattr(EmbeddedEngine, "_evaluate_apart", counting)
    assert len(encoded) < embedded.SIDE_BY_SIDE_FROM
    small = embedded_engine.evaluate_many(entrypoints, document, None, encoded)
    assert made == []
    monkeypatch.setattr(embedded, "SIDE_BY_SIDE_FROM", 0)
    assert embedded_engine.evaluate_many(entrypoints, document, None, encoded) == small
    assert sorted(e for group in made for e in group) == sorted(entrypoints)


def test_the_input_loaded_from_its_json_reads_as_the_input(embedded_engine, monkeypatch):
    """check hands the engines the input's canonical JSON: what they read must be the input,
    also for text JSON writes as escapes (non-ASCII, non-BMP) and for a lone surrogate, which
    must fail as the library fails it, never turn into another text."""
    monkeypatch.setattr(embedded, "SIDE_BY_SIDE_FROM", 0)  # new engines even for the demo
    registry = load_registry(DEMO_REGISTRY)
    document = build_input(registry, NOW)
    first = next(iter(document["requests"]))
    names = embedded_engine.evaluate("cctv/check/part_names", {})
    entrypoints = [f"cctv/check/parts/{name}" for name in names]
    for text in ("学生食堂 incident", "camera 📹 moved"):
        changed = {**document, "requests": {**document["requests"]}}
        changed["requests"][first] = {**changed["requests"][first], "unit": text}
        encoded = canonical_json(changed)
        alone = [embedded_engine.evaluate(e, changed) for e in entrypoints]
        assert embedded_engine.evaluate_many(entrypoints, changed, None, encoded) == alone
        seen = embedded_engine.evaluate_many(["cctv/check/parts/requests"], changed, None, encoded)
        assert seen == [embedded_engine.evaluate("cctv/check/parts/requests", changed)]
    lone = {**document, "requests": {**document["requests"]}}
    lone["requests"][first] = {**lone["requests"][first], "unit": "x\ud800y"}
    with pytest.raises(EngineError):
        embedded_engine.evaluate_many(entrypoints, lone, None, canonical_json(lone))
