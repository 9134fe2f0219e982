"""Property-based fuzzing of `serve` from its own OpenAPI document (schemathesis): valid and
invalid calls on every operation, and every response must be one the document describes (status,
content type, JSON schema), never a 5xx, never a hang."""

from __future__ import annotations

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import checks

from cctv_policy.authz.openapi import openapi_document
from testing.serving import serving

schema = schemathesis.openapi.from_dict(openapi_document())


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    with serving(tmp_path_factory.mktemp("fuzz") / "audit.jsonl") as running:
        yield running


@pytest.fixture(scope="module")
def session():
    with requests.Session() as pooled:  # keep-alive, as a VMS would
        yield pooled


def test_the_served_document_is_the_fuzzed_one(service):
    served = requests.get(service.url + "/openapi.json", timeout=10).json()
    assert served == openapi_document()


@schema.parametrize()
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_api(case, service, session):
    # A body of only whitespace is no input to OPA (its JSON decoder reads io.EOF): 200 with
    # the api_usage_warning, as we answer, though the fuzzer counts it as invalid syntax.
    blank = isinstance(case.body, (str, bytes)) and not case.body.strip()
    response = case.call_and_validate(
        base_url=service.url,
        session=session,
        timeout=10,
        excluded_checks=[checks.negative_data_rejection] if blank else None,
    )
    assert response.status_code < 500
    if blank and case.method == "POST" and response.status_code == 200:
        assert response.json()["warning"]["code"] == "api_usage_warning"
