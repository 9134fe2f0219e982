"""`cctv-policy audit`: verify the hash-chained audit log."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import click

from cctv_policy.audit.anchor import AnchorError, anchor_from_spec
from cctv_policy.audit.log import AuditError, AuditLog, verify_log
from cctv_policy.audit.query import entries, matches
from cctv_policy.cli.common import Timestamp
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


@audit.command()
@click.option("--audit-log", type=click.Path(path_type=Path), default=Path("audit/audit.jsonl"),
              show_default=True)
@click.option("--request", default=None, metavar="REQ-ID")
@click.option("--person", default=None, metavar="ID", help="Actor, principal, supervisor or recipient.")
@click.option("--camera", default=None, metavar="ID")
@click.option("--since", type=Timestamp(), default=None, help="RFC 3339 with offset.")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text")
def show(audit_log: Path, request: str | None, person: str | None, camera: str | None,
         since: datetime | None, output_format: str) -> None:
    """Show audit log entries by request, person, camera and time. Reading is itself logged
    (who read what, with which filters) before anything is shown."""
    if not audit_log.exists():
        fail(f"{audit_log} does not exist")
    try:
        AuditLog(audit_log).append("audit_read", filters={
            "request": request, "person": person, "camera": camera,
            "since": since.isoformat() if since else None})
    except AuditError as exc:
        fail(f"{exc}\nNothing is shown without the read being logged.")
    found = [e for e in entries(audit_log) if e["event"] != "audit_read"
             and matches(e, request, person, camera, since)]
    if output_format == "json":
        click.echo(json.dumps(found, indent=1))
        return
    for e in found:
        subject = e.get("request") or e.get("grant") or e.get("hold") or e.get("target") or ""
        detail = f"{len(e['keys'])} keys" if isinstance(e.get("keys"), list) else \
            e.get("key") or e.get("path") or e.get("camera") or ""
        click.echo(f"{e['seq']:>6} {e['at'][:19]} {e['event']:<16} {subject:<24} {detail} "
                   f"[{e.get('actor', '')}]")
    click.echo(f"{len(found)} entries")
