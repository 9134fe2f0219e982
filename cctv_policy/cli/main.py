"""The `cctv-policy` command group."""

from __future__ import annotations

import os
import sys
from typing import Any

import click

from cctv_policy import __version__
from cctv_policy.cli.audit import audit
from cctv_policy.cli.authz import authorize, serve
from cctv_policy.cli.bundle import bundle
from cctv_policy.cli.changes import changes
from cctv_policy.cli.check import check
from cctv_policy.cli.decide import decide_command
from cctv_policy.cli.decision_logs import decision_log_ingest
from cctv_policy.cli.demo import demo
from cctv_policy.cli.enforce import apply, plan
from cctv_policy.cli.errors import EXIT_TOOL_ERROR
from cctv_policy.cli.extract import extract_group
from cctv_policy.cli.inspection import report
from cctv_policy.cli.notice import notice
from cctv_policy.cli.test import test
from cctv_policy.cli.usage_reports import reports
from cctv_policy.output import printable


class _Cli(click.Group):
    """The command group; an unexpected exception becomes a named error and exit 2, never a
    traceback (CCTV_POLICY_DEBUG=1 shows it, for a bug report)."""

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
      cctv-policy bundle --out F        the rule book and registry as a signed OPA bundle
      cctv-policy COMMAND --help        what a command does, with examples
    """


cli.add_command(check)
cli.add_command(decide_command)
cli.add_command(test)
cli.add_command(plan)
cli.add_command(apply)
cli.add_command(audit)
cli.add_command(demo)
cli.add_command(authorize)
cli.add_command(serve)
cli.add_command(bundle)
cli.add_command(decision_log_ingest)
cli.add_command(changes)
cli.add_command(notice)
cli.add_command(extract_group, name="extract")
cli.add_command(reports)
cli.add_command(report)
