"""`cctv-policy report`: the periodic inspection report (R12)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import click

from cctv_policy.cli.common import (
    EXIT_BAD_INPUT,
    Timestamp,
    fail,
    now_option,
    registry_option,
    resolve_now,
)
from cctv_policy.enforce.targets import TargetError, make_backends, parse_root_overrides
from cctv_policy.engine import EngineError, load_policies, make_engine
from cctv_policy.evaluation import Evaluation
from cctv_policy.gate import RegistryNotEnforceable
from cctv_policy.registry.loader import RegistryNotFound, load_registry
from cctv_policy.reports.inspection import build_inspection
from cctv_policy.reports.render import render_html, render_markdown


@click.command()
@registry_option
@now_option
@click.option("--from", "start", type=Timestamp(), default=None, help="Default: 30 days ago.")
@click.option("--to", "end", type=Timestamp(), default=None, help="Default: now.")
@click.option("--format", "output_format", type=click.Choice(["md", "html"]), default="md",
              show_default=True)
@click.option("--out", type=click.Path(path_type=Path), default=None)
@click.option("--storage-root", "storage_roots", multiple=True, metavar="TARGET=DIR",
              help="Read footage age from these filesystem targets (and reachable S3).")
@click.option("--audit-log", type=click.Path(path_type=Path), default=Path("audit/audit.jsonl"),
              show_default=True)
def report(registry_dir: Path, now: datetime | None, start: datetime | None,
           end: datetime | None, output_format: str, out: Path | None,
           storage_roots: tuple[str, ...], audit_log: Path) -> None:
    """The periodic inspection report: cameras and compliance, footage age against retention
    (read from storage), requests by unit, purpose and outcome, grants, extractions, overdue
    reports, violations and audit-log integrity. HTML has charts."""
    moment = resolve_now(now)
    period = (start or moment - timedelta(days=30), end or moment)
    try:
        registry = load_registry(registry_dir)
        policies = load_policies()
        overrides = parse_root_overrides(storage_roots)
        backends = {}
        for target in registry.targets:
            try:
                backends.update(make_backends(registry, target, overrides)[0])
            except TargetError:
                pass  # reported as "not read" per camera
        evaluation = Evaluation(registry, make_engine("embedded", policies), moment,
                                policies.version)
        inspection = build_inspection(evaluation, period, backends, audit_log)
    except RegistryNotEnforceable as exc:
        fail(str(exc), EXIT_BAD_INPUT)
    except (RegistryNotFound, EngineError, TargetError) as exc:
        fail(str(exc))
    text = render_html(inspection) if output_format == "html" else render_markdown(inspection)
    if out:
        out.write_text(text, encoding="utf-8")
        click.echo(f"wrote {out}")
    else:
        click.echo(text)
