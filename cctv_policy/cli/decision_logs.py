"""`cctv-policy decision-log-ingest`: where OPA servers send their decision logs."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from types import FrameType

import click

from cctv_policy.audit.log import AuditLog
from cctv_policy.bundle.decision_logs import LOGS_PATH, IngestConfig, make_server
from cctv_policy.cli.common import audit_log_option
from cctv_policy.cli.errors import fail

TOKEN_ENV = "CCTV_DECISION_LOG_TOKEN"


@click.command("decision-log-ingest")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8282, show_default=True, type=int)
@audit_log_option("The hash-chained audit log the decisions are appended to.")
def decision_log_ingest(host: str, port: int, audit_log: Path) -> None:
    """Receive OPA's decision logs and append them to the audit log.

    Point OPA's `decision_logs.service` at this server: OPA POSTs gzip'd batches of
    decisions to /logs; each decision becomes one `opa_decision` line of the hash-chained
    audit log (who asked, which camera, the answer, the bundle revision that decided), and a
    batch is acknowledged only once it is written and synced (OPA retries otherwise).

    Set CCTV_DECISION_LOG_TOKEN to require `Authorization: Bearer <token>` (OPA:
    services.<name>.credentials.bearer.token); without it any caller that reaches the port
    can write to the log, so keep it on a private address.

    \b
    Example (OPA's config.yaml):
      services: {audit: {url: "http://10.0.0.5:8282"}}
      decision_logs: {service: audit, reporting: {min_delay_seconds: 5, max_delay_seconds: 10}}
    """
    config = IngestConfig(AuditLog(audit_log), os.environ.get(TOKEN_ENV) or None)
    try:
        server = make_server(host, port, config)
    except (OSError, OverflowError) as exc:
        fail(f"cannot listen on {host}:{port}: {exc}")

    def stop(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    click.echo(
        f"receiving decision logs on http://{host}:{server.server_address[1]}{LOGS_PATH} "
        f"into {audit_log}" + ("" if config.token else f" (no {TOKEN_ENV}: unauthenticated)"),
        err=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
