"""`serve` speaks exactly the documented subset of OPA's Data API (real uvicorn, real audit log)."""

from __future__ import annotations

import gzip
import json
import threading
import uuid
from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import quote

import pytest
import requests

from cctv_policy.audit.log import verify_log
from cctv_policy.authz.http import new_decision_id
from cctv_policy.authz.openapi import openapi_document
from cctv_policy.registry.types import format_utc
from testing.serving import ALLOW_PATH, ALLOWED, audit_entries, serving

DECISION_PATH = "/v1/data/cctv/authz/decision"
PACKAGE_PATH = "/v1/data/cctv/authz"


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    with serving(tmp_path_factory.mktemp("api") / "audit.jsonl") as running:
        yield running


def post(service, path: str, document, **kwargs) -> requests.Response:
    return requests.post(service.url + path, json=document, timeout=10, **kwargs)


def test_the_three_data_paths(service):
    allow = post(service, ALLOW_PATH, {"input": ALLOWED}).json()
    decision = post(service, DECISION_PATH, {"input": ALLOWED}).json()
    package = post(service, PACKAGE_PATH, {"input": ALLOWED}).json()
    assert allow["result"] is True
    assert decision["result"]["allow"] and decision["result"]["request"] == "REQ-2026-0042"
    assert package["result"] == {"allow": True, "decision": decision["result"]}
    assert len({allow["decision_id"], decision["decision_id"], package["decision_id"]}) == 3


def test_get_with_input_parameter(service):
    url = f"{service.url}{ALLOW_PATH}?input={quote(json.dumps(ALLOWED))}"
    assert requests.get(url, timeout=10).json()["result"] is True
    head = requests.head(url, timeout=10)
    assert head.status_code == 200 and head.content == b""
    assert int(head.headers["content-length"]) > 0


def test_missing_input_is_opas_warning_and_undefined_is_empty(service):
    warning = {"code": "api_usage_warning", "message": "'input' key missing from the request"}
    allow = post(service, ALLOW_PATH, {}).json()
    assert allow["result"] is False and allow["warning"] == warning
    undefined = requests.post(service.url + DECISION_PATH, data=b"", timeout=10).json()
    assert set(undefined) == {"decision_id", "warning"}  # no result: undefined, as OPA
    no_input_get = requests.get(service.url + DECISION_PATH, timeout=10).json()
    assert set(no_input_get) == {"decision_id"}  # OPA warns on POST only


def test_decision_id_is_the_audit_entry_of_the_decision(service):
    answer = post(service, ALLOW_PATH, {"input": {**ALLOWED, "now": "2031-01-01T00:00:00Z"}})
    entry = next(
        e
        for e in audit_entries(service.options.audit_log)
        if e["decision_id"] == answer.json()["decision_id"]
    )
    assert entry["allow"] is True and entry["principal"] == "t.wang"
    assert entry["now"] == "2026-11-22T02:00:00Z"  # the server's clock, not the caller's
    assert entry["input_now_ignored"] == "2031-01-01T00:00:00Z"
    assert entry["registry_revision"].startswith("sha256:") and entry["policy_version"]
    assert entry["replay"] is True  # a fixed clock (tests only) marks every decision a replay


def test_pretty_and_metrics(service):
    answer = requests.post(
        f"{service.url}{ALLOW_PATH}?pretty&metrics", json={"input": ALLOWED}, timeout=10
    )
    assert answer.text.startswith("{\n  ")
    assert set(answer.json()["metrics"]) == {
        "timer_rego_input_parse_ns",
        "timer_rego_query_eval_ns",
        "timer_server_handler_ns",
        "counter_server_query_cache_hit",
    }


JSON = {"Content-Type": "application/json"}
GZIPPED_JSON = {**JSON, "Content-Encoding": "gzip"}


def test_gzip_and_chunked_bodies(service):
    body = json.dumps({"input": ALLOWED}).encode()
    zipped = requests.post(
        service.url + ALLOW_PATH, data=gzip.compress(body), headers=GZIPPED_JSON, timeout=10
    )
    chunked = requests.post(
        service.url + ALLOW_PATH, data=iter([body[:10], body[10:]]), headers=JSON, timeout=10
    )
    assert zipped.json()["result"] is True and chunked.json()["result"] is True
    bomb = gzip.compress(b'{"input": {"principal": "' + b"a" * 200_000 + b'"}}')
    assert len(bomb) < 64 * 1024
    refused = requests.post(service.url + ALLOW_PATH, data=bomb, headers=GZIPPED_JSON, timeout=10)
    assert refused.status_code == 413 and refused.json()["code"] == "invalid_parameter"
    broken = requests.post(
        service.url + ALLOW_PATH, data=b"not gzip", headers=GZIPPED_JSON, timeout=10
    )
    assert broken.status_code == 400 and "decompress" in broken.json()["message"]


@pytest.mark.parametrize(
    "document,fragment",
    [
        ({"input": {**ALLOWED, "at": "2026-11-18T14:30:00"}}, "offset"),
        ({"input": {**ALLOWED, "at": "9999-11-18T14:30:00Z"}}, "1970 to 2199"),
        ({"input": {**ALLOWED, "principal": "T WANG\n"}}, "not a person id"),
        ({"input": {**ALLOWED, "camera": 7}}, "input.camera"),
        ({"input": "t.wang"}, "must be an object"),
        (["input"], "JSON object"),
    ],
)
def test_bad_input_is_a_json_400_and_no_decision(service, document, fragment):
    before = len(audit_entries(service.options.audit_log))
    answer = post(service, ALLOW_PATH, document)
    assert answer.status_code == 400 and answer.json()["code"] == "invalid_parameter"
    assert fragment in answer.json()["message"]
    assert len(audit_entries(service.options.audit_log)) == before


def test_every_other_path_and_method_is_a_json_error(service):
    for method, path, status in [
        ("GET", "/", 404),
        ("GET", "/v1/data", 404),
        ("POST", "/v1/data/cctv/authz/allowing", 404),
        ("GET", "/v1/policies", 404),
        ("PUT", ALLOW_PATH, 405),
        ("DELETE", "/health", 405),
        ("OPTIONS", PACKAGE_PATH, 405),
    ]:
        answer = requests.request(method, service.url + path, timeout=10)
        assert answer.status_code == status, (method, path)
        assert answer.headers["content-type"] == "application/json"
        assert set(answer.json()) == {"code", "message"}


def test_health_endpoints(service):
    for path in (
        "/health",
        "/health?bundles",
        "/health?plugins",
        "/health?bundles&plugins",
        "/health/live",
        "/health/ready",
    ):
        answer = requests.get(service.url + path, timeout=10)
        assert (answer.status_code, answer.json()) == (200, {}), path


def test_openapi_document_is_served(service):
    document = requests.get(service.url + "/openapi.json", timeout=10).json()
    assert document == openapi_document()
    assert set(document["paths"]) == {
        PACKAGE_PATH,
        ALLOW_PATH,
        DECISION_PATH,
        "/health",
        "/health/live",
        "/health/ready",
        "/openapi.json",
    }


def test_concurrent_decisions_are_all_durable_before_their_answers(service):
    before = len(audit_entries(service.options.audit_log))
    answers: list[str] = []

    def ask() -> None:
        with requests.Session() as session:
            for _ in range(10):
                reply = session.post(
                    service.url + ALLOW_PATH, json={"input": ALLOWED}, timeout=10
                ).json()
                # Durable before it was sent: the entry is already in the file.
                logged = service.options.audit_log.read_text()
                assert reply["decision_id"] in logged
                answers.append(reply["decision_id"])

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(answers)) == 80
    assert len(audit_entries(service.options.audit_log)) == before + 80
    assert verify_log(service.options.audit_log).ok


def test_decision_ids_are_random_uuids_as_opa_gives():
    ids = {new_decision_id() for _ in range(2000)}
    assert len(ids) == 2000
    for text in ids:
        parsed = uuid.UUID(text)
        assert str(parsed) == text and parsed.version == 4 and parsed.variant == uuid.RFC_4122


def test_timestamps_have_one_text_form():
    east = timezone(timedelta(hours=8))
    for moment in (
        datetime(2026, 11, 25, 8, 5, 9, 999, tzinfo=east),
        datetime(1970, 1, 1, tzinfo=UTC),
        datetime(2199, 12, 31, 23, 59, 59, tzinfo=UTC),
    ):
        assert format_utc(moment) == moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
