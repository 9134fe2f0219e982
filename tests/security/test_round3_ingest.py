"""`decision-log-ingest` under attack (issue #26, round 3), on real uvicorn servers on 127.0.0.1.

Before: one input nested 500 levels deep failed its batch for good (RecursionError while bounding
it; OPA resends a batch until it is acknowledged, so nothing after it was ever logged); anyone
who reached the port could write `opa_decision` lines (no token by default, a cross-origin
browser POST worked, forged entries passed `audit verify`); a 200 KB gzip body became a 63 MB
line; stalled connections each held a thread for ever; `Content-Length: abc` was a traceback.
And `serve` with TLS counted and timed a connection only after its handshake, and offered CBC
suites."""

from __future__ import annotations

import gzip
import json
import socket
import ssl
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import trustme
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from cctv_policy.audit.log import AuditLog, verify_log
from cctv_policy.bundle import decision_logs
from cctv_policy.bundle.batch_scan import cut_deeper_than, split_events
from cctv_policy.bundle.decision_logs import EVENT, MAX_ENTRY_BYTES
from cctv_policy.bundle.ingest_app import IngestApp, IngestConfig
from cctv_policy.cli.main import cli
from cctv_policy.httpserve.guards import HostRule
from cctv_policy.httpserve.runner import HttpServer
from cctv_policy.httpserve.tls import TlsFiles
from testing.live_registry import FLEET, IN_PERIOD, live_registry, question
from testing.opa_fleet import (
    IngestProcess,
    audit_entries,
    decision_log_config,
    wait_for,
    write_config,
)
from testing.real_opa import OpaServer
from testing.serving import ALLOW_PATH, ALLOWED, RawConnection, quick_limits, serving
from tests.bundle.test_bundle import build, write_key

TOKEN = "fleet-token-0123456789abcdef"
CBC_ONLY = (  # old serve took ECDHE-ECDSA-AES128-SHA256
    "ECDHE-ECDSA-AES128-SHA256:ECDHE-RSA-AES128-SHA256:ECDHE-ECDSA-AES256-SHA384:"
    "ECDHE-RSA-AES256-SHA384:ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA"
)


def nested(levels: int) -> str:
    """JSON text nested `levels` deep (json.dumps itself stops near 1,000)."""
    return "[" * levels + '"bottom"' + "]" * levels


def batch(*events: dict | str) -> bytes:
    texts = [e if isinstance(e, str) else json.dumps(e) for e in events]
    return gzip.compress(f"[{','.join(texts)}]".encode())


def post(url: str, body: bytes, token: str | None = TOKEN, **headers: str) -> requests.Response:
    sent = {"Content-Encoding": "gzip", "Content-Type": "application/json", **headers}
    if token:
        sent["Authorization"] = f"Bearer {token}"
    return requests.post(f"{url}/logs", data=body, headers=sent, timeout=60)


@pytest.fixture(scope="module")
def ingest(tmp_path_factory) -> Iterator[IngestProcess]:
    process = IngestProcess(tmp_path_factory.mktemp("ingest") / "audit.jsonl", TOKEN).start()
    yield process
    process.stop()


def _entries(ingest: IngestProcess, event: str = EVENT) -> dict[str, dict]:
    return {e["decision_id"]: e for e in audit_entries(ingest.audit_log, event)}


def test_a_deeply_nested_input_does_not_stop_the_fleet_logging(ingest):
    events = [
        {"decision_id": "before", "result": {"allow": True}},
        f'{{"decision_id": "deep-500", "input": {nested(500)}, "result": {{"allow": false}}}}',
        f'{{"decision_id": "deep-5000", "input": {{"x": {nested(5000)}}}, '
        '"result": {"allow": false}}',
        {"decision_id": "after", "input": ALLOWED, "result": {"allow": True}},
    ]
    answer = post(ingest.url, batch(*events))
    assert answer.status_code == 200, answer.text  # old: no answer at all (RecursionError)
    kept = _entries(ingest)
    assert {"before", "deep-500", "deep-5000", "after"} <= set(kept)
    assert kept["after"]["input"] == ALLOWED and kept["after"]["result"] == {"allow": True}
    for deep in ("deep-500", "deep-5000"):
        text = json.dumps(kept[deep]["input"])
        assert "[cut: nested" in text and "sha256" in text
        assert kept[deep]["result"] == {"allow": False}
    assert post(ingest.url, batch({"decision_id": "next", "result": True})).status_code == 200
    assert "next" in _entries(ingest)
    assert verify_log(ingest.audit_log).ok


def test_a_huge_input_is_kept_as_a_digest_and_no_line_passes_the_bound(ingest):
    huge = [f"{i:08d}" + "x" * 392 for i in range(30_000)]  # 12 MB, about 200 KB gzip'd
    body = batch({"decision_id": "huge", "input": huge, "result": {"allow": False}})
    assert len(body) < 400_000
    assert post(ingest.url, body).status_code == 200
    entry = _entries(ingest)["huge"]
    assert entry["input"]["sha256"] and entry["input"]["cut"].startswith("too large")
    assert entry["result"] == {"allow": False} and entry["cut"] == ["input"]
    longest = max(len(line) for line in ingest.audit_log.read_bytes().splitlines())
    assert longest < MAX_ENTRY_BYTES  # old: a 60 MB line


def test_ingested_entries_say_they_are_the_fleets_word(ingest):
    assert post(ingest.url, batch({"decision_id": "who", "result": True})).status_code == 200
    entry = _entries(ingest)["who"]
    assert entry["source"] == "opa-fleet" and entry["asserted_by"].startswith("token:")
    assert entry["peer"] == "127.0.0.1"
    assert TOKEN not in ingest.audit_log.read_text()
    shown = CliRunner().invoke(cli, ["audit", "show", "--audit-log", str(ingest.audit_log)])
    assert "[opa-fleet via token:" in shown.output


@pytest.mark.parametrize(
    "token,headers,status",
    [
        (None, {}, 401),
        ("guess-guess-guess-guess", {}, 401),
        (TOKEN, {"Origin": "https://evil.example"}, 403),  # a page a staff member opened
        (None, {"Origin": "https://evil.example"}, 403),
        (TOKEN, {"Sec-Fetch-Site": "cross-site"}, 403),
        (TOKEN, {"Host": "rebound.evil.example"}, 421),  # DNS rebinding
    ],
)
def test_forged_entries_are_refused(ingest, token, headers, status):
    body = batch({"decision_id": "forged", "result": {"allow": True}})
    answer = post(ingest.url, body, token=token, **headers)
    assert answer.status_code == status, answer.text
    assert "forged" not in _entries(ingest)  # old: 200 and a forged line


def test_a_malformed_request_is_a_json_answer(ingest):
    conn = RawConnection(ingest.port)
    try:
        conn.send(b"POST /logs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: abc\r\n\r\n")
        status, _, body = conn.response()  # old: a traceback and no answer
        assert status == 400 and "malformed" in body["message"]
    finally:
        conn.close()


def test_an_oversized_batch_is_refused_before_it_is_read(ingest):
    answer = post(ingest.url, b"x" * (9 << 20))
    assert answer.status_code == 413


@pytest.mark.parametrize(
    "args,message",
    [
        ([], "Missing option '--token-file'"),
        (["--host", "0.0.0.0", "--token-file", "TOKENS"], "refusing to listen"),
        (["--host", "192.0.2.10", "--token-file", "TOKENS"], "refusing to listen"),
        (["--token-file", "OPEN_TOKENS"], "chmod 600"),
    ],
)
def test_the_ingest_does_not_start_unsafely(tmp_path: Path, args, message):
    tokens, open_tokens = tmp_path / "tokens", tmp_path / "open-tokens"
    tokens.write_text(TOKEN + "\n")
    tokens.chmod(0o600)
    open_tokens.write_text(TOKEN + "\n")
    open_tokens.chmod(0o644)
    args = [{"TOKENS": str(tokens), "OPEN_TOKENS": str(open_tokens)}.get(a, a) for a in args]
    result = CliRunner().invoke(
        cli,
        ["decision-log-ingest", "--port", "0", "--audit-log", str(tmp_path / "a.jsonl"), *args],
    )
    assert result.exit_code == 2 and message in result.output, result.output
    assert "Traceback" not in result.output


# In-process servers with short deadlines, for the connection tests.


@pytest.fixture
def quick_ingest(tmp_path: Path) -> Iterator[HttpServer]:
    limits = quick_limits(max_connections=20, max_body=8 << 20)
    config = IngestConfig(
        AuditLog(tmp_path / "audit.jsonl", max_line=MAX_ENTRY_BYTES),
        (TOKEN.encode(),),
        HostRule.for_binding("127.0.0.1", ()),
        limits,
    )
    server = HttpServer(IngestApp(config), "127.0.0.1", 0, limits).start_in_thread()
    yield server
    server.stop()


def test_stalled_connections_are_bounded_and_cut_off(quick_ingest):
    held = [RawConnection(quick_ingest.port) for _ in range(20)]
    try:
        extra = RawConnection(quick_ingest.port)
        status, _, body = extra.response()
        assert status == 503 and body["message"].startswith("too many open connections")
        started = time.monotonic()
        assert all(conn.closed_by_server() for conn in held)  # old: held for ever
        assert time.monotonic() - started < 5
    finally:
        for conn in held:
            conn.close()
    answer = post(quick_ingest.url, batch({"decision_id": "d", "result": True}))
    assert answer.status_code == 200


@pytest.fixture(scope="module")
def authority() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def tls_files(authority, tmp_path_factory) -> TlsFiles:
    folder = tmp_path_factory.mktemp("tls")
    issued = authority.issue_cert("127.0.0.1", "localhost")
    for number, pem in enumerate(issued.cert_chain_pems):
        pem.write_to_path(folder / "cert.pem", append=number > 0)
    issued.private_key_pem.write_to_path(folder / "key.pem")
    (folder / "key.pem").chmod(0o600)
    authority.cert_pem.write_to_path(folder / "ca.pem")
    return TlsFiles(folder / "cert.pem", folder / "key.pem")


def test_the_ingest_over_tls_takes_batches_and_refuses_cbc(tls_files, tmp_path: Path):
    process = IngestProcess(
        tmp_path / "audit.jsonl",
        TOKEN,
        extra_args=("--tls-cert", str(tls_files.cert), "--tls-key", str(tls_files.key)),
        scheme="https",
    ).start()
    try:
        ca = str(tls_files.cert.with_name("ca.pem"))
        body = batch({"decision_id": "over-tls", "result": True})
        answer = requests.post(
            f"{process.url}/logs",
            data=body,
            headers={"Authorization": f"Bearer {TOKEN}", "Content-Encoding": "gzip"},
            verify=ca,
            timeout=30,
        )
        assert answer.status_code == 200, answer.text
        with pytest.raises(ssl.SSLError):
            _handshake(process.port, ca, CBC_ONLY)
    finally:
        process.stop()
    assert "over-tls" in {e["decision_id"] for e in audit_entries(process.audit_log, EVENT)}


def test_a_world_readable_tls_key_is_refused(tls_files, tmp_path: Path):
    key = tmp_path / "key.pem"
    key.write_bytes(tls_files.key.read_bytes())
    key.chmod(0o640)
    tokens = tmp_path / "tokens"
    tokens.write_text(TOKEN + "\n")
    tokens.chmod(0o600)
    result = CliRunner().invoke(
        cli,
        [
            "decision-log-ingest",
            "--port",
            "0",
            "--audit-log",
            str(tmp_path / "a.jsonl"),
            "--token-file",
            str(tokens),
            "--tls-cert",
            str(tls_files.cert),
            "--tls-key",
            str(key),
        ],
    )
    assert result.exit_code == 2 and "chmod 600" in result.output, result.output


def _handshake(port: int, ca: str, ciphers: str | None = None) -> str:
    context = ssl.create_default_context(cafile=ca)
    if ciphers:
        context.maximum_version = ssl.TLSVersion.TLSv1_2
        context.set_ciphers(ciphers)
    with (
        socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
        context.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
    ):
        return str(tls.version())


# `serve` with TLS: connections counted and timed from accept, AEAD suites only.


@pytest.fixture
def tls_serve(tls_files, tmp_path: Path):
    with serving(
        tmp_path / "audit.jsonl", tls=tls_files, limits=quick_limits(max_connections=20)
    ) as running:
        yield running


def test_serve_drops_connections_that_never_start_tls(tls_serve, tls_files):
    held = [socket.create_connection(("127.0.0.1", tls_serve.server.port)) for _ in range(20)]
    try:
        extra = socket.create_connection(("127.0.0.1", tls_serve.server.port), timeout=3)
        assert extra.recv(1) == b""  # over the bound: closed at once, before any handshake
        extra.close()
        started = time.monotonic()
        for conn in held:
            conn.settimeout(5)
            assert conn.recv(1) == b""  # old: kept for uvicorn's 60 s handshake timeout
        assert time.monotonic() - started < 4
    finally:
        for conn in held:
            conn.close()
    ca = str(tls_files.cert.with_name("ca.pem"))
    answer = requests.post(
        tls_serve.url + ALLOW_PATH, json={"input": ALLOWED}, verify=ca, timeout=10
    )
    assert answer.status_code == 200 and answer.json()["result"] is True


def test_serve_offers_no_cbc_suite(tls_serve, tls_files):
    ca = str(tls_files.cert.with_name("ca.pem"))
    assert _handshake(tls_serve.server.port, ca) == "TLSv1.3"
    assert _handshake(tls_serve.server.port, ca, "ECDHE+AESGCM") == "TLSv1.2"
    with pytest.raises(ssl.SSLError):
        _handshake(tls_serve.server.port, ca, CBC_ONLY)  # old: accepted


# The batch splitter, on its own.

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet='ab"\\[]{},: \n'),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=20,
)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.dictionaries(st.text(max_size=3), json_values), max_size=5), st.integers(1, 6))
def test_split_events_gives_back_each_event_and_cuts_only_below_the_depth(events, levels):
    text = json.dumps(events, indent=1 if levels % 2 else None)
    split = split_events(text)
    assert [json.loads(e.text) for e in split] == events
    for raw, event in zip(split, events, strict=True):
        cut = json.loads(cut_deeper_than(raw, levels))
        if raw.depth <= levels:
            assert cut == event
        else:
            assert "[cut: nested too deep" in json.dumps(cut)
        assert _depth(cut) <= levels


def _depth(value: object) -> int:
    deepest, todo = 0, [(value, 1)]
    while todo:
        item, level = todo.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level)
            todo += [(v, level + 1) for v in (item.values() if isinstance(item, dict) else item)]
    return deepest


def test_an_event_that_cannot_fit_is_recorded_as_refused(monkeypatch):
    monkeypatch.setattr(decision_logs, "_DETAILS_ROOM", 600)
    event = {"decision_id": "d-9", "requested_by": "r" * 5000, "timestamp": "t" * 5000}
    name, details = decision_logs.entry_for(event, {"source": "opa-fleet"})
    assert name == decision_logs.REFUSED_EVENT
    assert details["decision_id"] == "d-9" and "does not fit" in details["reason"]
    assert details["source"] == "opa-fleet" and len(details["sha256"]) == 64


def test_a_real_opa_keeps_logging_after_a_deeply_nested_input(tmp_path: Path):
    """The attack end to end: any client of a fleet OPA sends it an input 5,000 levels deep
    (OPA takes up to 10,000); the decisions after it must still reach the audit log."""
    registry = live_registry(tmp_path / "registry")
    granted_question = question(registry, IN_PERIOD)
    key = write_key(tmp_path / "signing.pem")
    bundle = tmp_path / "cctv.tar.gz"
    assert build(registry, bundle, "--signing-key", str(key))[0] == 0
    ingest = IngestProcess(tmp_path / "audit" / "audit.jsonl", TOKEN).start()
    config = write_config(tmp_path / "opa.json", decision_log_config(ingest.url, TOKEN))
    public_key = str(key.with_suffix(".pub"))
    opa = OpaServer(
        ["--bundle", str(bundle), "--verification-key", public_key, "--config-file", str(config)]
    ).start()
    try:
        deep = f'{{"input": {{"principal": {nested(5000)}}}}}'
        answer = requests.post(f"{opa.url}/v1/data/{FLEET}", data=deep, timeout=30)
        assert answer.status_code == 200, answer.text
        assert opa.decide(FLEET, granted_question)["allow"] is True
        wait_for(lambda: len(audit_entries(ingest.audit_log, EVENT)) == 2, 30, "both decisions")
    finally:
        opa.stop()
        ingest.stop()
    deep_entry, granted = audit_entries(ingest.audit_log, EVENT)
    assert "[cut: nested too deep" in json.dumps(deep_entry["input"])
    assert granted["input"] == granted_question and granted["result"]["allow"] is True
    assert verify_log(ingest.audit_log).ok
