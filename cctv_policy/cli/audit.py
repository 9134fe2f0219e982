"""`cctv-policy audit`: verify the hash-chained audit log."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from cctv_policy.audit.anchor import anchor_from_spec, check_log
from cctv_policy.audit.log import AuditLog
from cctv_policy.audit.query import entries, matches
from cctv_policy.cli.common import Timestamp, audit_log_option, format_option, registry_option
from cctv_policy.cli.errors import EXIT_OK, EXIT_VIOLATIONS, fail, refusing
from cctv_policy.output import printable
from cctv_policy.registry.loader import load_registry


@click.group()
def audit() -> None:
    """Read and verify the audit log."""


@audit.command()
@audit_log_option()
@click.option(
    "--anchor",
    default=None,
    metavar="file:PATH|git:DIR|s3:TARGET",
    help="Where the head was anchored (default: file:<log>.head).",
)
@registry_option
@format_option()
@click.option(
    "--reanchor",
    is_flag=True,
    help="For an admin, after checking a log whose <log>.head was lost: anchor the log "
    "as it is now (only when its chain is intact); the act is logged.",
)
def verify(
    audit_log: Path, anchor: str | None, registry_dir: Path, output_format: str, reanchor: bool
) -> None:
    """Detect any edit, reorder, insertion or cut-off tail of the audit log.

    The chain shows edits, insertions and reordering; the anchored heads show lines cut off
    the end (every head the anchor holds must be a line of the log). A log with entries but no
    anchor is NOT ANCHORED: a cut tail could not be seen, so it is never reported intact.
    Reading the log is itself logged.

    \b
    Exit codes:
      0  intact and anchored
      1  tampered, or not anchored
      2  the log or the anchor asked for cannot be read

    \b
    Examples:
      cctv-policy audit verify --audit-log /var/lib/cctv-policy/audit.jsonl
      cctv-policy audit verify --anchor git:/srv/audit-anchor --format json
    """
    if not audit_log.is_file():
        fail(f"{audit_log} is not an audit log file (it does not exist, or is a folder)")
    with refusing("The log was not verified."):
        registry = load_registry(registry_dir) if anchor and anchor.startswith("s3:") else None
        outcome = check_log(audit_log, anchor_from_spec(anchor, registry) if anchor else None)
    with refusing("Nothing was recorded."):
        if reanchor and outcome.state == "not_anchored" and anchor is None:
            AuditLog(audit_log).reanchor()
            outcome = check_log(audit_log)
        if outcome.ok:
            AuditLog(audit_log).append(
                "audit_verified", entries=outcome.result.entries, anchor=outcome.anchor
            )
    if output_format == "json":
        click.echo(
            json.dumps(
                {
                    "ok": outcome.ok,
                    "state": outcome.state,
                    "entries": outcome.result.entries,
                    "problems": outcome.result.problems,
                    "anchor": outcome.anchor,
                    "anchored": outcome.result.anchored,
                }
            )
        )
    else:
        click.echo(outcome.describe())
    raise SystemExit(EXIT_OK if outcome.ok else EXIT_VIOLATIONS)


@audit.command()
@audit_log_option()
@click.option("--request", default=None, metavar="REQ-ID")
@click.option(
    "--person", default=None, metavar="ID", help="Actor, principal, supervisor or recipient."
)
@click.option("--camera", default=None, metavar="ID")
@click.option("--since", type=Timestamp(), default=None, help="RFC 3339 with offset.")
@format_option()
def show(
    audit_log: Path,
    request: str | None,
    person: str | None,
    camera: str | None,
    since: datetime | None,
    output_format: str,
) -> None:
    """Show audit log entries by request, person, camera and time. Reading is itself logged
    (who read what, with which filters) before anything is shown."""
    if not audit_log.exists():
        fail(f"{audit_log} does not exist")
    with refusing("Nothing is shown without the read being logged."):
        AuditLog(audit_log).append(
            "audit_read",
            filters={
                "request": request,
                "person": person,
                "camera": camera,
                "since": since.isoformat() if since else None,
            },
        )
    found = [
        e
        for e in entries(audit_log)
        if e["event"] != "audit_read" and matches(e, request, person, camera, since)
    ]
    if output_format == "json":
        click.echo(json.dumps(found, indent=1))
        return
    for e in found:
        subject = e.get("request") or e.get("grant") or e.get("hold") or e.get("target") or ""
        detail = (
            f"{len(e['keys'])} keys"
            if isinstance(e.get("keys"), list)
            else e.get("key") or e.get("path") or e.get("camera") or ""
        )
        click.echo(
            printable(
                f"{e['seq']:>6} {str(e['at'])[:19]} {e['event']:<16} "
                f"{subject:<24} {detail} [{_who(e)}]"
            )
        )
    click.echo(f"{len(found)} entries")


def _who(entry: dict[str, Any]) -> str:
    """Who stands behind an entry: the actor, or for what the OPA fleet sent, the fleet and the
    token it came with (ingest_app.py): its word, not the enforcer's."""
    if entry.get("source"):
        return f"{entry['source']} via {entry.get('asserted_by', '?')}"
    return str(entry.get("actor", ""))
