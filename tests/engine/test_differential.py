"""Differential test: the embedded engine (the OPA Go library in-process) and a real `opa run
--server` (the pinned binary) give the same answers for random registries and clocks.

A random registry is the demo registry with a random subset of its requests, decisions,
holds and reports left out (so references break, approvals lapse, reports go missing) and
some approvals turned into rejections; the clock is random over the term. For each, both
engines must agree on the check's violations, the enforcement decision
(data.cctv.enforce.decision, as cctv_policy/rulebook/enforcement.py asks it), the registry data
the authz policy reads (with data.cctv.approvals.valid) and the authz decision for questions
drawn from the registry's requests (likely ALLOW) and at random (likely DENY).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from cctv_policy.authz.decide import DATA_PATH, DECISION_ENTRYPOINT, registry_data
from cctv_policy.authz.lean import lean_registry_data
from cctv_policy.engine import EngineError
from cctv_policy.engine.embedded import EmbeddedEngine
from cctv_policy.engine.opa_server import OpaServerEngine
from cctv_policy.registry import load_registry
from cctv_policy.registry.loader import LoadedRegistry
from cctv_policy.registry.types import format_utc
from cctv_policy.rulebook.enforcement import ENFORCE_ENTRYPOINT
from cctv_policy.rulebook.evaluation import Evaluation
from tests.conftest import DEMO_REGISTRY

FOLDERS = ("requests", "decisions", "holds", "reports")
DOCUMENTS = sorted(
    str(path.relative_to(DEMO_REGISTRY))
    for folder in FOLDERS
    for path in (DEMO_REGISTRY / folder).glob("*.yaml")
)
DECISIONS = [name for name in DOCUMENTS if name.startswith("decisions/")]
TERM_START = datetime(2026, 10, 1, tzinfo=UTC)
TERM_MINUTES = 150 * 24 * 60


@st.composite
def registries(draw: st.DrawFn) -> tuple[frozenset[str], frozenset[str]]:
    """(documents left out, decisions turned into rejections)."""
    left_out = draw(st.sets(st.sampled_from(DOCUMENTS), max_size=len(DOCUMENTS) // 2))
    rejected = draw(st.sets(st.sampled_from(DECISIONS), max_size=3))
    return frozenset(left_out), frozenset(rejected - left_out)


def clocks() -> st.SearchStrategy[datetime]:
    return st.integers(0, TERM_MINUTES).map(lambda m: TERM_START + timedelta(minutes=m))


def _write_registry(base: Path, left_out: frozenset[str], rejected: frozenset[str]) -> Path:
    registry = base / "registry"
    shutil.copytree(DEMO_REGISTRY, registry)
    for name in left_out:
        (registry / name).unlink()
    for name in rejected:
        path = registry / name
        path.write_text(path.read_text().replace("decision: approved", "decision: rejected"))
    return registry


def _outcome(evaluate: Callable[[], Any]) -> Any:
    """The value, or the kind of failure (undefined and errors must agree too)."""
    try:
        return evaluate()
    except EngineError as exc:
        return type(exc).__name__


def _violations(evaluation: Evaluation) -> list[tuple[str, ...]]:
    return [
        (v.code, v.severity, v.subject, v.file, str(v.line), v.message)
        for v in evaluation.check().violations
    ]


def _questions(draw: st.DrawFn, registry: LoadedRegistry, now: datetime) -> list[dict[str, str]]:
    people = sorted(registry.people) or ["nobody"]
    cameras = sorted(registry.cameras) or ["CAM-NONE"]
    questions = []
    for request in registry.requests.values():  # inside a request's scope: ALLOW if approved
        span = (request.footage.to - request.footage.from_).total_seconds()
        at = request.footage.from_ + timedelta(seconds=draw(st.integers(0, int(span) - 1)))
        use = (request.use.ends - request.use.starts).total_seconds()
        when = request.use.starts + timedelta(seconds=draw(st.integers(0, int(use) - 1)))
        questions.append(
            {
                "principal": draw(st.sampled_from(request.use.recipients)),
                "camera": draw(st.sampled_from(list(request.footage.cameras))),
                "at": format_utc(at),
                "now": format_utc(draw(st.sampled_from([when, now]))),
            }
        )
    for _ in range(4):  # anyone, any camera, any time
        questions.append(
            {
                "principal": draw(st.sampled_from(people)),
                "camera": draw(st.sampled_from(cameras)),
                "at": format_utc(draw(clocks())),
                "now": format_utc(now),
            }
        )
    return questions


def _embedded_authz(policies, data: dict[str, Any], questions: list[dict[str, str]]) -> list[Any]:
    engine = EmbeddedEngine(policies.without_tests())
    try:
        engine.add_data({DATA_PATH: data})
        return [_outcome(lambda q=q: engine.evaluate(DECISION_ENTRYPOINT, q)) for q in questions]
    finally:
        engine.close()


def _server_authz(url: str, data: dict[str, Any], questions: list[dict[str, str]]) -> list[Any]:
    requests.put(f"{url}/v1/data/{DATA_PATH}", json=data, timeout=30).raise_for_status()
    remote = OpaServerEngine(url)
    return [_outcome(lambda q=q: remote.evaluate(DECISION_ENTRYPOINT, q)) for q in questions]


@pytest.mark.slow
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(registry_change=registries(), now=clocks(), data=st.data())
def test_embedded_and_real_opa_server_agree(
    registry_change, now, data, opa_server, embedded_engine, policies
):
    with tempfile.TemporaryDirectory() as base:
        registry = load_registry(_write_registry(Path(base), *registry_change))
    local = Evaluation(registry, embedded_engine, now, "differential")
    remote = Evaluation(registry, OpaServerEngine(opa_server.url), now, "differential")

    violations = _violations(local)
    assert _violations(remote) == violations
    event(f"violations: {'some' if violations else 'none'}")

    enforcement = _outcome(lambda: local.evaluate(ENFORCE_ENTRYPOINT))
    assert _outcome(lambda: remote.evaluate(ENFORCE_ENTRYPOINT)) == enforcement
    event(f"enforcement: {type(enforcement).__name__}")

    authz_data = registry_data(local)
    assert registry_data(remote) == authz_data
    questions = _questions(data.draw, registry, now)
    answers = _embedded_authz(policies, authz_data, questions)
    assert _server_authz(opa_server.url, authz_data, questions) == answers
    # serve's engine holds only what a decision reads (authz/lean.py): the same answers
    assert _embedded_authz(policies, lean_registry_data(local), questions) == answers
    event(f"some ALLOW: {any(isinstance(a, dict) and a['allow'] for a in answers)}")
