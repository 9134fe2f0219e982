"""`cctv-policy audit`: verify the hash-chained audit log."""

from __future__ import annotations

import json
from pathlib import Path

import click

from cctv_policy.audit.log import AuditError, AuditLog, verify_log
from cctv_policy.cli.common import EXIT_OK, EXIT_VIOLATIONS, fail


@click.group()
def audit() -> None:
    """Read and verify the audit log."""


@audit.command()
@click.option("--audit-log", type=click.Path(path_type=Path), default=Path("audit/audit.jsonl"),
              show_default=True)
@click.option("--anchor", type=click.Path(path_type=Path), default=None,
              help="Head anchor to compare with (default: <log>.head if present).")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text")
def verify(audit_log: Path, anchor: Path | None, output_format: str) -> None:
    """Detect any edit, reorder, insertion or cut-off tail of the audit log.

    Exit 0 when intact, 1 when tampered. Reading the log is itself logged.
    """
    anchor_path = anchor or AuditLog(audit_log).anchor_path
    anchor_doc = json.loads(anchor_path.read_text()) if anchor_path.exists() else None
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
