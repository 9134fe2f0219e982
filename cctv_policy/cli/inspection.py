"""`cctv-policy report`: the periodic inspection report (R12)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import click

from cctv_policy.cli.common import (
    Timestamp,
    audit_log_option,
    engine_options,
    now_option,
    registry_option,
    resolve_now,
    storage_root_option,
)
from cctv_policy.cli.errors import refusing
from cctv_policy.engine import EngineChoice
from cctv_policy.reports.inspection import build_inspection
from cctv_policy.reports.render import render_html, render_markdown
from cctv_policy.rulebook.evaluation import Evaluation
from cctv_policy.targets import reachable_backends


@click.command()
@registry_option
@now_option
@click.option("--from", "start", type=Timestamp(), default=None, help="Default: 30 days ago.")
@click.option("--to", "end", type=Timestamp(), default=None, help="Default: now.")
@click.option(
    "--format", "output_format", type=click.Choice(["md", "html"]), default="md", show_default=True
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help="Write the report to this file instead of standard output.",
)
@storage_root_option("Read footage age from filesystem TARGET at DIR (and reachable S3).")
@audit_log_option("The audit log whose grants, extractions and integrity are reported.")
@engine_options
def report(
    registry_dir: Path,
    now: datetime | None,
    start: datetime | None,
    end: datetime | None,
    output_format: str,
    out: Path | None,
    storage_roots: tuple[str, ...],
    audit_log: Path,
    engine: EngineChoice,
) -> None:
    """The periodic inspection report: cameras and compliance, footage age against retention
    (read from storage), requests by unit, purpose and outcome, grants, extractions, overdue
    reports, violations and audit-log integrity. HTML has charts."""
    moment = resolve_now(now)
    period = (start or moment - timedelta(days=30), end or moment)
    with refusing("No report was written."):
        evaluation = Evaluation.open(registry_dir, engine, moment)
        backends = reachable_backends(evaluation.registry, storage_roots)
        inspection = build_inspection(evaluation, period, backends, audit_log)
    text = render_html(inspection) if output_format == "html" else render_markdown(inspection)
    if out:
        out.write_text(text, encoding="utf-8")
        click.echo(f"wrote {out}")
    else:
        click.echo(text)
