"""`cctv-policy decide`: the security office writes a decision that pins its request."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from cctv_policy.cli.common import engine_options, now_option, registry_option, resolve_now
from cctv_policy.cli.errors import fail, refusing
from cctv_policy.engine import EngineChoice
from cctv_policy.office.decide import DecideRefused, DecisionDraft, decide, parse_narrow
from cctv_policy.office.notices import build_notice, render_markdown
from cctv_policy.registry.loader import load_registry
from cctv_policy.rulebook.evaluation import Evaluation


@click.command("decide")
@click.argument("request_id")
@click.option(
    "--approve/--reject",
    "approve",
    default=None,
    help="Approve the request, or reject it (a rejection needs --reason).",
)
@click.option(
    "--by",
    "decided_by",
    required=True,
    metavar="PERSON",
    help="The security officer deciding (not the applicant, not a recipient).",
)
@click.option(
    "--reason",
    "reasons",
    multiple=True,
    metavar="TEXT",
    help="Why (repeatable). Required for a rejection (R5).",
)
@click.option(
    "--supervisor",
    default=None,
    metavar="PERSON",
    help="Who must supervise extraction of this footage (conditions.supervised_by).",
)
@click.option(
    "--narrow",
    multiple=True,
    metavar="KEY=VALUE",
    help="Approve less than asked: cameras=A,B  from=T  to=T  starts=T  ends=T "
    "(repeatable; times RFC 3339 with offset).",
)
@click.option(
    "--allow-third-party",
    is_flag=True,
    help="Allow handing the footage to the third party the request names (R6).",
)
@click.option("--watermark", is_flag=True, help="Copies must be watermarked.")
@click.option("--note", default="", help="A condition in words (conditions.notes).")
@click.option(
    "--replace",
    is_flag=True,
    help="Decide again a request that already has a decision (e.g. a stale one).",
)
@click.option(
    "--lang",
    type=click.Choice(["en", "zh"]),
    default="en",
    show_default=True,
    help="Language of the notice printed after writing.",
)
@registry_option
@now_option
@engine_options
def decide_command(
    request_id: str,
    approve: bool | None,
    decided_by: str,
    reasons: tuple[str, ...],
    supervisor: str | None,
    narrow: tuple[str, ...],
    allow_third_party: bool,
    watermark: bool,
    note: str,
    replace: bool,
    lang: str,
    registry_dir: Path,
    now: datetime | None,
    engine: EngineChoice,
) -> None:
    """Write decisions/REQUEST_ID.yaml: approve or reject a request, pinned to its content.

    The decision records request_sha256, the SHA-256 of the request as decided: if the request
    is edited afterwards the decision is stale (DECISION_STALE) and grants nothing until the
    security office decides again. Before writing, the rule book is run over the registry with
    the new decision: what `check` would reject is refused and nothing is written. The written
    notice is printed afterwards. Commit the file yourself (your commit is the provenance).

    \b
    Exit codes:
      0  written
      1  refused: the decision (or, for an approval, the request) breaks the rule book
      2  the tool could not run (bad flags, missing registry or request, engine error)

    \b
    Examples:
      cctv-policy decide REQ-2026-0042 --approve --by h.liu --supervisor s.zhou \\
          --reason "Theft reported to the security office the same day"
      cctv-policy decide REQ-2026-0038 --approve --by s.zhou \\
          --narrow cameras=CAM-SPT-01,CAM-SPT-02 --narrow ends=2026-11-24T17:00:00+08:00
      cctv-policy decide REQ-2026-0027 --reject --by h.liu \\
          --reason "Attendance is not a permitted use of surveillance footage"
    """
    if approve is None:
        fail("say --approve or --reject")

    def list_violations(error: Exception) -> None:
        for v in error.violations if isinstance(error, DecideRefused) else []:
            click.echo(f"  {v.code} [{v.subject}] {v.message}", err=True)

    with refusing("Nothing was written.", list_violations):
        before = Evaluation.open(registry_dir, engine, resolve_now(now))
        if not before.registry.core_readable:
            fail(
                "config.yaml, people.yaml, cameras.yaml or storage.yaml cannot be read; run "
                "`cctv-policy check` and fix them first"
            )
        draft = DecisionDraft(
            request_id,
            approve,
            decided_by,
            list(reasons),
            before.now,
            supervisor,
            parse_narrow(narrow),
            allow_third_party,
            watermark,
            note,
        )
        path = decide(before.registry, before.engine, before.policy_version, draft, replace)
    with refusing(f"{path} was written, but its notice could not be made."):
        # The registry as written now, with the new decision (read back, not assumed).
        after = Evaluation(
            load_registry(registry_dir), before.engine, before.now, before.policy_version
        )
        invalid = after.approval_problems(request_id) if approve else []
        notice = build_notice(after.registry, request_id, lang, invalid)
    click.echo(f"wrote {path}", err=True)
    click.echo(render_markdown(notice, lang), nl=False)
