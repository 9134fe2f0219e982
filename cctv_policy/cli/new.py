"""`cctv-policy new request`: write a footage request by answering questions (or by flags)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import click

from cctv_policy.checks.renderers import RENDERERS
from cctv_policy.cli.common import (
    engine_options,
    lang_option,
    now_option,
    registry_option,
    resolve_now,
)
from cctv_policy.cli.errors import EXIT_BAD_INPUT, EXIT_OK, EXIT_VIOLATIONS, fail, refusing
from cctv_policy.engine import EngineChoice
from cctv_policy.messages import Language, Text, language
from cctv_policy.office.intake import (
    MODES,
    Answers,
    IntakeRefused,
    answers_from_issue,
    campus_zone,
    checked_request_id,
    next_request_id,
    request_document,
    require_filed_by,
    write_request,
)
from cctv_policy.registry.loader import LoadedRegistry, load_registry
from cctv_policy.rulebook.evaluation import Evaluation

PROMPTS = {
    "applicant": Text("Applicant (person id)", "申请人（人员编号）"),
    "purpose": Text("Purpose", "用途"),
    "description": Text("Reason, in one sentence", "原因（一句话）"),
    "cameras": Text(
        "Cameras (ids or numbers, comma separated)", "摄像头（编号或序号，用逗号分隔）"
    ),
    "footage_from": Text(
        "Footage from (campus time, e.g. 2026-11-24 08:00)",
        "录像开始时间（校园时间，例如 2026-11-24 08:00）",
    ),
    "footage_to": Text("Footage to", "录像结束时间"),
    "mode": Text("Use", "使用方式"),
    "recipients": Text(
        "Who views it (person ids, comma separated)", "查看人员（人员编号，用逗号分隔）"
    ),
    "starts": Text("Use starts", "使用期开始"),
    "ends": Text("Use ends", "使用期结束"),
    "organization": Text("Third party (organization)", "校外单位名称"),
    "legal_basis": Text("Legal basis", "法律依据"),
    "case_number": Text("Case number", "案件编号"),
}


_FLAGS = {
    "cameras": "--camera",
    "recipients": "--recipient",
    "footage_from": "--from",
    "footage_to": "--to",
}


class _Asker:
    """Each answer from its flag, else from a prompt on a terminal, else a usage error."""

    def __init__(self, lang: Language, interactive: bool) -> None:
        self.lang = lang
        self.interactive = interactive

    def one(self, key: str, given: str | None, choices: Sequence[tuple[str, str]] = ()) -> str:
        if given:
            return given
        flag = _FLAGS.get(key, "--" + key.replace("_", "-"))
        if not self.interactive:
            raise click.UsageError(f"{flag} is needed (no terminal to ask on)")
        for number, (value, label) in enumerate(choices, start=1):
            click.echo(f"  {number:>2}. {value}  {label}")
        answer: str = click.prompt(PROMPTS[key].get(self.lang))
        return _by_number(answer.strip(), choices)

    def many(
        self, key: str, given: tuple[str, ...], choices: Sequence[tuple[str, str]] = ()
    ) -> list[str]:
        if given:
            return list(given)
        text = self.one(key, None, choices)
        return [
            _by_number(part.strip(), choices)
            for part in text.replace("，", ",").split(",")
            if part.strip()
        ]


def _by_number(answer: str, choices: Sequence[tuple[str, str]]) -> str:
    if answer.isdigit() and 1 <= int(answer) <= len(choices):
        return choices[int(answer) - 1][0]
    return answer


def _answers(registry: LoadedRegistry, ask: _Asker, flags: dict[str, object]) -> Answers:
    people = [(p.id, f"{p.name} ({p.unit})") for p in registry.people.values()]
    cameras = [(c.id, f"{c.name} — {c.location}") for c in registry.cameras.values()]
    purposes = [(p, "") for p in (registry.config.allowed_purposes if registry.config else [])]

    def text(key: str) -> str | None:
        value = flags.get(key)
        return value if isinstance(value, str) else None

    def listed(key: str) -> tuple[str, ...]:
        value = flags.get(key)
        return tuple(value) if isinstance(value, tuple) else ()

    answers = Answers(
        applicant=ask.one("applicant", text("applicant"), people),
        purpose=ask.one("purpose", text("purpose"), purposes),
        description=ask.one("description", text("description")),
        cameras=ask.many("cameras", listed("cameras"), cameras),
        footage_from=ask.one("footage_from", text("footage_from")),
        footage_to=ask.one("footage_to", text("footage_to")),
        mode=ask.one("mode", text("mode"), [(m, "") for m in MODES]),
        recipients=[],
        starts="",
        ends="",
    )
    answers.recipients = list(listed("recipients"))
    if not answers.recipients:
        asked = ask.many("recipients", (), people) if ask.interactive else []
        answers.recipients = asked or [answers.applicant]
    answers.starts = ask.one("starts", text("starts"))
    answers.ends = ask.one("ends", text("ends"))
    if answers.mode == "share_external":
        answers.organization = ask.one("organization", text("organization"))
        answers.legal_basis = ask.one("legal_basis", text("legal_basis"))
        answers.case_number = ask.one("case_number", text("case_number"))
    return answers


@click.group("new")
def new() -> None:
    """Write a new registry document by answering questions.

    \b
    Examples:
      cctv-policy new request                 # asks every question (Chinese with --lang zh)
      cctv-policy new request --help          # every question is also a flag
    """


@new.command("request")
@registry_option
@click.option("--applicant", metavar="PERSON", help="The applicant's person id (people.yaml).")
@click.option("--purpose", metavar="CATEGORY", help="One of config.yaml allowed_purposes.")
@click.option("--description", metavar="TEXT", help="Why, in one sentence.")
@click.option("--camera", "cameras", multiple=True, metavar="ID", help="A camera (repeatable).")
@click.option("--from", "footage_from", metavar="TIME", help="Footage from (campus time).")
@click.option("--to", "footage_to", metavar="TIME", help="Footage to (campus time).")
@click.option("--mode", type=click.Choice(MODES), help="How the footage is used.")
@click.option(
    "--recipient",
    "recipients",
    multiple=True,
    metavar="PERSON",
    help="Who views it (repeatable; default: the applicant).",
)
@click.option("--starts", metavar="TIME", help="Use period starts (campus time).")
@click.option("--ends", metavar="TIME", help="Use period ends (campus time).")
@click.option("--organization", metavar="TEXT", help="share_external: the third party.")
@click.option("--legal-basis", metavar="TEXT", help="share_external: the legal basis.")
@click.option("--case-number", metavar="TEXT", help="share_external: the case number.")
@click.option("--id", "request_id", metavar="ID", help="Default: the next free REQ-<year>-NNNN.")
@click.option(
    "--from-issue",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="Take the answers from a filed issue form's body (the footage-request form).",
)
@click.option(
    "--filed-by",
    metavar="LOGIN",
    help="With --from-issue (required): the GitHub account that filed the issue; it must be "
    "the applicant's `github` in people.yaml (or a security officer's).",
)
@lang_option
@now_option
@engine_options
def new_request(
    registry_dir: Path,
    request_id: str | None,
    from_issue: Path | None,
    filed_by: str | None,
    lang: str | None,
    now: datetime | None,
    engine: EngineChoice,
    **flags: object,
) -> None:
    """Write requests/<id>.yaml from answers, then check it.

    Asks each question on a terminal (choices come from the registry: people, cameras by name
    and location, purposes from config.yaml); every question is also a flag, and without a
    terminal a missing flag is an error. Times are read in the campus time zone
    (config.yaml `timezone`) and written with their offset; `submitted_at` is now.

    \b
    Exit codes:
      0  written, and `check` finds no problem in it
      1  written, but `check` reports problems in it (shown; fix the file)
      2  the tool could not run (bad flags, no registry)
      3  not written: an answer names an unknown person, camera or purpose, or a bad time

    \b
    Examples:
      cctv-policy new request --lang zh
      cctv-policy new request --applicant t.wang --purpose lost_property \\
          --description "Bag lost at the main gate" --camera CAM-GATE-01 \\
          --from "2026-11-24 16:00" --to "2026-11-24 17:00" --mode view_supervised \\
          --starts "2026-11-26 09:00" --ends "2026-11-26 17:00"
      cctv-policy new request --from-issue issue-body.md --filed-by t-wang  # issue form
    """
    if from_issue is not None and not filed_by:
        fail("--from-issue needs --filed-by LOGIN, the GitHub account that filed the issue")
    with refusing("No request was written."):
        registry = load_registry(registry_dir)
    chosen = language(lang, registry.config.language if registry.config else None)
    moment = resolve_now(now)
    try:
        if request_id is not None:
            checked_request_id(request_id)  # before anything else: it becomes a path
        if from_issue is not None:
            answers = answers_from_issue(from_issue.read_text(encoding="utf-8"))
            require_filed_by(registry, answers.applicant, filed_by or "")
        else:
            answers = _answers(registry, _Asker(chosen, sys.stdin.isatty()), flags)
        year = moment.astimezone(campus_zone(registry)).year
        document = request_document(
            registry, answers, moment, request_id or next_request_id(registry, year)
        )
        path = write_request(registry, document)
    except IntakeRefused as exc:
        fail(f"{exc}\nNo request was written.", EXIT_BAD_INPUT)
    click.echo(str(path))
    raise SystemExit(_check_written(registry_dir, path, engine, moment, chosen))


def _check_written(
    registry_dir: Path, path: Path, engine: EngineChoice, now: datetime, lang: Language
) -> int:
    with refusing("The request was written but could not be checked."):
        result = Evaluation.open(registry_dir, engine, now).check()
    own = f"requests/{path.name}"
    result.violations = [v for v in result.violations if v.file == own]
    result = result.localized(lang)
    if not result.violations:
        return EXIT_OK
    click.echo(RENDERERS["text"](result, str(registry_dir)), err=True)
    return EXIT_VIOLATIONS
