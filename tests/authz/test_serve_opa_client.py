"""`serve` end to end through opa-python-client, as a VMS written for OPA calls it (pooled
keep-alive connections, retries on 5xx)."""

from __future__ import annotations

import pytest
import requests
from opa_client.opa import OpaClient

from testing.serving import ALLOWED, serving


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    with serving(tmp_path_factory.mktemp("opa-client") / "audit.jsonl") as service:
        opa = OpaClient(host="127.0.0.1", port=service.server.port, timeout=10)
        yield opa
        opa.close_connection()


def test_health(client):
    assert client.check_health()
    assert client.check_health({"bundles": True})
    assert client.check_health({"plugins": True})


def test_query_rule(client):
    assert client.query_rule(ALLOWED, "cctv.authz", "allow")["result"] is True
    decision = client.query_rule(ALLOWED, "cctv/authz", "decision", {"pretty": True})
    assert decision["result"]["request"] == "REQ-2026-0042"
    denied = client.query_rule({**ALLOWED, "camera": "CAM-LIB-02"}, "cctv.authz", "allow")
    assert denied["result"] is False and denied["decision_id"]
    whole = client.query_rule(ALLOWED, "cctv.authz", query_params={"metrics": True})
    assert whole["result"]["allow"] is True and "timer_rego_query_eval_ns" in whole["metrics"]


def test_errors_are_opa_shaped(client):
    with pytest.raises(requests.HTTPError) as bad:
        client.query_rule({"principal": "t.wang"}, "cctv.authz", "allow")
    assert bad.value.response.status_code == 400
    assert bad.value.response.json()["code"] == "invalid_parameter"
    with pytest.raises(requests.HTTPError) as missing:
        client.query_rule(ALLOWED, "cctv.authz", "allowing")
    assert missing.value.response.json()["code"] == "resource_not_found"


def test_a_wrong_path_then_a_valid_call_on_the_same_pool(client):
    for _ in range(3):
        with pytest.raises(requests.HTTPError):
            client.query_rule(ALLOWED, "other.package", "allow")
        assert client.query_rule(ALLOWED, "cctv.authz", "allow")["result"] is True
