"""`cctv-policy authorize` and `cctv-policy serve`: the decision API."""

from __future__ import annotations

import contextlib
from datetime import datetime
from pathlib import Path

import click
from pydantic import ValidationError

from cctv_policy.audit.log import AuditError, AuditLog
from cctv_policy.authz.decide import Authorizer, InvalidQuestion, question
from cctv_policy.authz.forward_auth import ForwardAuthSettings
from cctv_policy.authz.http import Limits
from cctv_policy.authz.server import is_loopback
from cctv_policy.authz.service import DecisionService, ServeOptions
from cctv_policy.cli.common import (
    Timestamp,
    audit_log_option,
    engine_options,
    now_option,
    registry_option,
    resolve_now,
    tls_files,
)
from cctv_policy.cli.errors import EXIT_OK, EXIT_VIOLATIONS, fail, refusing
from cctv_policy.enforce.clock import ClockDisagrees, check_not_rewound
from cctv_policy.engine import EngineChoice
from cctv_policy.httpserve.guards import host_name
from cctv_policy.httpserve.secrets import SecretFileError, read_tokens
from cctv_policy.rulebook.evaluation import Evaluation
from cctv_policy.rulebook.gate import RegistryNotEnforceable


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
      1  deny (also: an approval not provably written by the person it names)
      2  no decision (the tool could not run, or provenance cannot be read): access is denied
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


def _tokens(token_file: Path | None, audit: AuditLog) -> tuple[bytes, ...]:
    """Bearer tokens from a private file; a refusal is audit-logged."""
    if token_file is None:
        return ()
    try:
        return read_tokens(token_file)
    except SecretFileError as exc:
        audit.record_refusal("refused", command="serve", reason=str(exc))
        fail(str(exc))


def _forward_auth(proxies: tuple[str, ...], user_header: str) -> ForwardAuthSettings:
    try:
        return ForwardAuthSettings(proxies=proxies, user_header=user_header)
    except ValidationError as exc:
        problems = "; ".join(str(error["msg"]) for error in exc.errors())
        fail(f"--forward-auth-proxy / --forward-auth-user-header: {problems}")


@click.command()
@registry_option
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on. Anything but loopback needs --tls-cert, --tls-key "
    "and --token-file.",
)
@click.option("--port", default=8181, show_default=True, type=click.IntRange(0, 65535))
@audit_log_option(AUDIT_HELP)
@engine_options
@click.option(
    "--reload-interval",
    default=5.0,
    show_default=True,
    type=click.FloatRange(0.1, 3600),
    metavar="SECONDS",
    help="How often to look for a changed registry (git HEAD, file changes).",
)
@click.option(
    "--tls-cert",
    type=click.Path(path_type=Path),
    default=None,
    help="PEM certificate (chain) to serve HTTPS with.",
)
@click.option(
    "--tls-key",
    type=click.Path(path_type=Path),
    default=None,
    help="PEM private key of --tls-cert.",
)
@click.option(
    "--token-file",
    type=click.Path(path_type=Path),
    default=None,
    help="Bearer tokens a client must send (one a line); /health* needs none.",
)
@click.option(
    "--max-connections",
    default=256,
    show_default=True,
    type=click.IntRange(1, 10_000),
    help="Open connections beyond this get a 503.",
)
@click.option(
    "--allowed-host",
    "allowed_hosts",
    multiple=True,
    metavar="NAME",
    help="A name clients reach this server by (the Host header), besides its addresses "
    "and localhost; repeatable. Other names are refused (421): DNS rebinding.",
)
@click.option(
    "--forward-auth-proxy",
    "forward_auth_proxies",
    multiple=True,
    metavar="ADDRESS",
    help="A reverse proxy (address or network) that may ask GET /v1/forward-auth and name "
    "the viewer; repeatable. Any other peer gets 403 there.",
)
@click.option(
    "--forward-auth-user-header",
    default="X-Remote-User",
    show_default=True,
    metavar="NAME",
    help="The header in which a proxy names the viewer (a person id).",
)
def serve(
    registry_dir: Path,
    host: str,
    port: int,
    audit_log: Path,
    engine: EngineChoice,
    reload_interval: float,
    tls_cert: Path | None,
    tls_key: Path | None,
    token_file: Path | None,
    max_connections: int,
    allowed_hosts: tuple[str, ...],
    forward_auth_proxies: tuple[str, ...],
    forward_auth_user_header: str,
) -> None:
    """Serve authorization decisions over HTTP: OPA's v1 Data API for data.cctv.authz.

    POST /v1/data/cctv/authz/allow (or /v1/data/cctv/authz, .../decision) with {"input":
    {"principal", "camera", "at"}} as Content-Type: application/json, or GET with
    ?input=<JSON>. The server's clock decides "now": a caller's input.now is ignored (and logged
    as ignored), and while the clock reads earlier than a time already reached (it was set
    back) every decision is refused (503). Every answer is audit-logged before it is sent. The
    registry is watched and reloaded when it changes and passes the check; a broken one is
    refused and the last good one keeps answering, less any approval whose request or decision
    file changed since. A Host that is not this server's (DNS rebinding) gets 421, a browser
    page of another origin 403. /openapi.json describes everything served.

    GET /v1/forward-auth is the viewing point for nginx auth_request, Traefik ForwardAuth and
    Caddy forward_auth (README, "The viewing point"): only --forward-auth-proxy peers may ask.

    \b
    A VMS on another host:
      cctv-policy serve --host 0.0.0.0 --tls-cert cert.pem --tls-key key.pem \\
          --token-file tokens.txt --allowed-host cctv-policy.school.lan
    """
    audit = AuditLog(audit_log)
    tls = tls_files(tls_cert, tls_key)
    tokens = _tokens(token_file, audit)
    if not is_loopback(host) and (tls is None or not tokens):
        fail(
            f"refusing to listen on {host} without TLS and tokens: another host could read "
            "and ask for decisions; give --tls-cert, --tls-key and --token-file, or listen on "
            "127.0.0.1"
        )
    bad_names = [name for name in allowed_hosts if host_name(name) is None]
    if bad_names:
        fail(f"--allowed-host {bad_names[0]!r} is not a host name")

    forward_auth = _forward_auth(forward_auth_proxies, forward_auth_user_header)

    def log_clock_refusal(error: Exception) -> None:
        audit.record_refusal("refused", command="serve", reason=str(error))

    with refusing("No decision: access is denied.", log_clock_refusal):
        check_not_rewound(
            resolve_now(None), audit.last_time(), "the newest entry", "serving decisions"
        )
    options = ServeOptions(
        registry_dir=registry_dir,
        audit_log=audit_log,
        host=host,
        port=port,
        reload_interval=reload_interval,
        tls=tls,
        tokens=tokens,
        allowed_hosts=allowed_hosts,
        limits=Limits(max_connections=max_connections),
        engine=engine,
        forward_auth=forward_auth,
    )

    def log_refusal(error: Exception) -> None:
        if isinstance(error, RegistryNotEnforceable):
            audit.record_refusal("refused", command="serve", reason=str(error))

    with refusing("No decision: access is denied.", log_refusal):
        try:
            service = DecisionService(options)
        except OverflowError as exc:
            fail(f"cannot listen on {host}:{port}: {exc}")
    click.echo(
        f"serving decisions on {service.url} (policies {service.loader.policies.version}, "
        f"registry {service.state.snapshot.revision.label()}); Ctrl-C to stop",
        err=True,
    )
    with contextlib.suppress(KeyboardInterrupt):
        service.serve_forever()
