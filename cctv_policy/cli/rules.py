"""`cctv-policy rules`: the rule book as the school publishes it, and what a revision changes."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from cctv_policy.cli.common import now_option, registry_option, resolve_now
from cctv_policy.cli.errors import EXIT_VIOLATIONS, fail, refusing
from cctv_policy.engine import load_policies
from cctv_policy.registry import load_registry
from cctv_policy.rules.book import build_rule_book
from cctv_policy.rules.changes import RevisionUnavailable, notice_markdown, rule_changes
from cctv_policy.rules.render import rule_book_html, rule_book_markdown


@click.command()
@registry_option
@click.option("--lang", type=click.Choice(["zh", "en"]), default="en", show_default=True)
@click.option(
    "--format", "output_format", type=click.Choice(["md", "html"]), default="md", show_default=True
)
@click.option(
    "--changes",
    "base",
    default=None,
    metavar="BASE",
    help="Instead of the rule book: what changed since git revision BASE, in plain words (the "
    "publication notice; Markdown for the pull request's job summary). Exit 1 when the "
    "parameters change and effective_from is missing or already past.",
)
@click.option(
    "--policies",
    "policy_dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Directory of Rego policies (default: the rule book shipped with the tool).",
)
@click.option("--out", type=click.Path(path_type=Path), default=None, help="Write to FILE.")
@now_option
def rules(
    registry_dir: Path,
    lang: str,
    output_format: str,
    base: str | None,
    policy_dir: Path | None,
    out: Path | None,
    now: datetime | None,
) -> None:
    """The published rule book (R13): every rule in plain words with its current parameters
    from config.yaml (retention days, report due days, purposes, private areas...), the
    policy version that checks it and the date it took effect.

    \b
    Examples:
      cctv-policy rules --lang zh --format html --out rules.html
      cctv-policy rules --changes origin/main --lang zh     # the notice of a revision
    """
    with refusing("Nothing was written."):
        policies = load_policies(policy_dir)
        if base is not None:
            _changes(registry_dir, policies.root, base, lang, resolve_now(now), out)
            return
        registry = load_registry(registry_dir)
        if registry.config is None:
            fail("config.yaml cannot be read; `cctv-policy check` says why", 3)
        book = build_rule_book(registry.config, policies.version, lang)
    render = rule_book_html if output_format == "html" else rule_book_markdown
    _emit(render(book), out)


def _changes(
    registry_dir: Path, policy_dir: Path, base: str, lang: str, now: datetime, out: Path | None
) -> None:
    try:
        result = rule_changes(registry_dir, policy_dir, base, lang, now)
    except RevisionUnavailable as exc:
        fail(f"cannot compare with {base!r}: {exc}")
    _emit(notice_markdown(result), out)
    if result.problem:
        fail(result.problem, EXIT_VIOLATIONS)


def _emit(text: str, out: Path | None) -> None:
    if out:
        out.write_text(text, encoding="utf-8")
        click.echo(f"wrote {out}")
    else:
        click.echo(text, nl=False)
