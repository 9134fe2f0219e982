"""A new footage request from answers: the next free id, the applicant's unit, times in the
campus time zone written with their offset. Used by `new request` (prompts or flags) and by the
issue-form conversion, so both write the same file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from cctv_policy.registry import writer
from cctv_policy.registry.loader import LoadedRegistry
from cctv_policy.registry.models import Role
from cctv_policy.registry.types import DOCUMENT_ID, parse_rfc3339


class IntakeRefused(Exception):
    """The answers cannot make a request (unknown person, camera or purpose, a bad time)."""


@dataclass
class Answers:
    applicant: str
    purpose: str
    description: str
    cameras: list[str]
    footage_from: str
    footage_to: str
    mode: str
    recipients: list[str]
    starts: str
    ends: str
    organization: str = ""
    legal_basis: str = ""
    case_number: str = ""
    request_id: str | None = None
    problems: list[str] = field(default_factory=list)


MODES = ("view_supervised", "export_copy", "share_external")
_LOCAL = re.compile(r"^\s*(\d{4}-\d{2}-\d{2})[ T](\d{1,2}):(\d{2})(?::(\d{2}))?\s*$")


def campus_zone(registry: LoadedRegistry) -> ZoneInfo:
    return ZoneInfo(registry.config.timezone if registry.config else "UTC")


def local_time(text: str, zone: ZoneInfo) -> datetime:
    """`2026-11-24 08:00` in the campus time zone, or a full time with its offset."""
    match = _LOCAL.match(text)
    if match:
        day, hour, minute, second = match.groups()
        naive = datetime.fromisoformat(f"{day}T{int(hour):02d}:{minute}:{second or '00'}")
        return naive.replace(tzinfo=zone)
    try:
        return parse_rfc3339(text.strip())
    except ValueError:
        raise IntakeRefused(
            f"{text!r} is not a time like 2026-11-24 08:00 (campus time) / "
            f"不是像 2026-11-24 08:00 这样的时间"
        ) from None


def next_request_id(registry: LoadedRegistry, year: int) -> str:
    """REQ-<year>-<number>: one more than the highest number filed that year (files included
    that could not be read, so an id is never given twice)."""
    taken = set(registry.requests) | registry.unreadable.get("request", set())
    taken |= {p.stem for p in (registry.root / "requests").glob("*.y*ml")}
    numbers = [int(m[1]) for i in taken if (m := re.fullmatch(rf"REQ-{year}-(\d+)", i))]
    return f"REQ-{year}-{max(numbers, default=0) + 1:04d}"


def checked_request_id(request_id: str) -> str:
    """The id as given, if it is a registry document id (it becomes a file name): nothing
    else, no dot, slash or lower case, ever reaches a path. Raises IntakeRefused."""
    if not re.fullmatch(DOCUMENT_ID, request_id):
        raise IntakeRefused(
            f"--id {request_id!r} is not a request id like REQ-2026-0042 (capital letters, "
            "digits and dashes) / 不是有效的申请编号"
        )
    return request_id


def request_document(
    registry: LoadedRegistry, answers: Answers, submitted_at: datetime, request_id: str
) -> dict[str, object]:
    """The request's fields in the order people read them. Raises IntakeRefused."""
    checked_request_id(request_id)
    _require_known(registry, answers)
    zone = campus_zone(registry)

    def when(text: str) -> object:
        return writer.timestamp(local_time(text, zone), zone)

    use: dict[str, object] = {
        "mode": answers.mode,
        "recipients": writer.flow_list(list(answers.recipients)),
        "starts": when(answers.starts),
        "ends": when(answers.ends),
    }
    if answers.mode == "share_external" or answers.organization:
        use["third_party"] = {
            "organization": writer.text(answers.organization),
            "legal_basis": writer.text(answers.legal_basis),
            "case_number": writer.text(answers.case_number),
        }
    return {
        "id": request_id,
        "applicant": answers.applicant,
        "unit": registry.people[answers.applicant].unit,
        "submitted_at": writer.timestamp(submitted_at, zone),
        "purpose": {"category": answers.purpose, "description": writer.text(answers.description)},
        "footage": {
            "cameras": writer.flow_list(list(answers.cameras)),
            "from": when(answers.footage_from),
            "to": when(answers.footage_to),
        },
        "use": use,
    }


def _require_known(registry: LoadedRegistry, answers: Answers) -> None:
    problems = []
    for person in (answers.applicant, *answers.recipients):
        if person not in registry.people:
            problems.append(f"person {person!r} is not in people.yaml / 人员编号不存在")
    for camera in answers.cameras:
        if camera not in registry.cameras:
            problems.append(f"camera {camera!r} is not in cameras.yaml / 摄像头编号不存在")
    purposes = registry.config.allowed_purposes if registry.config else []
    if answers.purpose not in purposes:
        problems.append(
            f"purpose {answers.purpose!r} is not one of {', '.join(purposes)} / 用途不在允许范围内"
        )
    if answers.mode not in MODES:
        problems.append(f"mode {answers.mode!r} is not one of {', '.join(MODES)}")
    if not answers.cameras or not answers.recipients:
        problems.append("at least one camera and one recipient / 至少一个摄像头和一位查看人员")
    if problems:
        raise IntakeRefused("; ".join(problems))


def require_filed_by(registry: LoadedRegistry, applicant: str, login: str) -> None:
    """An issue-form request is the applicant's only if their GitHub account filed it (or a
    security officer's, filing for them). Raises IntakeRefused."""
    filers = {
        person.id
        for person in registry.people.values()
        if person.github and person.github.lower() == login.lower()
    }
    officers = {
        person.id for person in registry.people.values() if Role.security_office in person.roles
    }
    if applicant in filers or filers & officers:
        return
    who = ", ".join(sorted(filers)) or "nobody in people.yaml (no person has this github login)"
    raise IntakeRefused(
        f"the issue was filed by GitHub account {login!r}, which is {who}, not the applicant "
        f"{applicant} (people.yaml `github:`); an applicant files their own request / 提交该 "
        f"issue 的 GitHub 账号 {login!r} 不是申请人 {applicant} 本人（见 people.yaml 的 "
        "github），申请须由申请人本人提交"
    )


def write_request(registry: LoadedRegistry, document: dict[str, object]) -> Path:
    """Write requests/<id>.yaml (never over an existing file), with its schema modeline."""
    from ruamel.yaml.comments import CommentedMap

    path = registry.root / "requests" / f"{checked_request_id(str(document['id']))}.yaml"
    if path.exists():
        raise IntakeRefused(f"{path} already exists / 文件已存在")
    path.parent.mkdir(exist_ok=True)
    text = writer.dump(writer.update(CommentedMap(), document))
    text += "# yaml-language-server: $schema=../schemas/request.schema.json\n"
    with path.open("x", encoding="utf-8") as out:
        out.write(text)
    return path


# The issue form's questions, by answer field: one table for the form and its conversion
# (.github/ISSUE_TEMPLATE/footage-request.yml uses these labels; a test keeps them equal).
FORM_LABELS = {
    "applicant": "申请人编号 / Applicant id",
    "purpose": "用途 / Purpose",
    "description": "原因 / Reason",
    "cameras": "摄像头编号 / Camera ids",
    "footage_from": "录像开始 / Footage from",
    "footage_to": "录像结束 / Footage to",
    "mode": "使用方式 / Use",
    "recipients": "查看人员编号 / Recipients",
    "starts": "使用期开始 / Use starts",
    "ends": "使用期结束 / Use ends",
    "organization": "校外单位 / Third party",
    "legal_basis": "法律依据 / Legal basis",
    "case_number": "案件编号 / Case number",
}
_LISTS = ("cameras", "recipients")


def answers_from_issue(body: str) -> Answers:
    """Answers from a filed issue form (`### label` then the answer). Raises IntakeRefused."""
    sections: dict[str, str] = {}
    for block in re.split(r"^### ", body, flags=re.MULTILINE)[1:]:
        label, _, value = block.partition("\n")
        value = value.strip()
        sections[label.strip()] = "" if value == "_No response_" else value
    values: dict[str, object] = {}
    for key, label in FORM_LABELS.items():
        text = sections.get(label, "")
        values[key] = [v for v in re.split(r"[\s,，、]+", text) if v] if key in _LISTS else text
    missing = [
        FORM_LABELS[k]
        for k in FORM_LABELS
        if k not in ("organization", "legal_basis", "case_number") and not values[k]
    ]
    if missing:
        raise IntakeRefused("the form leaves out: " + ", ".join(missing))
    return Answers(**values)  # type: ignore[arg-type]  # keys and types follow FORM_LABELS
