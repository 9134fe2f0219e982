"""The seams for speed (#30): engines only evaluate, scheduling lives in one place, a run's
backends are made once, and the modules stay small enough to read.

Each test fails on the code before the refactor: an engine without scheduling members could
not run check or apply, the rule book carried costs, prepare made backends twice."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path
from typing import Any

import pytest

from cctv_policy.enforce.models import Scope
from cctv_policy.engine import EngineUndefined
from cctv_policy.engine.base import Engine
from cctv_policy.engine.embedded import EmbeddedEngine
from cctv_policy.registry import load_registry
from cctv_policy.rulebook.evaluation import Evaluation
from testing.helpers import demo_footage
from tests.conftest import DEMO_REGISTRY, NOW

PACKAGE = Path(__file__).resolve().parents[2] / "cctv_policy"


class OnlyEvaluates:
    """An engine with nothing but the protocol's members, over the real embedded OPA."""

    name = "only-evaluates"

    def __init__(self, real: EmbeddedEngine) -> None:
        self._real = real

    def evaluate(self, entrypoint: str, input: dict[str, Any]) -> Any:
        return self._real.evaluate(entrypoint, input)

    def evaluate_many(self, entrypoints: list[str], input: dict[str, Any]) -> list[Any]:
        return [self._real.evaluate(e, input) for e in entrypoints]

    def query(self, query: str, input: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        return self._real.query(query, input)

    def close(self) -> None:
        """The real engine belongs to the session."""


def test_the_engine_protocol_only_evaluates():
    members = {name for name, _ in inspect.getmembers(Engine, callable) if not name.startswith("_")}
    assert members == {"evaluate", "evaluate_many", "query", "close"}
    parameters = list(inspect.signature(Engine.evaluate_many).parameters)
    assert parameters == ["self", "entrypoints", "input"]


def test_the_rule_book_carries_no_costs(embedded_engine):
    """Costs are the scheduler's data (engine/scheduling.py), not rule book content."""
    with pytest.raises(EngineUndefined):
        embedded_engine.evaluate("cctv/check/part_costs", {})


def test_an_engine_that_only_evaluates_runs_check_and_plan(embedded_engine, tmp_path: Path):
    from cctv_policy.enforce.job import prepare

    engine = OnlyEvaluates(embedded_engine)
    expected = Evaluation(load_registry(DEMO_REGISTRY), embedded_engine, NOW, "v").check()
    seen = Evaluation(load_registry(DEMO_REGISTRY), engine, NOW, "v").check()
    assert seen.violations == expected.violations and seen.violations
    footage = demo_footage(tmp_path / "nas", ["CAM-CAN-03", "CAM-LIB-01"], NOW)
    evaluation = Evaluation(load_registry(DEMO_REGISTRY), engine, NOW, "v")
    prepared = prepare(evaluation, Scope(root_overrides={"nas-main": footage}))
    assert prepared.plan.actions


def test_readers_never_ask_an_engine_how_it_schedules():
    for module in (PACKAGE / "rulebook").glob("*.py"):
        names = {
            node.attr
            for node in ast.walk(ast.parse(module.read_text()))
            if isinstance(node, ast.Attribute)
        }
        assert not names & {"side_by_side", "evaluate_with_costs"}, module


def test_prepare_makes_the_backends_once(embedded_engine, tmp_path: Path, monkeypatch):
    """A target that cannot be used is found when the backends are made, before the rule
    book runs; its error is raised after the gate, without making the backends again."""
    from cctv_policy import targets
    from cctv_policy.enforce.job import prepare
    from cctv_policy.targets import TargetError

    made: list[str] = []
    real = targets.BACKENDS["filesystem"]

    def counted(target, root, *rest):
        made.append(target.id)
        return real(target, root, *rest)

    monkeypatch.setitem(targets.BACKENDS, "filesystem", counted)
    evaluation = Evaluation(load_registry(DEMO_REGISTRY), embedded_engine, NOW, "v")
    with pytest.raises(TargetError, match="not a directory"):
        prepare(evaluation, Scope("nas-main", {"nas-main": tmp_path / "not-mounted"}))
    assert made == ["nas-main"]
    made.clear()
    footage = demo_footage(tmp_path / "nas", ["CAM-LIB-01"], NOW)
    evaluation = Evaluation(load_registry(DEMO_REGISTRY), embedded_engine, NOW, "v")
    prepare(evaluation, Scope("nas-main", {"nas-main": footage}))
    assert made == ["nas-main"]


def test_the_worker_pool_is_the_callers(embedded_engine, tmp_path: Path):
    """The run's worker processes are handed in by whoever owns them, and end when it closes
    them: no pool is left behind in the process for the next run."""
    from cctv_policy.audit.log import AuditLog
    from cctv_policy.enforce.job import prepare, run_apply
    from storage_backends.day_workers import DayWorkers

    footage = demo_footage(tmp_path / "nas", ["CAM-LIB-01", "CAM-CAN-03"], NOW)
    evaluation = Evaluation(load_registry(DEMO_REGISTRY), embedded_engine, NOW, "v")
    with DayWorkers() as workers:
        prepared = prepare(evaluation, Scope("nas-main", {"nas-main": footage}), workers=workers)
        assert prepared.backends["nas-main"].workers is workers  # type: ignore[attr-defined]
        run_apply(prepared, AuditLog(tmp_path / "audit.jsonl"))
    assert workers._pool is None
    alone = Evaluation(load_registry(DEMO_REGISTRY), embedded_engine, NOW, "v")
    other = prepare(alone, Scope("nas-main", {"nas-main": footage}))
    assert other.backends["nas-main"].workers is not workers  # type: ignore[attr-defined]


def _long_functions(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    return [
        f"{path.name}:{node.name} ({node.end_lineno - node.lineno + 1} lines)"
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno is not None
        and node.end_lineno - node.lineno + 1 > 60
    ]


@pytest.mark.parametrize("room", ["enforce", "engine", "audit", "rulebook"])
def test_the_rooms_split_at_their_seams_stay_small(room: str):
    """No module over 400 lines, no function over 60, where the seams were cut (#30)."""
    for module in sorted((PACKAGE / room).glob("*.py")):
        assert len(module.read_text().splitlines()) <= 400, module
        assert not _long_functions(module), _long_functions(module)
