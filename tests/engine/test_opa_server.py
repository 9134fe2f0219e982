"""--engine opa gives the same decisions as --engine embedded, against a real `opa run --server`
(the pinned binary of tools/opa, started by the fixtures of testing/opa_fixtures.py): one
started on the rule book, one started bare that our adapter uploads the policies to."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import requests

from cctv_policy.authz.decide import DATA_PATH, DECISION_ENTRYPOINT, Authorizer, registry_data
from cctv_policy.engine import EngineError, EngineUndefined
from cctv_policy.engine.opa_server import OpaServerEngine
from cctv_policy.engine.policies import PolicyModule, PolicySet
from cctv_policy.registry import load_registry
from cctv_policy.registry.input_doc import build_input
from cctv_policy.rulebook.check import run_check
from cctv_policy.rulebook.evaluation import Evaluation
from tests.conftest import DATA, DEMO_REGISTRY, NOW

SCENARIOS = [
    "violations/DECISION_SCOPE_WIDENED",
    "violations/REQUEST_APPLICANT_REPORT_OVERDUE",
    "violations/CAMERA_PRIVATE_AREA",
    "bad/unknown_camera_reference",
]


def _registries(tmp_path: Path) -> list[Path]:
    paths = [DEMO_REGISTRY]
    for name in SCENARIOS:
        copy = tmp_path / name.replace("/", "_")
        shutil.copytree(DEMO_REGISTRY, copy)
        shutil.copytree(DATA / name / "registry", copy, dirs_exist_ok=True)
        paths.append(copy)
    return paths


def _decisions(engine, registry: Path) -> list[tuple[str, str, str, int | None]]:
    result = run_check(load_registry(registry), engine, NOW, "test")
    return [(v.code, v.subject, v.file, v.line) for v in result.violations]


def _same_decisions(remote: OpaServerEngine, embedded_engine, tmp_path: Path) -> None:
    for registry in _registries(tmp_path):
        expected = _decisions(embedded_engine, registry)
        assert expected, "each scenario has at least one violation to compare"
        assert _decisions(remote, registry) == expected, registry.name


def test_real_opa_server_gives_the_same_decisions(opa_server, embedded_engine, tmp_path):
    _same_decisions(OpaServerEngine(opa_server.url), embedded_engine, tmp_path)


def test_policies_uploaded_to_a_bare_server_give_the_same_decisions(
    bare_opa_server, embedded_engine, policies, tmp_path
):
    _same_decisions(OpaServerEngine(bare_opa_server.url, policies), embedded_engine, tmp_path)


def test_a_bare_server_without_our_policies_is_undefined_not_empty(bare_opa_server):
    with pytest.raises(EngineUndefined):
        OpaServerEngine(bare_opa_server.url).evaluate("cctv/check/violations", {})


def test_adapter_reports_undefined_as_undefined(opa_server):
    with pytest.raises(EngineUndefined):
        OpaServerEngine(opa_server.url).evaluate("cctv/check/not_a_rule", {})


def test_a_policy_the_server_rejects_is_an_engine_error(bare_opa_server, tmp_path):
    broken = PolicySet(
        tmp_path, (PolicyModule("cctv/broken.rego", "package cctv.broken\n\nx if {"),)
    )
    with pytest.raises(EngineError, match=r"rejected cctv/broken\.rego"):
        OpaServerEngine(bare_opa_server.url).upload(broken)


def test_real_opa_server_gives_the_same_authz_answers(opa_server, policies):
    """The registry is PUT as data, the question POSTed as input, as a VMS would."""
    registry = load_registry(DEMO_REGISTRY)
    remote = OpaServerEngine(opa_server.url)
    evaluation = Evaluation(registry, remote, NOW, policies.version)
    put = requests.put(
        f"{opa_server.url}/v1/data/{DATA_PATH}", json=registry_data(evaluation), timeout=30
    )
    assert put.status_code == 204
    local = Authorizer(evaluation, policies)
    answers = set()
    for camera in ("CAM-LIB-01", "CAM-LIB-02"):
        q = {
            "principal": "t.wang",
            "camera": camera,
            "at": "2026-11-18T06:30:00Z",
            "now": "2026-11-22T02:00:00Z",
        }
        answer = remote.evaluate(DECISION_ENTRYPOINT, q)
        assert answer == local.decide(q).model_dump(exclude_none=True)
        answers.add(answer["allow"])
    assert answers == {True, False}, "one camera is granted, the other is not"


def test_evaluate_many_is_one_query_with_each_answer(opa_server):
    """The batched call of the evaluation contract: what each evaluate() gives, in order;
    an undefined entrypoint fails it closed."""
    engine = OpaServerEngine(opa_server.url)
    document = build_input(load_registry(DEMO_REGISTRY), NOW)
    entrypoints = ["cctv/check/violations", "cctv/approvals/valid"]
    assert engine.evaluate_many(entrypoints, document) == [
        engine.evaluate(e, document) for e in entrypoints
    ]
    with pytest.raises(EngineUndefined):
        engine.evaluate_many([*entrypoints, "cctv/check/not_a_rule"], document)
