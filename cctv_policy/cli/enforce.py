"""`cctv-policy plan` and `cctv-policy apply`: retention, holds and grants on storage."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from pydantic import ValidationError

from cctv_policy.audit.anchor import AnchorError, anchor_from_spec, check_log
from cctv_policy.audit.log import AuditLog
from cctv_policy.cli.common import (
    StorageScope,
    audit_log_option,
    engine_options,
    format_option,
    now_option,
    registry_option,
    resolve_now,
    storage_scope_options,
)
from cctv_policy.cli.errors import EXIT_BAD_INPUT, fail, refusing
from cctv_policy.cli.progress import progress
from cctv_policy.enforce.clock import ClockDisagrees
from cctv_policy.enforce.job import (
    Prepared,
    prepare,
    restrict_to_reviewed,
    run_apply,
    suspend_offload,
)
from cctv_policy.enforce.models import Plan, Scope, Shard
from cctv_policy.engine import EngineChoice
from cctv_policy.output import printable
from cctv_policy.registry.loader import LoadedRegistry
from cctv_policy.rulebook.devices import Silent, silent_cameras
from cctv_policy.rulebook.evaluation import Evaluation
from cctv_policy.rulebook.gate import RegistryNotEnforceable
from cctv_policy.targets import parse_root_overrides
from storage_backends.day_workers import DayWorkers

if TYPE_CHECKING:
    from rich.table import Table

    from cctv_policy.enforce.apply import ApplyReport

# The rows of apply's table and the keys of its JSON `done`, in the order they happen.
APPLIED_ACTIONS = ("hold", "revoke", "grant", "release", "delete")


def _shard(value: str | None) -> Shard:
    if not value:
        return Shard()
    try:
        index, count = (int(x) for x in value.split("/"))
        assert 0 <= index < count
    except (ValueError, AssertionError):
        raise click.BadParameter("write it as I/N with 0 <= I < N, e.g. 0/4") from None
    return Shard(index, count)


def _prepare(evaluation: Evaluation, flags: StorageScope) -> Prepared:
    """The run's plan. The command owns the run's worker processes: click closes them when
    the command ends (after apply has deleted with them)."""
    scope = Scope(
        flags.target,
        parse_root_overrides(flags.storage_roots),
        _shard(flags.shard),
        frozenset(flags.cameras) or None,
    )
    workers = click.get_current_context().with_resource(DayWorkers(scope.shard.count))
    registry = evaluation.registry
    total = sum(
        1 for c in registry.cameras.values() if not scope.target or c.storage == scope.target
    )
    with progress("listing", "cameras", total) as advance:
        return prepare(evaluation, scope, lambda label, n: advance(n, label), workers)


def _summary(plan: Plan, skipped: dict[str, str], silent: list[Silent]) -> Table:
    from rich.table import Table

    table = Table(title=f"plan at {plan.now.isoformat()} (retention {plan.retention_days} days)")
    table.add_column("action")
    table.add_column("count", justify="right")
    counts = plan.counts()
    for action in ("delete", "hold", "release", "grant", "revoke"):
        table.add_row(action, str(counts.get(action, 0)))
    whole = sum(a.count for a in plan.actions if a.action == "delete-day")
    table.add_row(
        "delete-day (whole expired days)", f"{counts.get('delete-day', 0)} ({whole} files)"
    )
    table.add_row("segments listed", str(plan.listed_segments))
    table.add_row("unparsable keys (never touched)", str(len(plan.unparsable)))
    table.add_row("kept by the safety floor", str(len(plan.blocked_by_floor)))
    table.add_row("grants refused by the floor", str(len(plan.grants_refused)))
    table.add_row("unmanaged entries (reported, never touched)", str(len(plan.unmanaged)))
    table.add_row(
        "silent cameras (CAMERA_SILENT)",
        ", ".join(s.camera for s in silent) or f"none of {len(plan.cameras_read)} read",
    )
    for target, reason in skipped.items():
        table.add_row(f"skipped target {target}", reason)
    if not plan.grants_planned:
        table.add_row(
            "grants and revokes",
            "not planned by --camera or shard I>0 runs: the "
            "unsharded run (or shard 0/N) handles them",
        )
    return table


@click.command()
@registry_option
@now_option
@format_option()
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help="Also write the plan as JSON to FILE (review it, then `apply --plan FILE`).",
)
@storage_scope_options
@engine_options
def plan(
    registry_dir: Path,
    now: datetime | None,
    output_format: str,
    out: Path | None,
    scope: StorageScope,
    engine: EngineChoice,
) -> None:
    """Show what enforcement would do; never changes storage.

    Lists footage by camera and day, and plans: delete (expired, unprotected), hold
    (protected by an approved or pending request or a security-office hold), release
    (protection ended), grant (approved use period running) and revoke (use period over).
    Each action names the rule that caused it.

    \b
    Examples:
      cctv-policy plan --storage-root nas-main=/mnt/nas
      cctv-policy plan --format json --out plan.json
    """
    with refusing("Nothing was planned."):
        evaluation = Evaluation.open(registry_dir, engine, resolve_now(now))
        prepared = _prepare(evaluation, scope)
        silent = silent_cameras(
            evaluation, prepared.plan.cameras_read, prepared.plan.newest_footage
        )
    document = prepared.plan.model_dump(mode="json")
    if out:
        try:
            out.write_text(json.dumps(document, indent=1) + "\n")
        except OSError as exc:
            fail(f"cannot write the plan to {out}: {exc.strerror}")
    if output_format == "json":
        click.echo(json.dumps(document, indent=1))
        return
    from rich.console import Console

    console = Console()
    for action in prepared.plan.actions[:20]:
        files = f" ({action.count} files)" if action.action == "delete-day" else ""
        console.print(
            f"{action.action:10} {action.target}:{action.key or action.hold or action.grant}"
            f"{files}  [dim]{action.rule}{' ' + action.request if action.request else ''}[/]",
            soft_wrap=True,
        )
    if len(prepared.plan.actions) > 20:
        console.print(f"... and {len(prepared.plan.actions) - 20} more (--format json for all)")
    for item in prepared.plan.unmanaged[:20]:
        console.print(
            printable(f"unmanaged {item.target}:{item.key}  {item.reason}"),
            soft_wrap=True,
            markup=False,
        )
    for finding in silent:
        console.print(f"silent    {finding.message}", soft_wrap=True, markup=False)
    console.print(_summary(prepared.plan, prepared.skipped_targets, silent))


_APPLY_HELP = """Carry out the plan: hold, grant, revoke, release, then delete expired footage.

Runs on this machine's clock (there is no --now: a forged clock must not delete footage),
and first checks that clock against the newest footage on each target and the last apply
in the audit log: when they disagree only holds and revokes happen; a camera whose footage
runs ahead of the clock keeps all its footage (named on stderr and in --format json's
clock_suspect) while the others go ahead. Idempotent and resumable: interrupt it at any
point and run it again.
Every action is written to the audit log before it happens; every delete and grant is
checked once more against the safety floor.

\b
Exit codes:
  0  applied
  1  provenance: an approval or hold not provably written by the person it names
     (config.yaml provenance.required, on by default): nothing changed
  2  the tool could not run or provenance cannot be read (not a git checkout with
     history): nothing changed; or the clock disagrees with the evidence: only holds
     and revokes were applied
  3  the registry has input errors: nothing changed

\b
Examples:
  cctv-policy plan --out plan.json && cctv-policy apply --plan plan.json --yes
  cctv-policy apply --yes --anchor git:/srv/audit-anchor --shard 0/4
  cctv-policy apply --yes --format json > applied.json
"""


@click.command(help=_APPLY_HELP)
@registry_option
@click.option(
    "--plan",
    "plan_file",
    type=click.Path(path_type=Path, exists=True),
    default=None,
    help="Apply only the actions of this reviewed plan that are still valid now "
    "(holds and revokes the registry calls for are applied in any case).",
)
@click.option("--yes", is_flag=True, help="Really change storage (required).")
@format_option("json: what was done, as one JSON document on standard output (for monitoring).")
@audit_log_option("Hash-chained audit log; if it cannot be written, nothing happens.")
@click.option(
    "--anchor",
    "anchors",
    multiple=True,
    metavar="git:DIR|s3:TARGET",
    help="Also anchor the audit log's head where an admin cannot silently rewrite "
    "it: a commit in a git repository, or an Object Lock object on an S3 "
    "target (repeatable). The <log>.head file is always written.",
)
@storage_scope_options
@engine_options
def apply(
    registry_dir: Path,
    plan_file: Path | None,
    yes: bool,
    output_format: str,
    audit_log: Path,
    anchors: tuple[str, ...],
    scope: StorageScope,
    engine: EngineChoice,
) -> None:
    if not yes:
        fail("apply changes storage: pass --yes (run `cctv-policy plan` first to review)")
    reviewed = _reviewed_plan(plan_file) if plan_file else None
    audit = AuditLog(audit_log)
    refusals = _Refusals(audit)
    with refusing("Nothing was changed.", refusals.refused):
        evaluation = Evaluation.open(registry_dir, engine, resolve_now(None))
        refusals.registry = evaluation.registry
        _check_anchors(audit, anchors, evaluation.registry)
        prepared = _prepare(evaluation, scope)
        if reviewed is not None:
            prepared.plan = restrict_to_reviewed(prepared.plan, reviewed)

    with refusing(
        "What the audit log records before this was done; run apply again once the "
        "cause is fixed (it picks up where it stopped).",
        refusals.failed,
    ):
        with progress("applying", "actions", len(prepared.plan.actions)) as advance:
            report = run_apply(prepared, audit, lambda n: advance(n, None))
        audit.write_anchor()
    for reason in report.clock_suspect.values():
        click.echo(f"cctv-policy: warning: {reason}", err=True)
    head = audit.head()
    if output_format == "json":
        click.echo(json.dumps(_applied(report, audit_log, head), indent=1, ensure_ascii=False))
    else:
        _print_applied(report, audit_log, head)


@dataclass
class _Refusals:
    """What apply logs (and does) when it refuses or fails."""

    audit: AuditLog
    registry: LoadedRegistry | None = None

    def refused(self, error: Exception) -> str:
        self.audit.record_refusal("refused", command="apply", reason=str(error))
        if isinstance(error, RegistryNotEnforceable | ClockDisagrees) and self.registry:
            return _suspended(self.registry, self.audit)
        return ""

    def failed(self, error: Exception) -> str | None:
        if isinstance(error, ClockDisagrees):  # the holds and revokes were done; no deletion
            return self.refused(error)
        # Part-way through: `notify` tells the admins (#28).
        self.audit.record_refusal("apply_failed", command="apply", reason=str(error))
        return None


def _check_anchors(audit: AuditLog, anchors: tuple[str, ...], registry: LoadedRegistry) -> None:
    """--anchor: where the log's head is also anchored; an existing log must agree with each."""
    audit.anchors = [anchor_from_spec(spec, registry) for spec in anchors]
    for anchor in audit.anchors if audit.path.exists() else []:
        outcome = check_log(audit.path, anchor)
        if not outcome.ok:
            raise AnchorError(f"the audit log disagrees with its anchor: {outcome.describe()}")


def _print_applied(report: ApplyReport, audit_log: Path, head: tuple[int, str]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="applied")
    table.add_column("action")
    table.add_column("done", justify="right")
    for action in APPLIED_ACTIONS:
        table.add_row(action, str(report.done.get(action, 0)))
    table.add_row("  of which in whole days", str(report.done.get("delete-day", 0)) + " days")
    table.add_row("already gone", str(report.already_gone))
    table.add_row("refused", str(len(report.refused)))
    Console().print(table)
    Console().print(f"audit log {audit_log} head {head[0]}:{head[1][:12]}")


def _applied(report: ApplyReport, audit_log: Path, head: tuple[int, str]) -> dict[str, Any]:
    """apply --format json: the counts of the text table, and every refusal with its reason."""
    return {
        "done": {action: report.done.get(action, 0) for action in APPLIED_ACTIONS},
        "whole_days": report.done.get("delete-day", 0),
        "already_gone": report.already_gone,
        "refused": dict(report.refused),
        "clock_suspect": dict(report.clock_suspect),
        "audit_log": str(audit_log),
        "audit_head": {"seq": head[0], "hash": head[1]},
    }


def _suspended(registry: LoadedRegistry, audit: AuditLog) -> str:
    """Stop buckets that expire footage on their own, while runs are refused."""
    done = suspend_offload(registry, audit)
    return (
        "\nMeanwhile, on targets that expire footage by themselves: " + "; ".join(done)
        if done
        else ""
    )


def _reviewed_plan(path: Path) -> Plan:
    try:
        return Plan.model_validate_json(path.read_text(encoding="utf-8"))
    except (ValidationError, ValueError, OSError) as exc:
        fail(
            f"--plan {path} is not a plan written by `cctv-policy plan --out` "
            f"({str(exc).splitlines()[0]}); nothing was changed",
            EXIT_BAD_INPUT,
        )
