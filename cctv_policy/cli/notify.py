"""`cctv-policy notify`: tell people what is due, by e-mail and webhooks, once a day."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import click

from cctv_policy.cli.common import (
    audit_log_option,
    engine_options,
    format_option,
    now_option,
    registry_option,
    resolve_now,
    storage_root_option,
)
from cctv_policy.cli.errors import EXIT_DELIVERY_FAILED, EXIT_TOOL_ERROR, fail, refusing
from cctv_policy.engine import EngineChoice
from cctv_policy.output import printable
from cctv_policy.reports.notify_run import NotifyRun, run_notify
from cctv_policy.rulebook.evaluation import Evaluation
from cctv_policy.targets import reachable_backends


@click.command()
@registry_option
@audit_log_option("Where notify remembers what it sent (notice_sent) and reads apply's refusals.")
@storage_root_option("Read footage age from filesystem TARGET at DIR (silent cameras).")
@click.option("--dry-run", is_flag=True, help="Print what would be sent; send and log nothing.")
@now_option
@format_option("text for people; json: every notice with its recipient and outcome.")
@engine_options
def notify(
    registry_dir: Path,
    audit_log: Path,
    storage_roots: tuple[str, ...],
    dry_run: bool,
    now: datetime | None,
    output_format: str,
    engine: EngineChoice,
) -> None:
    """Send what is due: overdue usage reports (R11) to the applicant and the security
    office, silent cameras and overdue service (R2, R12) to the technicians, requests waiting
    longer than notifications.pending_after_hours (R5) to the security office, and a refused
    or failed apply to the admins, by e-mail and WeCom / DingTalk / JSON webhooks as
    config.yaml `notifications:` says. Each notice goes to each recipient at most once per
    campus day (a refused apply once), remembered in the audit log; waived warnings are not
    chased. Runs on the system clock: --now only with --dry-run.

    \b
    Exit codes:
      0  everything due was delivered (or nothing was due)
      2  the tool could not run (bad flags, no audit log, engine unavailable)
      3  the registry has input errors
      5  some deliveries failed: they are reported and tried again on the next run

    \b
    Examples:
      cctv-policy notify --dry-run                       # what would be sent now
      cctv-policy notify --dry-run --now 2026-12-09T09:00:00+08:00 --format json
      cctv-policy notify --audit-log /var/lib/cctv-policy/audit.jsonl   # from cron
    """
    if now is not None and not dry_run:
        fail("--now only with --dry-run: notices are sent on the system clock", EXIT_TOOL_ERROR)
    if not dry_run and not audit_log.exists():
        fail(
            f"no audit log at {audit_log}: notify remembers what it sent there. Pass "
            "--audit-log with the log apply writes (nothing was sent)",
            EXIT_TOOL_ERROR,
        )
    with refusing("Nothing was sent."):
        evaluation = Evaluation.open(registry_dir, engine, resolve_now(now))
        evaluation.input  # noqa: B018 - refuses a registry with input errors (exit 3)
        backends = reachable_backends(evaluation.registry, storage_roots)
        run = run_notify(evaluation, backends, audit_log, dry_run)
    if output_format == "json":
        click.echo(json.dumps(run.as_json(), indent=1, ensure_ascii=False))
    else:
        click.echo(_text(run))
    if run.failed:
        raise SystemExit(EXIT_DELIVERY_FAILED)


def _text(run: NotifyRun) -> str:
    lines = []
    for outcome in run.outcomes:
        d = outcome.delivery
        state = "would send" if run.dry_run else ("sent" if outcome.sent else "FAILED")
        line = f"{state}: {d.notice.kind} {d.notice.subject} -> {d.recipient} ({d.channel})"
        lines.append(printable(line))
        if outcome.error:
            lines.append(f"    {printable(outcome.error)} (tried again on the next run)")
        if run.dry_run:
            lines += ["    " + printable(d.notice.title)]
    sent = sum(o.sent for o in run.outcomes)
    summary = f"{len(run.outcomes)} due, {sent} sent, {len(run.failed)} failed (day {run.day})"
    return "\n".join([*lines, summary])
