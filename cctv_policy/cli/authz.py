"""`cctv-policy authorize` and `cctv-policy serve`: the decision API."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from cctv_policy.audit.log import AuditError, AuditLog
from cctv_policy.authz.decide import Authorizer, InvalidQuestion, question
from cctv_policy.cli.common import (
    Timestamp,
    audit_log_option,
    engine_options,
    now_option,
    registry_option,
    resolve_now,
)
from cctv_policy.cli.errors import EXIT_OK, EXIT_VIOLATIONS, fail, refusing
from cctv_policy.enforce.clock import ClockDisagrees, check_not_rewound
from cctv_policy.engine import EngineChoice
from cctv_policy.evaluation import Evaluation
from cctv_policy.gate import RegistryNotEnforceable


def _authorizer(
    registry_dir: Path, now: datetime, audit: AuditLog, engine: EngineChoice, command: str
) -> Authorizer:
    def log_refusal(error: Exception) -> None:
        if isinstance(error, RegistryNotEnforceable):
            audit.record_refusal("refused", command=command, reason=str(error))

    with refusing("No decision: access is denied.", log_refusal):
        evaluation = Evaluation.open(registry_dir, engine, now)
        assert evaluation.policies is not None
        return Authorizer(evaluation, evaluation.policies, audit)


AUDIT_HELP = "Every decision is logged here; if it cannot be, there is none."


@click.command()
@registry_option
@now_option
@click.option("--principal", required=True, metavar="PERSON", help="Who wants to see footage.")
@click.option("--camera", required=True, metavar="ID")
@click.option(
    "--at",
    "at",
    type=Timestamp(),
    required=True,
    help="The moment of footage they want to see (RFC 3339 with offset).",
)
@audit_log_option(AUDIT_HELP)
@engine_options
def authorize(
    registry_dir: Path,
    now: datetime | None,
    principal: str,
    camera: str,
    at: datetime,
    audit_log: Path,
    engine: EngineChoice,
) -> None:
    """Answer: may PRINCIPAL see CAMERA's footage of AT, now? Exit 0 allow, 1 deny.

    Allowed only for a recipient of a validly approved request, for its (possibly narrowed)
    cameras and footage window, during its use period. The answer names the request, or says
    why not. With --now the question is a replay of another moment, and the audit log marks
    it so.

    \b
    Exit codes:
      0  allow
      1  deny
      2  no decision (the tool could not run): access is denied
      3  the registry has input errors, or the question is malformed: access is denied

    \b
    Example:
      cctv-policy authorize --principal t.wang --camera CAM-LIB-01 \\
          --at 2026-11-18T14:30:00+08:00 --now 2026-11-22T10:00:00+08:00
    """
    audit = AuditLog(audit_log)

    def log_refusal(error: Exception) -> None:
        if isinstance(error, InvalidQuestion | ClockDisagrees | AuditError):
            audit.record_refusal("refused", command="authorize", reason=str(error))

    with refusing("No decision: access is denied.", log_refusal):
        q = question(principal, camera, at, resolve_now(now))
        if now is None:
            check_not_rewound(
                resolve_now(None), audit.last_time(), "the newest entry", "authorization"
            )
    authorizer = _authorizer(registry_dir, resolve_now(now), audit, engine, "authorize")
    with refusing("No decision: access is denied."):
        decision = authorizer.decide(q, replay=now is not None)
    verdict = "ALLOW" if decision.allow else "DENY"
    click.echo(f"{verdict}: {decision.reason}")
    raise SystemExit(EXIT_OK if decision.allow else EXIT_VIOLATIONS)


@click.command()
@registry_option
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8181, show_default=True, type=int)
@audit_log_option(AUDIT_HELP)
@engine_options
def serve(registry_dir: Path, host: str, port: int, audit_log: Path, engine: EngineChoice) -> None:
    """Serve authorization decisions over HTTP, in the shape of OPA's Data API.

    POST /v1/data/cctv/authz/allow (or .../decision) with {"input": {"principal",
    "camera", "at"}}. The server's clock decides "now": a caller's input.now is ignored (and
    logged as ignored). The registry is loaded at start; restart to reload it.
    """
    from cctv_policy.authz.server import make_server

    audit = AuditLog(audit_log)
    try:
        check_not_rewound(
            resolve_now(None), audit.last_time(), "the newest entry", "serving decisions"
        )
    except (ClockDisagrees, AuditError) as exc:
        audit.record_refusal("refused", command="serve", reason=str(exc))
        fail(str(exc))
    authorizer = _authorizer(registry_dir, resolve_now(None), audit, engine, "serve")
    try:
        server = make_server(authorizer, host, port)
    except (OSError, OverflowError) as exc:
        fail(f"cannot listen on {host}:{port}: {exc}")
    click.echo(
        f"serving decisions on http://{host}:{server.server_address[1]} "
        f"(policies {authorizer.policy_version}); Ctrl-C to stop",
        err=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
