"""`cctv-policy bundle`: the rule book and the registry as a signed OPA bundle."""

from __future__ import annotations

import os
import re
import tempfile
from datetime import timedelta
from pathlib import Path

import click

from cctv_policy.bundle.build import build_bundle
from cctv_policy.bundle.publish import DEFAULT_OBJECT_KEY, publish_bundle
from cctv_policy.bundle.signing import DEFAULT_KEY_ID, SigningKey
from cctv_policy.cli.common import engine_options, registry_option, resolve_now
from cctv_policy.cli.errors import fail, refusing
from cctv_policy.engine import EngineChoice
from cctv_policy.rulebook.evaluation import Evaluation


@click.command("bundle")
@registry_option
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Write the bundle (.tar.gz) to this file.",
)
@click.option(
    "--publish",
    default=None,
    metavar="s3:TARGET",
    help="Put the bundle on this S3 target of storage.yaml, where OPA servers poll for it "
    "(credentials from the environment, as for apply).",
)
@click.option(
    "--object-key",
    default=DEFAULT_OBJECT_KEY,
    show_default=True,
    help="With --publish: the object's key under the target's prefix.",
)
@click.option(
    "--signing-key",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="PEM private key (RSA: RS256; EC P-256/384/521: ES256/384/512) to sign the bundle "
    "with, in OPA's .signatures.json format.",
)
@click.option(
    "--key-id",
    default=DEFAULT_KEY_ID,
    show_default=True,
    help="The key id OPA's verification config knows the public key by.",
)
@click.option(
    "--valid-for",
    default="6h",
    show_default=True,
    metavar="DURATION",
    callback=lambda _ctx, _param, value: parse_validity(value),
    help="How long OPA servers grant from this bundle (e.g. 90m, 6h, 2d; at most 7d). After "
    "that they deny everything until a newer bundle is published: publish more often than this "
    "(the workflow publishes every hour), so that an older bundle put back stops granting soon.",
)
@engine_options
def bundle(
    registry_dir: Path,
    out: Path | None,
    publish: str | None,
    object_key: str,
    signing_key: Path | None,
    key_id: str,
    valid_for: timedelta,
    engine: EngineChoice,
) -> None:
    """Build an OPA bundle of the rule book and the registry, for OPA servers.

    OPA servers answer data.cctv.fleet.decision on their own clock (a caller's "now" is not
    read). The bundle holds the fleet's policies, only the data the decision needs
    (data.cctv_registry: valid approvals and what they grant, person ids as SHA-256; no names,
    e-mails, reasons or reports), its validity (--valid-for) and a .manifest whose revision is
    the registry's git commit (+uncommitted when any registry file differs from it) and the
    policy version. With --signing-key it is signed in OPA's format; OPA refuses it if any
    file was changed.

    Nothing is written or published while `cctv-policy check` reports input errors (exit 3)
    or errors (exit 3): a registry that breaks the rule book is never published; nor while
    provenance fails (exit 1) or cannot be read, outside a git checkout with history (exit 2),
    unless config.yaml says provenance: {required: false}.

    \b
    Examples:
      cctv-policy bundle --out cctv.tar.gz --signing-key bundle-signing.pem
      opa run --server --bundle cctv.tar.gz --verification-key bundle-signing.pub.pem
      cctv-policy bundle --publish s3:campus-s3 --signing-key bundle-signing.pem
    """
    if out is None and publish is None:
        fail("say where the bundle goes: --out FILE and/or --publish s3:TARGET")
    with refusing("No bundle was written or published."):
        key = SigningKey.from_pem_file(signing_key, key_id) if signing_key else None
        evaluation = Evaluation.open(registry_dir, engine, resolve_now(None))
        built = build_bundle(evaluation, key, valid_for)
        if publish is not None:  # first: a refused publish writes no file either
            where = publish_bundle(built, evaluation.registry, publish, object_key)
            click.echo(f"published {where}: {built.revision}")
        if out is not None:
            _write_atomically(out, built.tarball())
            click.echo(f"bundle {out}: {built.revision}" + (" (signed)" if built.signed else ""))


MAX_VALID_FOR = timedelta(days=7)
_DURATION = re.compile(r"([1-9][0-9]{0,6})([smhd])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_validity(text: str) -> timedelta:
    match = _DURATION.fullmatch(text.strip())
    if match is None:
        raise click.BadParameter(f"{text!r}: write a duration like 90m, 6h or 2d")
    duration = timedelta(**{_UNITS[match[2]]: int(match[1])})
    if duration > MAX_VALID_FOR:
        raise click.BadParameter(f"{text!r}: at most 7d")
    return duration


def _write_atomically(path: Path, content: bytes) -> None:
    """The whole bundle or nothing: a reader never sees half a file."""
    directory = path.parent if str(path.parent) else Path(".")
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(content)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except OSError:
        Path(temporary).unlink(missing_ok=True)
        raise
