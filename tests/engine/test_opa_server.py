"""--engine opa gives the same decisions as --engine embedded.

Against a real OPA server when one is reachable: $CCTV_OPA_URL, or an `opa` binary on PATH that
the fixture starts on 127.0.0.1. Otherwise those tests skip and say why. The adapter itself is
also exercised over real HTTP against testing/opa_api_stub.py (OPA's API shape over the OPA Go
library).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from cctv_policy.checks.rulebook import run_check
from cctv_policy.engine import EngineUndefined
from cctv_policy.engine.opa_server import OpaServerEngine
from cctv_policy.registry import load_registry
from testing import opa_api_stub
from tests.conftest import DATA, DEMO_REGISTRY, NOW, POLICIES

SCENARIOS = [
    "violations/DECISION_SCOPE_WIDENED",
    "violations/REQUEST_APPLICANT_REPORT_OVERDUE",
    "violations/CAMERA_PRIVATE_AREA",
    "bad/unknown_camera_reference",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def real_opa_url() -> Iterator[str]:
    if url := os.environ.get("CCTV_OPA_URL"):
        yield url
        return
    binary = shutil.which("opa")
    if not binary:
        pytest.skip(
            "no real OPA server: set CCTV_OPA_URL or put the `opa` binary on PATH "
            "(it is not in PyPI/Debian, so this machine has none)"
        )
    port = _free_port()
    process = subprocess.Popen(
        [binary, "run", "--server", "--addr", f"127.0.0.1:{port}", str(POLICIES)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            break
        except OSError:
            time.sleep(0.1)
    yield url
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture(scope="module")
def stub_url() -> Iterator[str]:
    server, url = opa_api_stub.start()
    yield url
    server.shutdown()


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


def _same_decisions(url: str, embedded_engine, policies, tmp_path: Path) -> None:
    remote = OpaServerEngine(url, policies)
    for registry in _registries(tmp_path):
        expected = _decisions(embedded_engine, registry)
        assert expected, "each scenario has at least one violation to compare"
        assert _decisions(remote, registry) == expected, registry.name


def test_real_opa_server_gives_the_same_decisions(
    real_opa_url, embedded_engine, policies, tmp_path
):
    _same_decisions(real_opa_url, embedded_engine, policies, tmp_path)


def test_adapter_over_http_gives_the_same_decisions(stub_url, embedded_engine, policies, tmp_path):
    _same_decisions(stub_url, embedded_engine, policies, tmp_path)


def test_adapter_reports_undefined_as_undefined(stub_url, policies):
    remote = OpaServerEngine(stub_url, policies)
    with pytest.raises(EngineUndefined):
        remote.evaluate("cctv/check/not_a_rule", {})


def test_real_opa_server_gives_the_same_authz_answers(real_opa_url, policies):
    _same_authz_answers(real_opa_url, policies)


def test_adapter_over_http_gives_the_same_authz_answers(stub_url, policies):
    _same_authz_answers(stub_url, policies)


def _same_authz_answers(url: str, policies) -> None:
    """The registry is PUT as data, the question POSTed as input, as a VMS would."""
    from opa_client.opa import OpaClient

    from cctv_policy.authz.decide import Authorizer, registry_data
    from cctv_policy.evaluation import Evaluation

    registry = load_registry(DEMO_REGISTRY)
    remote = OpaServerEngine(url, policies)
    host, port = url.split("//")[1].split(":")
    OpaClient(host=host, port=int(port), timeout=30).update_or_create_data(
        registry_data(Evaluation(registry, remote, NOW, policies.version)), "cctv_registry"
    )
    local = Authorizer(Evaluation(registry, remote, NOW, policies.version), policies)
    for camera in ("CAM-LIB-01", "CAM-LIB-02"):
        q = {
            "principal": "t.wang",
            "camera": camera,
            "at": "2026-11-18T06:30:00Z",
            "now": "2026-11-22T02:00:00Z",
        }
        assert remote.evaluate("cctv/authz/decision", q) == local.decide(q).model_dump(
            exclude_none=True
        )
