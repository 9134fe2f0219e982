"""One evaluation per run: what a run needs from the rule book is asked in one query.

The embedded OPA compiles the whole rule book for every distinct query it is given (about
0.025 s each), so a short run (apply on one shard, authorize, check of a school's registry)
spends most of its engine time compiling. These tests count the queries the library gets and
check that asking together answers exactly what asking one by one answers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from cctv_policy.enforce.job import prepare
from cctv_policy.enforce.models import Scope
from cctv_policy.engine import EngineUndefined, scheduling
from cctv_policy.engine.embedded import EmbeddedEngine
from cctv_policy.registry import load_registry
from cctv_policy.rulebook.enforcement import ENFORCE_ENTRYPOINT, enforcement_decision
from cctv_policy.rulebook.evaluation import Evaluation
from testing.helpers import demo_footage
from tests.conftest import DEMO_REGISTRY, NOW


@pytest.fixture
def counted(policies) -> Iterator[tuple[EmbeddedEngine, list[str]]]:
    """A new engine (nothing compiled yet) that records every query the library evaluates."""
    engine = EmbeddedEngine(policies.without_tests())
    asked: list[str] = []
    opa = engine._opa
    by_document, by_query = opa.eval_document, opa.eval_query

    def eval_document(path, input=None):
        asked.append(f"data.{path}")
        return by_document(path, input)

    def eval_query(query, input=None):
        asked.append(query)
        return by_query(query, input)

    opa.eval_document, opa.eval_query = eval_document, eval_query
    yield engine, asked
    engine.close()


def test_apply_asks_the_gate_and_the_decision_in_one_query(counted, tmp_path: Path):
    engine, asked = counted
    footage = demo_footage(tmp_path / "nas", ["CAM-CAN-03", "CAM-LIB-01"], NOW)
    evaluation = Evaluation(load_registry(DEMO_REGISTRY), engine, NOW, "v")
    prepare(evaluation, Scope(root_overrides={"nas-main": footage}))
    assert len(asked) == 1, asked  # it was four: part names, part costs, the parts, decision
    assert "data.cctv.check.violations" in asked[0] and "data.cctv.enforce.decision" in asked[0]


def test_asked_together_or_one_by_one_the_answers_are_the_same(
    embedded_engine, monkeypatch: pytest.MonkeyPatch
):
    registry = load_registry(DEMO_REGISTRY)
    together = Evaluation(registry, embedded_engine, NOW, "v")
    together.evaluate_with_check(ENFORCE_ENTRYPOINT)
    monkeypatch.setattr(scheduling, "SIDE_BY_SIDE_FROM", 0)  # the parts, each in an engine
    apart = Evaluation(registry, embedded_engine, NOW, "v")
    assert together.check().violations == apart.check().violations
    assert together.check().violations  # the demo registry has warnings: a real comparison
    assert enforcement_decision(together) == enforcement_decision(apart)


def test_a_query_that_fails_together_fails_on_its_own_by_name(counted):
    """An undefined entrypoint asked along with the gate does not take the gate with it, and
    it is reported by its own name when the run asks for it."""
    engine, asked = counted
    evaluation = Evaluation(load_registry(DEMO_REGISTRY), engine, NOW, "v")
    evaluation.evaluate_with_check("cctv/enforce/no_such_rule")
    assert evaluation.check().violations
    with pytest.raises(EngineUndefined, match=r"^data\.cctv\.enforce\.no_such_rule is undefined"):
        evaluation.evaluate("cctv/enforce/no_such_rule")
    assert len(asked) == 3  # together (failed), the gate alone, the other alone


def test_check_of_a_small_registry_is_one_query(counted):
    engine, asked = counted
    Evaluation(load_registry(DEMO_REGISTRY), engine, NOW, "v").check()
    assert asked == ["data.cctv.check.violations"]
