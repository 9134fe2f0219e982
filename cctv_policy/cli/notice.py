"""`cctv-policy notice`: the written approval or rejection notice of a request."""

from __future__ import annotations

from pathlib import Path

import click

from cctv_policy.cli.common import EXIT_VIOLATIONS, fail, registry_option
from cctv_policy.notices import NoticeError, build_notice, render_html, render_markdown
from cctv_policy.registry.loader import RegistryNotFound, load_registry


@click.command()
@click.argument("request_id")
@registry_option
@click.option("--lang", type=click.Choice(["en", "zh"]), default="en", show_default=True)
@click.option("--format", "output_format", type=click.Choice(["md", "html"]), default="md",
              show_default=True)
@click.option("--out", type=click.Path(path_type=Path), default=None)
def notice(request_id: str, registry_dir: Path, lang: str, output_format: str,
           out: Path | None) -> None:
    """Write the notice of REQUEST_ID's decision: the approved scope, conditions, use period
    and report due date, or the rejection with its reasons (R5). Exit 1 if not decided yet."""
    try:
        registry = load_registry(registry_dir)
        built = build_notice(registry, request_id, lang)
    except RegistryNotFound as exc:
        fail(str(exc))
    except NoticeError as exc:
        fail(str(exc), EXIT_VIOLATIONS)
    text = (render_html if output_format == "html" else render_markdown)(built, lang)
    if out:
        out.write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=False)
