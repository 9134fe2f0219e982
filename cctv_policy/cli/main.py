"""The `cctv-policy` command group."""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

import click

from cctv_policy import __version__
from cctv_policy.cli import help_text
from cctv_policy.cli.errors import EXIT_TOOL_ERROR
from cctv_policy.output import printable

# Each command's module is imported only when that command runs (or --help lists them), so
# `apply` does not pay for the HTTP server or the signing library.
COMMANDS = {
    "check": "cctv_policy.cli.check:check",
    "decide": "cctv_policy.cli.decide:decide_command",
    "test": "cctv_policy.cli.test:test",
    "plan": "cctv_policy.cli.enforce:plan",
    "apply": "cctv_policy.cli.enforce:apply",
    "audit": "cctv_policy.cli.audit:audit",
    "demo": "cctv_policy.cli.demo:demo",
    "authorize": "cctv_policy.cli.authz:authorize",
    "serve": "cctv_policy.cli.authz:serve",
    "changes": "cctv_policy.cli.changes:changes",
    "notice": "cctv_policy.cli.notice:notice",
    "notify": "cctv_policy.cli.notify:notify",
    "extract": "cctv_policy.cli.extract:extract_group",
    "reports": "cctv_policy.cli.usage_reports:reports",
    "report": "cctv_policy.cli.inspection:report",
    "rules": "cctv_policy.cli.rules:rules",
    "bundle": "cctv_policy.cli.bundle:bundle",
    "decision-log-ingest": "cctv_policy.cli.decision_logs:decision_log_ingest",
    "schema": "cctv_policy.cli.schema:schema",
    "new": "cctv_policy.cli.new:new",
}


class _Cli(click.Group):
    """The command group; an unexpected exception becomes a named error and exit 2, never a
    traceback (CCTV_POLICY_DEBUG=1 shows it, for a bug report)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module, _, attribute = COMMANDS[name].partition(":")
        command = getattr(importlib.import_module(module), attribute)
        assert isinstance(command, click.Command)
        help_text.attach(name, command)
        return command

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (
            click.exceptions.Exit,
            click.ClickException,
            click.Abort,
            SystemExit,
            KeyboardInterrupt,
        ):
            raise
        except Exception as exc:
            if os.environ.get("CCTV_POLICY_DEBUG"):
                raise
            click.echo(
                f"cctv-policy: internal error ({type(exc).__name__}: "
                f"{printable(exc)[:300]}). Nothing more was done. Please report it with "
                "the command you ran; CCTV_POLICY_DEBUG=1 shows the details.",
                err=True,
            )
            sys.exit(EXIT_TOOL_ERROR)


@click.group(
    cls=_Cli, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100}
)
@click.version_option(__version__, prog_name="cctv-policy")
def cli() -> None:
    """Policy-as-code governance for a school's CCTV footage.

    Requests for footage are YAML files in a git registry; Rego policies (run by the real OPA
    engine) decide; this tool checks the registry and enforces the decisions on storage.

    \b
    Start here:
      cctv-policy check                 check ./registry against the rule book
      cctv-policy decide REQ --approve  the security office decides a request (pinned)
      cctv-policy test                  run the Rego unit tests of the policies
      cctv-policy plan                  what enforcement would do on storage (dry run)
      cctv-policy apply --yes           delete expired footage, hold, grant, revoke
      cctv-policy audit verify          check the audit log's hash chain
      cctv-policy authorize ...         may this person see this camera at that time?
      cctv-policy serve                 the same over HTTP, shaped like OPA's Data API
      cctv-policy COMMAND --help        what a command does, with examples
    """
