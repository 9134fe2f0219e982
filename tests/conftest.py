"""Shared fixtures: the demo registry, a fixed clock, a compiled embedded engine."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

import pytest

from cctv_policy.engine import load_policies
from cctv_policy.engine.embedded import EmbeddedEngine
from cctv_policy.registry.types import parse_rfc3339
from testing.helpers import DEMO_REGISTRY

pytest_plugins = ["testing.opa_fixtures"]

REPO = Path(__file__).resolve().parents[1]
POLICIES = REPO / "policies"
DATA = Path(__file__).resolve().parent / "data"
NOW_TEXT = "2026-11-25T12:00:00+08:00"
NOW: datetime = parse_rfc3339(NOW_TEXT)


@pytest.fixture(scope="session")
def policies():
    return load_policies(POLICIES)


@pytest.fixture(scope="session")
def embedded_engine(policies):
    engine = EmbeddedEngine(policies.without_tests())
    yield engine
    engine.close()


@pytest.fixture
def registry_copy(tmp_path: Path) -> Path:
    """A writable copy of the demo registry."""
    target = tmp_path / "registry"
    shutil.copytree(DEMO_REGISTRY, target)
    return target
