"""`cctv-policy authorize` and `cctv-policy serve`: the decision API."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from cctv_policy.audit.log import AuditError, AuditLog
from cctv_policy.authz.decide import Authorizer, InvalidQuestion, question
from cctv_policy.cli.common import (
    EXIT_BAD_INPUT,
    EXIT_OK,
    EXIT_VIOLATIONS,
    Timestamp,
    engine_options,
    fail,
    now_option,
    registry_option,
    resolve_now,
)
from cctv_policy.enforce.clock import ClockDisagrees, check_not_rewound
from cctv_policy.engine import EngineError, load_policies, make_engine
from cctv_policy.evaluation import Evaluation
from cctv_policy.gate import RegistryNotEnforceable
from cctv_policy.registry.loader import RegistryNotFound, load_registry


def _authorizer(registry_dir: Path, now: datetime, audit: AuditLog, engine: str,
                opa_url: str | None, opa_upload: bool, policy_dir: Path | None,
                command: str) -> Authorizer:
    try:
        registry = load_registry(registry_dir)
        policies = load_policies(policy_dir)
        evaluation = Evaluation(registry, make_engine(engine, policies, opa_url, opa_upload),
                                now, policies.version)
        return Authorizer(evaluation, policies, audit)
    except RegistryNotEnforceable as exc:
        audit.record_refusal("refused", command=command, reason=str(exc))
        fail(f"{exc}\nNo decision: access is denied.", EXIT_BAD_INPUT)
    except (RegistryNotFound, EngineError, FileNotFoundError) as exc:
        fail(f"{exc}\nNo decision: access is denied.")
    raise AssertionError("unreachable")



audit_log_option = click.option(
    "--audit-log", type=click.Path(path_type=Path), default=Path("audit/audit.jsonl"),
    show_default=True, help="Every decision is logged here; if it cannot be, there is none.")


@click.command()
@registry_option
@now_option
@click.option("--principal", required=True, metavar="PERSON", help="Who wants to see footage.")
@click.option("--camera", required=True, metavar="ID")
@click.option("--at", "at", type=Timestamp(), required=True,
              help="The moment of footage they want to see (RFC 3339 with offset).")
@audit_log_option
@engine_options
def authorize(registry_dir: Path, now: datetime | None, principal: str, camera: str,
              at: datetime, audit_log: Path, engine: str, opa_url: str | None,
              opa_upload: bool, policy_dir: Path | None) -> None:
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
    try:
        q = question(principal, camera, at, resolve_now(now))
        if now is None:
            check_not_rewound(resolve_now(None), audit.last_time(), "the newest entry",
                              "authorization")
    except InvalidQuestion as exc:
        audit.record_refusal("refused", command="authorize", reason=str(exc))
        fail(f"{exc}\nNo decision: access is denied.", EXIT_BAD_INPUT)
    except (ClockDisagrees, AuditError) as exc:
        audit.record_refusal("refused", command="authorize", reason=str(exc))
        fail(f"{exc}\nNo decision: access is denied.")
    authorizer = _authorizer(registry_dir, resolve_now(now), audit, engine, opa_url, opa_upload,
                             policy_dir, "authorize")
    try:
        decision = authorizer.decide(q, replay=now is not None)
    except (EngineError, AuditError) as exc:
        fail(f"{exc}\nNo decision: access is denied.")
    verdict = "ALLOW" if decision.allow else "DENY"
    click.echo(f"{verdict}: {decision.reason}")
    raise SystemExit(EXIT_OK if decision.allow else EXIT_VIOLATIONS)


@click.command()
@registry_option
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8181, show_default=True, type=int)
@audit_log_option
@engine_options
def serve(registry_dir: Path, host: str, port: int, audit_log: Path, engine: str,
          opa_url: str | None, opa_upload: bool, policy_dir: Path | None) -> None:
    """Serve authorization decisions over HTTP, in the shape of OPA's Data API.

    POST /v1/data/cctv/authz/allow (or .../decision) with {"input": {"principal",
    "camera", "at"}}. The server's clock decides "now": a caller's input.now is ignored (and
    logged as ignored). The registry is loaded at start; restart to reload it.
    """
    from cctv_policy.authz.server import make_server

    audit = AuditLog(audit_log)
    try:
        check_not_rewound(resolve_now(None), audit.last_time(), "the newest entry",
                          "serving decisions")
    except (ClockDisagrees, AuditError) as exc:
        audit.record_refusal("refused", command="serve", reason=str(exc))
        fail(str(exc))
    authorizer = _authorizer(registry_dir, resolve_now(None), audit, engine, opa_url,
                             opa_upload, policy_dir, "serve")
    try:
        server = make_server(authorizer, host, port)
    except (OSError, OverflowError) as exc:
        fail(f"cannot listen on {host}:{port}: {exc}")
    click.echo(f"serving decisions on http://{host}:{server.server_address[1]} "
               f"(policies {authorizer.policy_version}); Ctrl-C to stop", err=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
