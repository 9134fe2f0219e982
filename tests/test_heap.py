"""The cycle collector around registry loads: paused inside, left as it was found."""

from __future__ import annotations

import gc

import pytest

from cctv_policy.heap import collector_paused
from cctv_policy.registry import load_registry
from cctv_policy.registry.loader import _Reader
from tests.conftest import DEMO_REGISTRY


@pytest.fixture(autouse=True)
def _restore_collector():
    enabled = gc.isenabled()
    yield
    gc.unfreeze()
    (gc.enable if enabled else gc.disable)()


def test_a_load_pauses_the_collector_and_freezes_what_it_loaded(monkeypatch: pytest.MonkeyPatch):
    seen: list[bool] = []
    read_all = _Reader.read_all

    def watched(self):
        seen.append(gc.isenabled())
        read_all(self)

    monkeypatch.setattr(_Reader, "read_all", watched)
    gc.unfreeze()
    registry = load_registry(DEMO_REGISTRY)
    assert seen == [False], "the collector ran during the load"
    assert gc.isenabled()
    assert gc.get_freeze_count() > 0
    assert registry.requests  # loaded as ever


def test_a_failed_load_leaves_the_collector_running(monkeypatch: pytest.MonkeyPatch):
    def broken(self):
        raise OSError("disk gone")

    monkeypatch.setattr(_Reader, "read_all", broken)
    with pytest.raises(OSError):
        load_registry(DEMO_REGISTRY)
    assert gc.isenabled()


def test_a_paused_collector_stays_paused():
    """A caller that runs without the collector (a benchmark, a test) keeps it off."""
    gc.disable()
    with collector_paused():
        pass
    assert not gc.isenabled()
