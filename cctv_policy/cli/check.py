"""`cctv-policy check`: the pull-request gate."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from cctv_policy.checks.changes import changed_files
from cctv_policy.checks.renderers import RENDERERS
from cctv_policy.cli.common import (
    Timestamp,
    engine_options,
    lang_option,
    now_option,
    registry_option,
    resolve_now,
)
from cctv_policy.cli.errors import EXIT_BAD_INPUT, EXIT_OK, EXIT_VIOLATIONS, refusing
from cctv_policy.engine import EngineChoice
from cctv_policy.messages import language
from cctv_policy.provenance.check import check_provenance
from cctv_policy.rulebook.check import CheckResult
from cctv_policy.rulebook.evaluation import Evaluation


@click.command()
@registry_option
@now_option
@click.option(
    "--format",
    "output_format",
    type=click.Choice(sorted(RENDERERS)),
    default="text",
    show_default=True,
    help="text for people (file:line first); json for machines; "
    "github annotations; sarif for code scanning; junit; gitlab Code Quality.",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help="Write the report to this file instead of standard output.",
)
@click.option(
    "--verify-provenance",
    is_flag=True,
    help="Also check in git history that each decision and hold was written (authored "
    "and committed, and signed if config requires) by the person it names, that "
    "no request is backdated, and that CODEOWNERS covers every trust root.",
)
@click.option(
    "--trust-base",
    default="HEAD",
    show_default=True,
    metavar="REF",
    help="With --verify-provenance: the commit whose people.yaml and config.yaml say "
    "who may act (in a pull request: its base, never the branch under review).",
)
@click.option(
    "--opened-at",
    type=Timestamp(),
    default=None,
    metavar="T",
    help="With --verify-provenance: when the pull request was opened (GitHub's "
    "clock): a request it adds counts as filed no earlier (REQUEST_BACKDATED).",
)
@click.option(
    "--changed-since",
    default=None,
    metavar="REF",
    help="Report the problems in files changed since REF (git, e.g. the pull request's "
    "base) first; --format github annotates only those and counts the rest.",
)
@click.option(
    "--fail-on-warn",
    is_flag=True,
    help="Exit 1 on warnings too (waived warnings do not count), for schools that want "
    "every warning fixed or waived by the security office.",
)
@lang_option
@engine_options
def check(
    registry_dir: Path,
    now: datetime | None,
    output_format: str,
    out: Path | None,
    verify_provenance: bool,
    trust_base: str,
    opened_at: datetime | None,
    changed_since: str | None,
    fail_on_warn: bool,
    lang: str | None,
    engine: EngineChoice,
) -> None:
    """Check the registry against the rule book.

    Loads every YAML file of the registry (config, people, cameras, storage, requests,
    decisions, reports, holds), evaluates all policies once with the chosen engine and reports
    each violation with its stable code, file and line.

    \b
    Exit codes:
      0  no errors (warnings may be present, unless --fail-on-warn)
      1  the registry breaks the rule book (violations of severity error; with
         --fail-on-warn also warnings that no waiver in force sets aside)
      2  the tool could not run (bad flags, missing registry, engine unavailable)
      3  bad input: a file is not valid YAML, breaks the schema, repeats an id or
         names something that does not exist (E_* codes)

    \b
    Examples:
      cctv-policy check
      cctv-policy check --now 2026-11-25T09:00:00+08:00 --format json
      cctv-policy check --lang zh                # messages in Chinese
      cctv-policy check --fail-on-warn           # warnings fail too (unless waived)
      cctv-policy check --format github          # in a GitHub workflow
      cctv-policy check --format github --changed-since origin/main  # the PR's files first
      cctv-policy check --format gitlab --out gl-code-quality-report.json  # GitLab MR widget
      cctv-policy check --verify-provenance --trust-base origin/main
      cctv-policy check --engine opa --opa-url http://127.0.0.1:8181
    """
    with refusing("No result: a check that could not run is not a pass."):
        evaluation = Evaluation.open(registry_dir, engine, resolve_now(now))
        result = evaluation.check()
        if verify_provenance and evaluation.registry.core_readable:
            result.add(check_provenance(evaluation.registry, trust_base, evaluation.now, opened_at))
        if changed_since:
            result.focus = frozenset(changed_files(registry_dir, changed_since))
    config = evaluation.registry.config
    result = result.localized(language(lang, config.language if config else None))
    rendered = RENDERERS[output_format](result, str(registry_dir))
    if out:
        out.write_text(rendered + "\n", encoding="utf-8")
    else:
        click.echo(rendered)
    raise SystemExit(exit_code(result, fail_on_warn))


def exit_code(result: CheckResult, fail_on_warn: bool = False) -> int:
    if result.has_input_errors:
        return EXIT_BAD_INPUT
    if result.errors or (fail_on_warn and result.warnings):
        return EXIT_VIOLATIONS
    return EXIT_OK
