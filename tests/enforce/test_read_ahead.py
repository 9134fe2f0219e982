"""Reading day folders ahead, while the rule book decides: the plan is the one planning would
make reading everything itself, whatever happens to the reading ahead."""

from __future__ import annotations

from pathlib import Path

import pytest

from cctv_policy.audit.log import AuditLog
from cctv_policy.enforce import read_ahead
from cctv_policy.enforce.job import prepare, run_apply
from cctv_policy.enforce.models import Plan, Scope
from cctv_policy.engine import load_policies
from cctv_policy.engine.embedded import EmbeddedEngine
from cctv_policy.registry import load_registry
from cctv_policy.rulebook.evaluation import Evaluation
from cctv_policy.rulebook.gate import RegistryNotEnforceable
from storage_backends.filesystem import FilesystemBackend
from testing.helpers import demo_footage
from tests.conftest import DEMO_REGISTRY, NOW


@pytest.fixture
def footage(tmp_path: Path) -> Path:
    # CAM-CAN-03 has a hold on an expired day, CAM-GYM-01 an active grant.
    return demo_footage(tmp_path / "nas-main", ["CAM-CAN-03", "CAM-GYM-01", "CAM-LIB-01"], NOW)


@pytest.fixture
def engine():
    made = EmbeddedEngine(load_policies().without_tests())
    yield made
    made.close()


def plan_of(engine: EmbeddedEngine, root: Path, registry: Path = DEMO_REGISTRY) -> Plan:
    evaluation = Evaluation(load_registry(registry), engine, NOW, load_policies().version)
    return prepare(evaluation, Scope("nas-main", {"nas-main": root})).plan


def comparable(plan: Plan) -> dict:
    return plan.model_dump(mode="json")


def test_the_plan_is_the_same_with_and_without_reading_ahead(
    engine: EmbeddedEngine, footage: Path, monkeypatch: pytest.MonkeyPatch
):
    """Reading ahead uses config.yaml's cutoff and knows no protection: the held day and the
    granted days must still be planned from the decision (holds, no delete-day for them)."""
    started: list[str] = []
    real = read_ahead.read_ahead

    def watched(*args, **kwargs):
        ahead = real(*args, **kwargs)
        started.extend(ahead)
        return ahead

    monkeypatch.setattr(FilesystemBackend, "works_beside", True)  # also on one core
    monkeypatch.setattr("cctv_policy.enforce.read_ahead.read_ahead", watched)
    ahead = plan_of(engine, footage)
    assert started == ["nas-main"], "the run did not read ahead"
    monkeypatch.setattr(FilesystemBackend, "works_beside", False)
    started.clear()
    alone = plan_of(engine, footage)
    assert started == []
    assert comparable(ahead) == comparable(alone)
    kinds = {a.action for a in ahead.actions}
    assert {"delete-day", "hold"} <= kinds
    held_day = "CAM-CAN-03/2026/10/18/"
    assert held_day not in {a.key for a in ahead.actions if a.action == "delete-day"}


def test_a_failed_read_ahead_is_read_again(
    engine: EmbeddedEngine, footage: Path, monkeypatch: pytest.MonkeyPatch
):
    """The background reading fails (a worker died, a folder vanished for a moment): planning
    reads every day itself and plans the same."""
    monkeypatch.setattr(FilesystemBackend, "works_beside", False)
    alone = plan_of(engine, footage)
    monkeypatch.setattr(FilesystemBackend, "works_beside", True)
    real = FilesystemBackend.list_many
    calls: list[int] = []

    def first_fails(self, wanted):
        calls.append(len(wanted))
        if len(calls) == 1:
            raise OSError("worker gone")
        return real(self, wanted)

    monkeypatch.setattr(FilesystemBackend, "list_many", first_fails)
    assert comparable(plan_of(engine, footage)) == comparable(alone)
    assert len(calls) == 2 and calls[1] >= calls[0] > 0


def test_input_errors_come_before_an_unusable_storage_root(
    engine: EmbeddedEngine, tmp_path: Path, registry_copy: Path
):
    """Backends are made early to read ahead; a target that cannot be used must not hide the
    registry's input errors (exit 3, fix the registry first)."""
    (registry_copy / "holds" / "HOLD-2026-0002.yaml").write_text("id: [broken\n")
    with pytest.raises(RegistryNotEnforceable):
        plan_of(engine, tmp_path / "not-mounted", registry_copy)


def test_a_file_that_arrives_after_reading_ahead_is_left_alone(
    engine: EmbeddedEngine, footage: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """What was read ahead is a snapshot: a segment written into an expired day folder after
    the reading is not in it, so it is neither logged nor deleted (a later run sees it); the
    rest of the day is deleted and logged name by name."""
    monkeypatch.setattr(FilesystemBackend, "works_beside", True)
    real = read_ahead.read_ahead
    late = footage / "CAM-LIB-01/2026/10/17/20261017T235959Z_1s.mp4"

    def then_write(*args, **kwargs):
        ahead = real(*args, **kwargs)
        ahead["nas-main"].take()  # the reading is done
        late.touch()
        return ahead

    monkeypatch.setattr("cctv_policy.enforce.read_ahead.read_ahead", then_write)
    evaluation = Evaluation(load_registry(DEMO_REGISTRY), engine, NOW, load_policies().version)
    prepared = prepare(evaluation, Scope("nas-main", {"nas-main": footage}))
    report = run_apply(prepared, AuditLog(tmp_path / "audit.jsonl"))
    assert report.done["delete"] > 0 and not report.refused
    assert late.exists()
    assert sorted(p.name for p in late.parent.iterdir()) == [late.name]
    logged = (tmp_path / "audit.jsonl").read_text()
    assert late.name not in logged and "20261017T000000Z_7200s.mp4" in logged
