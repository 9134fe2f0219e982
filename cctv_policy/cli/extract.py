"""`cctv-policy extract`: supervised extraction, its verification, and signing keys."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from cctv_policy.audit.log import AuditLog
from cctv_policy.cli.common import (
    audit_log_option,
    engine_options,
    registry_option,
    resolve_now,
    storage_root_option,
)
from cctv_policy.cli.errors import (
    EXIT_OK,
    EXIT_UNPINNED,
    EXIT_VIOLATIONS,
    fail,
    refusing,
)
from cctv_policy.enforce.clock import ClockDisagrees, check_not_rewound
from cctv_policy.engine import EngineChoice
from cctv_policy.extract.extraction import ExtractRefused, run_extraction
from cctv_policy.extract.manifest import (
    generate_key,
    load_private_key,
    load_public_key,
    verify_package,
)
from cctv_policy.extract.supervisor import load_supervisor_key
from cctv_policy.output import printable
from cctv_policy.rulebook.evaluation import Evaluation
from cctv_policy.targets import parse_root_overrides


class _RequestOrCommand(click.Group):
    """`extract REQ-ID ...` runs an extraction; `extract verify|keygen ...` are subcommands."""

    def resolve_command(self, ctx: click.Context, args: list[str]) -> Any:
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            return "request", self.commands["request"], args
        return super().resolve_command(ctx, args)


@click.group(cls=_RequestOrCommand)
def extract_group() -> None:
    """Supervised extraction of approved footage, with a signed chain-of-custody manifest.

    \b
      cctv-policy extract REQ-ID --supervisor ID --to TARGET-ID|DIR --signing-key KEY
          [--supervisor-key THEIR-KEY]
      cctv-policy extract verify DIR [--public-key KEY.pub]
      cctv-policy extract keygen --out KEY
    """


@extract_group.command("request", hidden=True)
@click.argument("request_id")
@registry_option
@click.option(
    "--supervisor",
    required=True,
    metavar="PERSON",
    help="Security-office member or supervisor present; not the applicant.",
)
@click.option(
    "--to",
    "destination",
    required=True,
    metavar="TARGET-ID|DIR",
    help="An approved storage target, or a directory inside one (R7).",
)
@click.option(
    "--signing-key",
    type=click.Path(path_type=Path, exists=True),
    default=lambda: os.environ.get("CCTV_SIGNING_KEY"),
    help="Ed25519 private key (PEM) that signs the manifest [env CCTV_SIGNING_KEY].",
)
@click.option(
    "--supervisor-key",
    type=click.Path(path_type=Path, exists=True),
    default=None,
    help="The supervisor's own Ed25519 private key (OpenSSH or PEM), one of their "
    "signing_keys in people.yaml: they countersign the manifest (required when config "
    "require_supervisor_signature is true).",
)
@click.option(
    "--watermark",
    is_flag=True,
    help="Burn the request id, recipients and extraction time into every frame (always "
    "done when the decision's conditions.watermark is true).",
)
@storage_root_option("Read footage of filesystem TARGET from DIR (never a destination).")
@audit_log_option()
@engine_options
def run_extract(
    request_id: str,
    registry_dir: Path,
    supervisor: str,
    destination: str,
    signing_key: Path | None,
    supervisor_key: Path | None,
    watermark: bool,
    storage_roots: tuple[str, ...],
    audit_log: Path,
    engine: EngineChoice,
) -> None:
    """Cut exactly REQUEST_ID's approved cameras x window to an approved export target.

    One MP4 per camera holding the approved window only (ffmpeg; files ffmpeg cannot read are
    copied whole and the manifest says so). Runs on this machine's clock: now must be inside
    the approved use period (there is no --now). Refused, with the reason and nothing copied,
    unless the approval is valid and provably written by its officer (provenance; exit 1, or
    2 outside a git checkout); exit 2 when ffmpeg/ffprobe are not installed.
    """
    audit = AuditLog(audit_log)
    if not signing_key:
        fail(
            "--signing-key (or CCTV_SIGNING_KEY) is required; make one with "
            "`cctv-policy extract keygen --out KEY`"
        )

    def log_refusal(error: Exception) -> str | None:
        if isinstance(error, ClockDisagrees):
            audit.record_refusal(
                "extract_refused", request=request_id, supervisor=supervisor, reason=str(error)
            )
        return " (refused)" if isinstance(error, ExtractRefused) else None

    with refusing("Nothing was copied.", log_refusal):
        check_not_rewound(resolve_now(None), audit.last_time(), "the newest entry", "extraction")
        try:
            key = load_private_key(Path(signing_key))
        except (ValueError, OSError) as exc:
            fail(f"--signing-key {signing_key}: {exc}\nNothing was copied.")
        countersign = load_supervisor_key(supervisor_key) if supervisor_key else None
        evaluation = Evaluation.open(registry_dir, engine, resolve_now(None))
        package = run_extraction(
            evaluation,
            request_id,
            supervisor,
            destination,
            parse_root_overrides(storage_roots),
            key,
            audit,
            countersign,
            watermark=watermark,
        )
    click.echo(
        f"extracted {request_id} to {package} (manifest signed; verify with "
        f"`cctv-policy extract verify {package} --public-key KEY.pub`)"
    )


@extract_group.command()
@click.argument("directory", type=click.Path(path_type=Path, exists=True, file_okay=False))
@click.option(
    "--public-key",
    type=click.Path(path_type=Path, exists=True),
    default=None,
    help="The security office's public key. Without it the key inside the manifest is "
    "used, which proves integrity but not who signed (exit 4).",
)
def verify(directory: Path, public_key: Path | None) -> None:
    """Check an extraction package: signature, every file's SHA-256 and size, nothing added.

    \b
    Exit codes:
      0  intact, signed by the pinned key
      1  tampered (or unreadable, or a path that leaves the package)
      2  the public key cannot be read
      4  intact against the key inside the manifest only: the signer is not pinned

    \b
    Example:
      cctv-policy extract verify /srv/cctv/exports/REQ-2026-0038-20261120T020000Z \\
          --public-key security-office.pub
    """
    try:
        pinned = load_public_key(public_key) if public_key else None
    except (ValueError, OSError) as exc:
        fail(f"--public-key {public_key}: {exc}")
    check = verify_package(directory, pinned)
    if not check.ok:
        click.echo("TAMPERED: " + "; ".join(printable(p) for p in check.problems))
        raise SystemExit(EXIT_VIOLATIONS)
    if not check.key_pinned:
        click.echo(
            f"UNPINNED: {check.files} files match the manifest, but it was checked only "
            "against the key inside it, so anyone could have made it; pass --public-key "
            "with the security office's key"
        )
        raise SystemExit(EXIT_UNPINNED)
    click.echo(f"OK: {check.files} files match the manifest signed by the pinned key")
    raise SystemExit(EXIT_OK)


@extract_group.command()
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    required=True,
    help="Where to write the private key (0600); KEY.pub is written beside it.",
)
def keygen(out: Path) -> None:
    """Make an Ed25519 signing key for extraction manifests."""
    if out.exists():
        fail(f"{out} exists; refusing to overwrite a key")
    try:
        public = generate_key(out)
    except OSError as exc:
        fail(f"cannot write the key to {out}: {exc.strerror}")
    click.echo(f"private key {out} (keep it with the security office), public key {public}")
