"""`cctv-policy audit`: verify the hash-chained audit log."""

from __future__ import annotations

import json
from pathlib import Path

import click

from cctv_policy.audit.anchor import AnchorError, anchor_from_spec
from cctv_policy.audit.log import AuditError, AuditLog, verify_log
from cctv_policy.registry.loader import RegistryNotFound, load_registry
from cctv_policy.cli.common import EXIT_OK, EXIT_VIOLATIONS, fail


@click.group()
def audit() -> None:
    """Read and verify the audit log."""


@audit.command()
@click.option("--audit-log", type=click.Path(path_type=Path), default=Path("audit/audit.jsonl"),
              show_default=True)
@click.option("--anchor", default=None, metavar="file:PATH|git:DIR|s3:TARGET",
              help="Where the head was anchored (default: file:<log>.head).")
@click.option("--registry", "registry_dir", type=click.Path(path_type=Path),
              default=Path("registry"), show_default=True, help="For s3:TARGET anchors.")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text")
def verify(audit_log: Path, anchor: str | None, registry_dir: Path, output_format: str) -> None:
    """Detect any edit, reorder, insertion or cut-off tail of the audit log.

    The chain shows edits, insertions and reordering; the anchored head shows lines cut off
    the end. Exit 0 when intact, 1 when tampered, 2 when the anchor cannot be read.
    Reading the log is itself logged.
    """
    try:
        registry = load_registry(registry_dir) if anchor and anchor.startswith("s3:") else None
        source = anchor_from_spec(anchor or f"file:{AuditLog(audit_log).anchor_path}", registry)
        anchor_doc = source.read()
    except (AnchorError, RegistryNotFound) as exc:
        fail(str(exc))
    result = verify_log(audit_log, anchor_doc)
    if result.ok:
        try:
            log = AuditLog(audit_log)
            log.append("audit_verified", entries=result.entries)
            log.write_anchor()
        except AuditError as exc:
            fail(str(exc))
    if output_format == "json":
        click.echo(json.dumps({"ok": result.ok, "entries": result.entries,
                               "problems": result.problems, "anchored": anchor_doc is not None}))
    elif result.ok:
        click.echo(f"OK: {result.entries} entries, chain intact"
                   + (", matches the anchor" if anchor_doc else " (no anchor to compare)"))
    else:
        click.echo("TAMPERED: " + "; ".join(result.problems))
    raise SystemExit(EXIT_OK if result.ok else EXIT_VIOLATIONS)
