"""`cctv-policy notice`: the written approval or rejection notice of a request."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from cctv_policy.cli.common import engine_options, now_option, registry_option, resolve_now
from cctv_policy.cli.errors import refusing
from cctv_policy.engine import EngineChoice
from cctv_policy.office.notices import build_notice, render_html, render_markdown
from cctv_policy.rulebook.evaluation import Evaluation


@click.command()
@click.argument("request_id")
@registry_option
@click.option("--lang", type=click.Choice(["en", "zh"]), default="en", show_default=True)
@click.option(
    "--format", "output_format", type=click.Choice(["md", "html"]), default="md", show_default=True
)
@click.option("--out", type=click.Path(path_type=Path), default=None)
@now_option
@engine_options
def notice(
    request_id: str,
    registry_dir: Path,
    lang: str,
    output_format: str,
    out: Path | None,
    now: datetime | None,
    engine: EngineChoice,
) -> None:
    """Write the notice of REQUEST_ID's decision: the approved scope, conditions, use period
    and report due date, or the rejection with its reasons (R5). Exit 1 if not decided yet,
    or if the approval is not valid (stale, or breaking the rule book)."""
    with refusing("No notice was written."):
        evaluation = Evaluation.open(registry_dir, engine, resolve_now(now))
        registry = evaluation.registry
        invalid = (
            evaluation.approval_problems(request_id)
            if request_id in registry.decisions and registry.core_readable
            else []
        )
        built = build_notice(registry, request_id, lang, invalid)
    text = (render_html if output_format == "html" else render_markdown)(built, lang)
    if out:
        out.write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=False)
