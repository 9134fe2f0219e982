"""`cctv-policy extract`: supervised extraction, its verification, and signing keys."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from cctv_policy.audit.log import AuditError, AuditLog
from cctv_policy.cli.common import (
    EXIT_OK,
    EXIT_VIOLATIONS,
    fail,
    now_option,
    registry_option,
    resolve_now,
)
from cctv_policy.enforce.targets import TargetError, make_backends, parse_root_overrides
from cctv_policy.engine import EngineError, load_policies, make_engine
from cctv_policy.evaluation import Evaluation
from cctv_policy.extract.manifest import (
    generate_key,
    load_private_key,
    load_public_key,
    verify_package,
)
from cctv_policy.extract.run import ExtractRefused, check_allowed, extract, resolve_destination
from cctv_policy.registry.loader import RegistryNotFound, load_registry


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
      cctv-policy extract verify DIR [--public-key KEY.pub]
      cctv-policy extract keygen --out KEY
    """


@extract_group.command("request", hidden=True)
@click.argument("request_id")
@registry_option
@now_option
@click.option("--supervisor", required=True, metavar="PERSON",
              help="Security-office member or supervisor present; not the applicant.")
@click.option("--to", "destination", required=True, metavar="TARGET-ID|DIR",
              help="An approved storage target, or a directory inside one (R7).")
@click.option("--signing-key", type=click.Path(path_type=Path, exists=True),
              default=lambda: os.environ.get("CCTV_SIGNING_KEY"),
              help="Ed25519 private key (PEM) that signs the manifest [env CCTV_SIGNING_KEY].")
@click.option("--storage-root", "storage_roots", multiple=True, metavar="TARGET=DIR")
@click.option("--audit-log", type=click.Path(path_type=Path), default=Path("audit/audit.jsonl"),
              show_default=True)
def run_extract(request_id: str, registry_dir: Path, now: datetime | None, supervisor: str,
                destination: str, signing_key: Path | None, storage_roots: tuple[str, ...],
                audit_log: Path) -> None:
    """Copy exactly REQUEST_ID's approved cameras x window to an approved target."""
    moment = resolve_now(now)
    if not signing_key:
        fail("--signing-key (or CCTV_SIGNING_KEY) is required; make one with "
             "`cctv-policy extract keygen --out KEY`")
    try:
        registry = load_registry(registry_dir)
        if registry.issues:
            fail("the registry has input errors; run `cctv-policy check` first", 3)
        overrides = parse_root_overrides(storage_roots)
        policies = load_policies()
        evaluation = Evaluation(registry, make_engine("embedded", policies), moment,
                                policies.version)
        scope = check_allowed(registry, request_id, supervisor, moment,
                              evaluation.valid_approvals())
        target_dir = resolve_destination(registry, destination, overrides)
        sources = {registry.cameras[c].storage for c in scope.cameras}
        backends = {}
        for target_id in sources:
            backends.update(make_backends(registry, target_id, overrides)[0])
        audit = AuditLog(audit_log, policy_version=policies.version)
        package = extract(registry, request_id, supervisor, target_dir, moment, backends,
                          load_private_key(Path(signing_key)), audit, policies.version, scope)
    except ExtractRefused as exc:
        fail(f"refused: {exc}. Nothing was copied.", EXIT_VIOLATIONS)
    except (RegistryNotFound, TargetError, AuditError, EngineError, ValueError, OSError) as exc:
        fail(f"{exc}\nNothing was copied.")
    click.echo(f"extracted {request_id} to {package} (manifest signed; verify with "
               f"`cctv-policy extract verify {package}`)")


@extract_group.command()
@click.argument("directory", type=click.Path(path_type=Path, exists=True, file_okay=False))
@click.option("--public-key", type=click.Path(path_type=Path, exists=True), default=None,
              help="The security office's public key; without it the key inside the manifest "
                   "is used, which proves integrity but not who signed.")
def verify(directory: Path, public_key: Path | None) -> None:
    """Check an extraction package: signature, every file's SHA-256 and size, nothing added."""
    check = verify_package(directory, load_public_key(public_key) if public_key else None)
    if check.ok:
        pinned = "" if check.key_pinned else " (signature checked against the key in the " \
                                             "manifest: pass --public-key to pin the signer)"
        click.echo(f"OK: {check.files} files match the signed manifest{pinned}")
        raise SystemExit(EXIT_OK)
    click.echo("TAMPERED: " + "; ".join(check.problems))
    raise SystemExit(EXIT_VIOLATIONS)


@extract_group.command()
@click.option("--out", type=click.Path(path_type=Path), required=True,
              help="Where to write the private key (0600); KEY.pub is written beside it.")
def keygen(out: Path) -> None:
    """Make an Ed25519 signing key for extraction manifests."""
    if out.exists():
        fail(f"{out} exists; refusing to overwrite a key")
    public = generate_key(out)
    click.echo(f"private key {out} (keep it with the security office), public key {public}")
