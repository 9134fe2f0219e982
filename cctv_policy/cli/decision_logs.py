"""`cctv-policy decision-log-ingest`: where OPA servers send their decision logs."""

from __future__ import annotations

import os
from pathlib import Path

import click

from cctv_policy.audit.log import AuditError, AuditLog
from cctv_policy.bundle.decision_logs import LOGS_PATH, MAX_ENTRY_BYTES
from cctv_policy.bundle.ingest_app import IngestApp, IngestConfig
from cctv_policy.cli.common import audit_log_option, tls_files
from cctv_policy.cli.errors import fail
from cctv_policy.httpserve.guards import HostRule
from cctv_policy.httpserve.limits import Limits
from cctv_policy.httpserve.runner import HttpServer
from cctv_policy.httpserve.secrets import SecretFileError, read_tokens
from cctv_policy.httpserve.tls import TlsFiles, is_loopback

OLD_TOKEN_ENV = "CCTV_DECISION_LOG_TOKEN"
WILDCARDS = ("0.0.0.0", "::", "[::]")


def _config(
    host: str, token_file: Path, tls: TlsFiles | None, names: tuple[str, ...], audit_log: Path
) -> IngestConfig:
    if not is_loopback(host) and tls is None:
        fail(
            f"refusing to listen on {host} without TLS: the tokens and decisions would cross "
            "the network in clear; give --tls-cert and --tls-key, or listen on 127.0.0.1"
        )
    if host in WILDCARDS and not names:
        fail(
            f"listening on {host} needs --allowed-host NAME: the host name in the OPA servers' "
            "services url (a request under any other Host is refused)"
        )
    try:
        tokens = read_tokens(token_file)
    except SecretFileError as exc:
        fail(str(exc))
    return IngestConfig(
        audit=AuditLog(audit_log, max_line=MAX_ENTRY_BYTES),
        tokens=tokens,
        hosts=HostRule.for_binding(host, names),
        limits=Limits(max_body=8 << 20),
    )


@click.command("decision-log-ingest")
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on. Anything but loopback needs --tls-cert and --tls-key.",
)
@click.option("--port", default=8282, show_default=True, type=click.IntRange(0, 65535))
@audit_log_option("The hash-chained audit log the decisions are appended to.")
@click.option(
    "--token-file",
    required=True,
    type=click.Path(path_type=Path),
    help="Bearer tokens the OPA servers send (one a line; mode 600).",
)
@click.option("--tls-cert", type=click.Path(path_type=Path), default=None, help="PEM chain.")
@click.option("--tls-key", type=click.Path(path_type=Path), default=None, help="Its key (600).")
@click.option(
    "--allowed-host",
    "allow_hosts",
    multiple=True,
    metavar="NAME",
    help="A Host name the OPA servers use (repeatable); the listening address always counts.",
)
@click.option(
    "--max-connections",
    default=256,
    show_default=True,
    type=click.IntRange(1, 10_000),
    help="Open connections beyond this are refused.",
)
def decision_log_ingest(
    host: str,
    port: int,
    audit_log: Path,
    token_file: Path,
    tls_cert: Path | None,
    tls_key: Path | None,
    allow_hosts: tuple[str, ...],
    max_connections: int,
) -> None:
    """Receive OPA's decision logs and append them to the audit log.

    Point OPA's `decision_logs.service` at this server: OPA POSTs gzip'd batches of
    decisions to /logs with `Authorization: Bearer <token>`; each decision becomes one
    `opa_decision` line of the hash-chained audit log marked `source: opa-fleet` (the
    fleet's word, not the enforcer's), and a batch is acknowledged only once it is written and
    synced (OPA retries otherwise). An event too large for one line (64 KiB) loses its input to
    a marker with its digest, or is recorded as `opa_decision_refused`.

    \b
    Example (OPA's config.yaml):
      services:
        audit:
          url: https://audit.campus.internal:8282
          credentials: {bearer: {token: "<a line of the token file>"}}
      decision_logs: {service: audit, reporting: {min_delay_seconds: 5, max_delay_seconds: 10}}
    """
    if os.environ.get(OLD_TOKEN_ENV):
        fail(f"{OLD_TOKEN_ENV} is no longer read: put the token in a file given to --token-file")
    tls = tls_files(tls_cert, tls_key)
    config = _config(host, token_file, tls, allow_hosts, audit_log)
    limits = config.limits.model_copy(update={"max_connections": max_connections})
    try:
        server = HttpServer(IngestApp(config), host, port, limits, tls)
    except (OSError, OverflowError) as exc:
        fail(f"cannot listen on {host}:{port}: {exc}")
    try:
        config.audit.append(
            "decision_log_ingest_started",
            url=server.url,
            tls=tls is not None,
            tokens=len(config.tokens),
        )
    except AuditError as exc:
        fail(str(exc))
    click.echo(f"receiving decision logs on {server.url}{LOGS_PATH} into {audit_log}", err=True)
    server.serve_forever()
