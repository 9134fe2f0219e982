"""`cctv-policy reports due`: usage reports owed, by unit (R11)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from cctv_policy.cli.common import (
    engine_options,
    format_option,
    now_option,
    registry_option,
    resolve_now,
)
from cctv_policy.cli.errors import refusing
from cctv_policy.engine import EngineChoice
from cctv_policy.rulebook.due import due_reports
from cctv_policy.rulebook.evaluation import Evaluation


@click.group()
def reports() -> None:
    """Usage reports (R11)."""


@reports.command()
@registry_option
@now_option
@format_option()
@engine_options
def due(registry_dir: Path, now: datetime | None, output_format: str, engine: EngineChoice) -> None:
    """Reports due and overdue, with days late, by unit. Overdue reports block new requests by
    the same applicant (REQUEST_APPLICANT_REPORT_OVERDUE)."""
    with refusing("No list of reports owed."):
        owed = due_reports(Evaluation.open(registry_dir, engine, resolve_now(now)))
    if output_format == "json":
        click.echo(json.dumps([d.model_dump(mode="json") for d in owed], indent=1))
        return
    table = Table(title="usage reports owed")
    for column in ("unit", "request", "applicant", "due (UTC)", "state", "days late"):
        table.add_column(column, justify="right" if column == "days late" else "left", no_wrap=True)
    for d in owed:
        style = "red" if d.state == "overdue" else ""
        table.add_row(
            d.unit,
            d.request,
            d.applicant,
            d.due.strftime("%Y-%m-%d %H:%M"),
            f"[{style}]{d.state}[/]" if style else d.state,
            str(d.days_late),
        )
    Console().print(table)
