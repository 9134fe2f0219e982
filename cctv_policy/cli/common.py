"""Options and conventions shared by commands."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from cctv_policy.registry.types import parse_rfc3339

# Exit codes (README "Exit codes").
EXIT_OK = 0
EXIT_VIOLATIONS = 1
EXIT_TOOL_ERROR = 2
EXIT_BAD_INPUT = 3
EXIT_UNPINNED = 4  # extract verify: intact, but only against the key inside the package


class Timestamp(click.ParamType):
    name = "RFC3339"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> datetime:
        if isinstance(value, datetime):
            return value
        try:
            return parse_rfc3339(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


def now_option(f: Any) -> Any:
    return click.option(
        "--now", type=Timestamp(), default=None,
        help="Fix the clock (RFC 3339 with offset, e.g. 2026-11-25T09:00:00+08:00). "
             "Policies never read the clock; this makes every decision reproducible. "
             "Default: the current time.",
    )(f)


def registry_option(f: Any) -> Any:
    return click.option(
        "--registry", "registry_dir", type=click.Path(path_type=Path), default=Path("registry"),
        show_default=True, help="The registry directory (it holds config.yaml).",
    )(f)


def engine_options(f: Any) -> Any:
    f = click.option("--opa-upload/--no-opa-upload", default=False,
                     help="With --engine opa: upload our policies to the server first "
                          "(for a server not started on policies/).")(f)
    f = click.option("--opa-url", default=None, metavar="URL",
                     help="OPA server for --engine opa, e.g. http://127.0.0.1:8181.")(f)
    f = click.option("--engine", type=click.Choice(["embedded", "opa"]), default="embedded",
                     show_default=True,
                     help="embedded: the OPA Go library in-process. opa: an OPA server over "
                          "its REST Data API.")(f)
    f = click.option("--policies", "policy_dir", type=click.Path(path_type=Path), default=None,
                     help="Directory of Rego policies (default: the bundled policies/).")(f)
    return f


def resolve_now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC).replace(microsecond=0)


def fail(message: str, code: int = EXIT_TOOL_ERROR) -> None:
    click.echo(f"cctv-policy: {message}", err=True)
    raise SystemExit(code)
