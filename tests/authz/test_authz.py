"""The decision API, in-process, on the command line and over real HTTP (also through the
`opa` engine adapter, i.e. opa-python-client, exactly as a VMS written for OPA would call it)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner

from cctv_policy.audit.log import AuditLog, verify_log
from cctv_policy.authz.decide import Authorizer, question
from cctv_policy.cli.main import cli
from cctv_policy.engine import EngineError
from cctv_policy.engine.opa_server import OpaServerEngine
from cctv_policy.registry import load_registry
from cctv_policy.registry.types import parse_rfc3339
from cctv_policy.rulebook.evaluation import Evaluation
from testing.serving import serving
from tests.conftest import DEMO_REGISTRY

NOW = parse_rfc3339("2026-11-22T10:00:00+08:00")
AT = parse_rfc3339("2026-11-18T14:30:00+08:00")  # inside REQ-2026-0042's footage window


@pytest.fixture(scope="module")
def authorizer(tmp_path_factory, embedded_engine, policies) -> Authorizer:
    log = AuditLog(tmp_path_factory.mktemp("authz") / "audit.jsonl")
    evaluation = Evaluation(load_registry(DEMO_REGISTRY), embedded_engine, NOW, policies.version)
    return Authorizer(evaluation, policies, log)


@pytest.fixture(scope="module")
def server_url(tmp_path_factory) -> Iterator[str]:
    with serving(tmp_path_factory.mktemp("serve") / "audit.jsonl", fixed_clock=NOW) as service:
        yield service.url


def ask(
    authorizer: Authorizer, principal: str, camera: str, at: datetime = AT, now: datetime = NOW
):
    return authorizer.decide(question(principal, camera, at, now))


def test_recipient_of_approved_request_is_allowed(authorizer):
    decision = ask(authorizer, "t.wang", "CAM-LIB-01")
    assert decision.allow and decision.request == "REQ-2026-0042"


@pytest.mark.parametrize(
    "principal,camera,at,now",
    [
        ("t.wang", "CAM-LIB-02", AT, NOW),  # other camera
        ("y.zhang", "CAM-LIB-01", AT, NOW),  # not a recipient
        ("t.wang", "CAM-LIB-01", parse_rfc3339("2026-11-18T16:30:00+08:00"), NOW),  # outside window
        ("t.wang", "CAM-LIB-01", AT, parse_rfc3339("2026-11-21T07:59:59+08:00")),  # before use
        ("t.wang", "CAM-LIB-01", AT, parse_rfc3339("2026-11-28T18:00:00+08:00")),  # after use
        (
            "x.huang",
            "CAM-CAN-01",
            parse_rfc3339("2026-10-25T12:00:00+08:00"),  # rejected
            parse_rfc3339("2026-11-10T10:00:00+08:00"),
        ),
    ],
)
def test_everything_else_is_denied_with_a_reason(authorizer, principal, camera, at, now):
    decision = ask(authorizer, principal, camera, at, now)
    assert not decision.allow and decision.reason


def test_narrowed_scope_is_what_counts(authorizer):
    # REQ-2026-0038 asked for 15:00-18:00 on three cameras; approved 15:30-17:00 on two.
    inside = parse_rfc3339("2026-11-16T16:00:00+08:00")
    early = parse_rfc3339("2026-11-16T15:10:00+08:00")
    now = parse_rfc3339("2026-11-20T10:00:00+08:00")
    assert ask(authorizer, "d.he", "CAM-SPT-01", inside, now).allow
    assert not ask(authorizer, "d.he", "CAM-SPT-01", early, now).allow
    assert not ask(authorizer, "d.he", "CAM-GYM-01", inside, now).allow


def test_every_decision_is_audit_logged(authorizer):
    before = authorizer.audit.head()[0]
    ask(authorizer, "t.wang", "CAM-LIB-01")
    assert authorizer.audit.head()[0] == before + 1
    last = json.loads(authorizer.audit.path.read_text().splitlines()[-1])
    assert last["event"] == "authorize" and last["principal"] == "t.wang" and last["allow"]
    assert verify_log(authorizer.audit.path).ok


def test_cli_exit_codes(tmp_path: Path):
    base = [
        "authorize",
        "--registry",
        str(DEMO_REGISTRY),
        "--now",
        "2026-11-22T10:00:00+08:00",
        "--at",
        "2026-11-18T14:30:00+08:00",
        "--audit-log",
        str(tmp_path / "a.jsonl"),
    ]
    allowed = CliRunner().invoke(cli, [*base, "--principal", "t.wang", "--camera", "CAM-LIB-01"])
    denied = CliRunner().invoke(cli, [*base, "--principal", "t.wang", "--camera", "CAM-GATE-01"])
    assert allowed.exit_code == 0 and allowed.output.startswith("ALLOW")
    assert denied.exit_code == 1 and denied.output.startswith("DENY")


def test_cli_denies_when_the_audit_log_cannot_be_written(tmp_path: Path):
    (tmp_path / "f").write_text("x")
    result = CliRunner().invoke(
        cli,
        [
            "authorize",
            "--registry",
            str(DEMO_REGISTRY),
            "--now",
            "2026-11-22T10:00:00+08:00",
            "--at",
            "2026-11-18T14:30:00+08:00",
            "--principal",
            "t.wang",
            "--camera",
            "CAM-LIB-01",
            "--audit-log",
            str(tmp_path / "f" / "a.jsonl"),
        ],
    )
    assert result.exit_code == 2 and "denied" in result.output


def test_serve_speaks_opas_data_api(server_url):
    body = {
        "input": {
            "principal": "t.wang",
            "camera": "CAM-LIB-01",
            "at": "2026-11-18T14:30:00+08:00",
            "now": "2026-11-22T10:00:00+08:00",
        }
    }
    allow = requests.post(f"{server_url}/v1/data/cctv/authz/allow", json=body, timeout=10)
    assert allow.json()["result"] is True and allow.json()["decision_id"]
    decision = requests.post(f"{server_url}/v1/data/cctv/authz/decision", json=body, timeout=10)
    assert decision.json()["result"]["request"] == "REQ-2026-0042"
    naive = {"input": {**body["input"], "at": "2026-11-18T14:30:00"}}
    bad = requests.post(f"{server_url}/v1/data/cctv/authz/allow", json=naive, timeout=10)
    assert bad.status_code == 400 and "offset" in bad.json()["message"]
    assert requests.post(f"{server_url}/v1/data/other", json=body, timeout=10).status_code == 404


def test_opa_engine_adapter_against_serve(server_url):
    engine = OpaServerEngine(server_url)
    q = {
        "principal": "t.wang",
        "camera": "CAM-LIB-01",
        "at": "2026-11-18T06:30:00Z",
        "now": "2026-11-22T02:00:00Z",
    }
    assert engine.evaluate("cctv/authz/allow", q) is True
    assert engine.evaluate("cctv/authz/allow", {**q, "camera": "CAM-LIB-02"}) is False
    assert engine.evaluate("cctv/authz/decision", q)["request"] == "REQ-2026-0042"
    with pytest.raises(EngineError):
        engine.evaluate("cctv/authz/allow", {"principal": "t.wang"})
