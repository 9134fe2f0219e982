"""TLS and bearer tokens on `serve`, and the refusal to listen beyond loopback without both.

The http.server-based serve had neither: any process on the network could ask for decisions, in
clear text, on any address it was told to bind."""

from __future__ import annotations

import socket
import ssl
from pathlib import Path

import pytest
import requests
import trustme
from click.testing import CliRunner

from cctv_policy.authz.server import TlsFiles
from cctv_policy.cli.main import cli
from testing.serving import ALLOW_PATH, ALLOWED, RawConnection, request_bytes, serving
from tests.conftest import DEMO_REGISTRY

TOKEN = "6f1d0c2a9b8e47d3a5c4b3e2f1a09876"


@pytest.fixture(scope="module")
def authority() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def tls_files(authority, tmp_path_factory) -> TlsFiles:
    folder = tmp_path_factory.mktemp("tls")
    cert = authority.issue_cert("127.0.0.1", "localhost")
    cert.cert_chain_pems[0].write_to_path(folder / "cert.pem")
    for pem in cert.cert_chain_pems[1:]:
        pem.write_to_path(folder / "cert.pem", append=True)
    cert.private_key_pem.write_to_path(folder / "key.pem")
    (folder / "key.pem").chmod(0o600)  # a key others may read is refused
    return TlsFiles(folder / "cert.pem", folder / "key.pem")


@pytest.fixture(scope="module")
def service(tls_files, tmp_path_factory):
    with serving(
        tmp_path_factory.mktemp("tls-serve") / "audit.jsonl",
        tls=tls_files,
        tokens=(TOKEN.encode(), b"a-second-token-for-the-other-vms"),
    ) as running:
        yield running


@pytest.fixture(scope="module")
def ca_file(authority, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    authority.cert_pem.write_to_path(path)
    return path


def ask(service, ca_file: Path, headers: dict[str, str]) -> requests.Response:
    return requests.post(
        service.url + ALLOW_PATH,
        json={"input": ALLOWED},
        headers=headers,
        verify=str(ca_file),
        timeout=10,
    )


def test_https_with_a_token_is_answered(service, ca_file):
    assert service.url.startswith("https://")
    answer = ask(service, ca_file, {"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 200 and answer.json()["result"] is True
    other = ask(service, ca_file, {"Authorization": "bearer a-second-token-for-the-other-vms"})
    assert other.json()["result"] is True


@pytest.mark.parametrize(
    "header",
    [
        None,
        "Bearer",
        f"Bearer {TOKEN[:-1]}",
        f"Bearer {TOKEN}x",
        f"Basic {TOKEN}",
        TOKEN,
        f"Bearer {TOKEN} {TOKEN}",
    ],
)
def test_a_missing_or_wrong_token_is_a_json_401(service, ca_file, header):
    answer = ask(service, ca_file, {"Authorization": header} if header else {})
    assert answer.status_code == 401 and answer.json()["code"] == "unauthorized"
    assert answer.headers["www-authenticate"].startswith("Bearer")


def test_the_openapi_document_needs_the_token_but_probes_do_not(service, ca_file):
    url = service.url
    assert requests.get(url + "/openapi.json", verify=str(ca_file), timeout=10).status_code == 401
    for path in ("/health", "/health/live", "/health/ready"):
        assert requests.get(url + path, verify=str(ca_file), timeout=10).status_code == 200


def test_plain_http_on_the_tls_port_gets_nothing(service):
    conn = RawConnection(service.server.port, timeout=5)
    conn.send(request_bytes("GET", "/health"))
    with pytest.raises((ConnectionError, ConnectionResetError, TimeoutError)):
        status, _, _ = conn.response()
        assert status != 200


def test_an_unauthenticated_body_is_not_read(service, ca_file):
    context = ssl.create_default_context(cafile=str(ca_file))
    with (
        socket.create_connection(("127.0.0.1", service.server.port), timeout=5) as raw,
        context.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
    ):
        tls.sendall(request_bytes("POST", ALLOW_PATH, b"{}", Content_Length="60000"))
        reply = tls.recv(65536)
        assert reply.startswith(b"HTTP/1.1 401") and b"connection: close" in reply.lower()


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.10", "::"])
def test_binding_beyond_loopback_needs_tls_and_tokens(host, tmp_path: Path, tls_files):
    tokens = tmp_path / "tokens"
    tokens.write_text(f"# the VMS\n{TOKEN}\n")
    tokens.chmod(0o600)
    for extra in (
        [],
        ["--token-file", str(tokens)],
        ["--tls-cert", str(tls_files.cert), "--tls-key", str(tls_files.key)],
    ):
        result = CliRunner().invoke(
            cli,
            [
                "serve",
                "--registry",
                str(DEMO_REGISTRY),
                "--host",
                host,
                "--port",
                "0",
                "--audit-log",
                str(tmp_path / "audit.jsonl"),
                *extra,
            ],
        )
        assert result.exit_code == 2 and "refusing to listen" in result.output
        assert "Traceback" not in result.output


@pytest.mark.parametrize(
    "content,message",
    [
        ("", "holds no token"),
        ("short\n", "at least 16"),
        ("two words but long enough\n", "without spaces"),
    ],
)
def test_weak_token_files_are_refused(tmp_path: Path, content, message):
    tokens = tmp_path / "tokens"
    tokens.write_text(content)
    tokens.chmod(0o600)
    result = CliRunner().invoke(
        cli,
        [
            "serve",
            "--registry",
            str(DEMO_REGISTRY),
            "--port",
            "0",
            "--token-file",
            str(tokens),
            "--audit-log",
            str(tmp_path / "audit.jsonl"),
        ],
    )
    assert result.exit_code == 2 and message in result.output


def test_a_key_that_does_not_match_the_certificate_is_refused(tmp_path: Path, tls_files):
    other = trustme.CA().issue_cert("127.0.0.1")
    other.private_key_pem.write_to_path(tmp_path / "other-key.pem")
    (tmp_path / "other-key.pem").chmod(0o600)
    result = CliRunner().invoke(
        cli,
        [
            "serve",
            "--registry",
            str(DEMO_REGISTRY),
            "--port",
            "0",
            "--tls-cert",
            str(tls_files.cert),
            "--tls-key",
            str(tmp_path / "other-key.pem"),
            "--audit-log",
            str(tmp_path / "audit.jsonl"),
        ],
    )
    assert result.exit_code == 2 and "cannot use the TLS certificate" in result.output
