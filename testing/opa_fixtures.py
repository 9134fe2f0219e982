"""pytest fixtures with real `opa run --server` processes (registered by tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from testing.real_opa import OpaServer

POLICIES = Path(__file__).resolve().parents[1] / "policies"


@pytest.fixture(scope="session")
def opa_server() -> Iterator[OpaServer]:
    """A real OPA server started on the rule book (test files left out), for the session."""
    server = OpaServer(["--ignore", "*_test.rego", str(POLICIES)]).start()
    yield server
    server.stop()


@pytest.fixture
def bare_opa_server() -> Iterator[OpaServer]:
    """A real OPA server with no policies (clients upload theirs)."""
    server = OpaServer([]).start()
    yield server
    server.stop()
