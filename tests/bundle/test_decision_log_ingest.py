"""A real OPA serving the signed bundle sends its decision logs to `cctv-policy
decision-log-ingest`, which appends them to the hash-chained audit log; a caller without the
token, or a body that is not a batch of decisions, appends nothing."""

from __future__ import annotations

import gzip
import json

import pytest
import requests

from cctv_policy.audit.log import verify_log
from cctv_policy.bundle.decision_logs import EVENT
from testing.live_registry import FLEET, IN_PERIOD, live_registry, question
from testing.opa_fleet import (
    IngestProcess,
    audit_entries,
    decision_log_config,
    wait_for,
    write_config,
)
from testing.real_opa import OpaServer
from tests.bundle.test_bundle import build, members, write_key

TOKEN = "decision-log-token-for-tests"


@pytest.fixture
def ingest(tmp_path):
    process = IngestProcess(tmp_path / "audit" / "audit.jsonl", TOKEN).start()
    yield process
    process.stop()


def test_opa_decision_logs_reach_the_audit_log(ingest, tmp_path):
    registry = live_registry(tmp_path / "registry")
    granted = question(registry, IN_PERIOD)
    not_granted = {**granted, "camera": "CAM-LIB-02"}
    key = write_key(tmp_path / "signing.pem")
    bundle = tmp_path / "cctv.tar.gz"
    assert build(registry, bundle, "--signing-key", str(key))[0] == 0
    revision = json.loads(members(bundle)[".manifest"])["revision"]
    config = write_config(tmp_path / "opa.json", decision_log_config(ingest.url, TOKEN))
    server = OpaServer(
        [
            "--bundle",
            str(bundle),
            "--verification-key",
            str(key.with_suffix(".pub")),
            "--config-file",
            str(config),
        ]
    ).start()
    try:
        assert server.decide(FLEET, granted)["allow"] is True
        assert server.decide(FLEET, not_granted)["allow"] is False
        wait_for(lambda: len(audit_entries(ingest.audit_log, EVENT)) == 2, 20, "two decisions")
    finally:
        server.stop()

    allowed, denied = audit_entries(ingest.audit_log, EVENT)
    assert (allowed["input"], allowed["result"]["allow"]) == (granted, True)
    assert (denied["input"], denied["result"]["allow"]) == (not_granted, False)
    for entry in (allowed, denied):
        assert entry["path"] == FLEET
        assert entry["bundle_revisions"] == {str(bundle): revision}
        assert entry["opa_labels"]["campus"] == "north"
        assert entry["decision_id"]
    assert allowed["decision_id"] != denied["decision_id"]
    assert verify_log(ingest.audit_log).ok


def _post(ingest, body: bytes, token: str | None = TOKEN, gzipped: bool = True):
    headers = {"Content-Type": "application/json"}
    if gzipped:
        headers["Content-Encoding"] = "gzip"
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return requests.post(f"{ingest.url}/logs", data=body, headers=headers, timeout=10)


BATCH = gzip.compress(json.dumps([{"decision_id": "d-1", "result": True}]).encode())


def test_without_the_token_nothing_is_appended(ingest):
    assert _post(ingest, BATCH, token=None).status_code == 401
    assert _post(ingest, BATCH, token="guess").status_code == 401
    assert audit_entries(ingest.audit_log, EVENT) == []


@pytest.mark.parametrize(
    ("body", "gzipped"),
    [
        (b"not gzip at all", True),
        (gzip.compress(b"{not json"), True),
        (gzip.compress(b'{"decision_id": "d-1"}'), True),  # an object, not an array
        (gzip.compress(b'[{"decision_id": "d-1"}, {"no_id": 1}]'), True),
    ],
)
def test_a_body_that_is_not_a_batch_of_decisions_appends_nothing(ingest, body, gzipped):
    response = _post(ingest, body, gzipped=gzipped)
    assert response.status_code == 400, response.text
    assert audit_entries(ingest.audit_log, EVENT) == []


def test_a_batch_too_large_to_unpack_is_recorded_as_refused_and_acknowledged(ingest):
    bomb = gzip.compress(b"\0" * (65 << 20))  # past the 16 MiB unpacked limit
    response = _post(ingest, bomb)
    assert response.status_code == 200, response.text  # or OPA would resend it for ever
    assert audit_entries(ingest.audit_log, EVENT) == []
    [refused] = audit_entries(ingest.audit_log, "opa_decision_batch_refused")
    assert refused["bytes"] == len(bomb) and "larger than" in refused["reason"]


def test_a_plain_json_batch_is_accepted_too(ingest):
    body = json.dumps([{"decision_id": "d-1", "result": {"allow": False}}]).encode()
    assert _post(ingest, body, gzipped=False).status_code == 200
    [entry] = audit_entries(ingest.audit_log, EVENT)
    assert entry["decision_id"] == "d-1"
    assert entry["result"] == {"allow": False}
