"""Options shared by commands, each declared once, and the options objects they make."""

from __future__ import annotations

import functools
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import click

from cctv_policy.cli.errors import fail
from cctv_policy.engine import ENGINES, EngineChoice
from cctv_policy.httpserve.secrets import SecretFileError
from cctv_policy.httpserve.tls import TlsFiles
from cctv_policy.registry.types import parse_rfc3339

F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_AUDIT_LOG = Path("audit/audit.jsonl")


class Timestamp(click.ParamType):
    name = "RFC3339"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> datetime:
        if isinstance(value, datetime):
            return value
        try:
            return parse_rfc3339(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


def now_option(f: F) -> F:
    return click.option(
        "--now",
        type=Timestamp(),
        default=None,
        help="Fix the clock (RFC 3339 with offset, e.g. 2026-11-25T09:00:00+08:00). "
        "Policies never read the clock; this makes every decision reproducible. "
        "Default: the current time.",
    )(f)


def lang_option(f: F) -> F:
    return click.option(
        "--lang",
        type=click.Choice(["zh", "en"]),
        default=None,
        help="Language of the messages: zh (中文) or en. Default: config.yaml `language:`, "
        "else CCTV_POLICY_LANG, else zh when LANG starts with zh, else en.",
    )(f)


def registry_option(f: F) -> F:
    return click.option(
        "--registry",
        "registry_dir",
        type=click.Path(path_type=Path),
        default=Path("registry"),
        show_default=True,
        help="The registry directory (it holds config.yaml).",
    )(f)


def audit_log_option(help: str = "The hash-chained audit log.") -> Callable[[F], F]:
    return click.option(
        "--audit-log",
        type=click.Path(path_type=Path),
        default=DEFAULT_AUDIT_LOG,
        show_default=True,
        help=help,
    )


def format_option(help: str | None = None) -> Callable[[F], F]:
    """--format text|json: a table for people, one JSON document for machines."""
    return click.option(
        "--format",
        "output_format",
        type=click.Choice(["text", "json"]),
        default="text",
        show_default=True,
        help=help,
    )


def storage_root_option(
    help: str = "Use DIR as the root of filesystem TARGET (demos, tests, a NAS mounted elsewhere).",
) -> Callable[[F], F]:
    return click.option(
        "--storage-root", "storage_roots", multiple=True, metavar="TARGET=DIR", help=help
    )


def engine_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """--engine, --opa-url, --opa-upload and --policies, handed to the command as one
    `engine: EngineChoice`."""

    @functools.wraps(f)
    def command(
        *args: Any,
        engine: str,
        opa_url: str | None,
        opa_upload: bool,
        policy_dir: Path | None,
        **kwargs: Any,
    ) -> Any:
        return f(*args, engine=EngineChoice(engine, opa_url, opa_upload, policy_dir), **kwargs)

    options = (
        click.option(
            "--policies",
            "policy_dir",
            type=click.Path(path_type=Path),
            default=None,
            help="Directory of Rego policies (default: the rule book shipped with "
            "the tool, policies/ in a checkout).",
        ),
        click.option(
            "--engine",
            type=click.Choice(sorted(ENGINES)),
            default="embedded",
            show_default=True,
            help="embedded: the OPA Go library in-process. opa: an OPA server over "
            "its REST Data API.",
        ),
        click.option(
            "--opa-url",
            default=None,
            metavar="URL",
            help="OPA server for --engine opa, e.g. http://127.0.0.1:8181.",
        ),
        click.option(
            "--opa-upload/--no-opa-upload",
            default=False,
            help="With --engine opa: upload our policies to the server first "
            "(for a server not started on policies/).",
        ),
    )
    for option in options:
        command = option(command)
    return command


@dataclass(frozen=True)
class StorageScope:
    """Which storage a run looks at (--target, --storage-root, --shard, --camera)."""

    target: str | None = None
    storage_roots: tuple[str, ...] = ()
    shard: str | None = None
    cameras: tuple[str, ...] = ()


def storage_scope_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """--target, --storage-root, --shard and --camera, handed over as `scope: StorageScope`."""

    @functools.wraps(f)
    def command(
        *args: Any,
        target: str | None,
        storage_roots: tuple[str, ...],
        shard: str | None,
        cameras: tuple[str, ...],
        **kwargs: Any,
    ) -> Any:
        return f(*args, scope=StorageScope(target, storage_roots, shard, cameras), **kwargs)

    options = (
        click.option(
            "--camera",
            "cameras",
            multiple=True,
            metavar="ID",
            help="Only these cameras (repeatable).",
        ),
        click.option(
            "--shard",
            default=None,
            metavar="I/N",
            help="Only cameras whose index modulo N is I: run N slices in parallel "
            "(a CI matrix, or one cron per storage node).",
        ),
        storage_root_option(),
        click.option("--target", default=None, metavar="ID", help="Only this storage target."),
    )
    for option in options:
        command = option(command)
    return command


def resolve_now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC).replace(microsecond=0)


def tls_files(cert: Path | None, key: Path | None) -> TlsFiles | None:
    """--tls-cert and --tls-key of a server command: both or neither, checked now (not when the
    first client connects)."""
    if cert is None and key is None:
        return None
    if cert is None or key is None:
        fail("TLS needs both --tls-cert and --tls-key")
    tls = TlsFiles(cert, key)
    try:
        tls.check()
    except SecretFileError as exc:
        fail(str(exc))
    except (OSError, ssl.SSLError) as exc:
        fail(f"cannot use the TLS certificate {cert} with the key {key}: {exc}")
    return tls
