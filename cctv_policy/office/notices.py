"""The written notice of a decision (R5): approval with scope, conditions, use period and report
due date, or rejection with its reasons. English or Chinese, Markdown or HTML; times in the
campus time zone."""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from cctv_policy.output import printable
from cctv_policy.registry.loader import LoadedRegistry

LABELS = {
    "en": {
        "approved": "Approval notice",
        "rejected": "Rejection notice",
        "request": "Request",
        "applicant": "Applicant",
        "purpose": "Purpose",
        "cameras": "Cameras",
        "footage": "Footage window",
        "mode": "Manner of use",
        "recipients": "Recipients",
        "use": "Use period",
        "conditions": "Conditions",
        "due": "Usage report due",
        "decided": "Decided by",
        "reasons": "Reasons",
        "third_party": "Third party",
        "supervised_by": "Extraction supervised by",
        "watermark": "Copies are watermarked",
        "third_party_allowed": "Handing over to the named third party is allowed",
        "none": "none",
        "to": "to",
        "footer": "Footage may be used only within this scope and period; every access is "
        "logged. Submit the usage report to the security office by the due date.",
        "footer_rejected": "The footage may not be used. You may file a new request that "
        "addresses the reasons above.",
        "view_supervised": "viewing under supervision",
        "export_copy": "exported copy",
        "share_external": "handover to a third party",
    },
    "zh": {
        "approved": "视频监控图像信息使用审批通知",
        "rejected": "视频监控图像信息使用不予批准通知",
        "request": "申请编号",
        "applicant": "申请人",
        "purpose": "使用目的",
        "cameras": "摄像机",
        "footage": "调取时段",
        "mode": "使用方式",
        "recipients": "使用人",
        "use": "使用期限",
        "conditions": "附加条件",
        "due": "使用情况报告截止",
        "decided": "审批人",
        "reasons": "理由",
        "third_party": "第三方",
        "supervised_by": "调取监督人",
        "watermark": "副本加水印",
        "third_party_allowed": "允许向所列第三方提供",
        "none": "无",
        "to": "至",
        "footer": (
            "仅可在批准的范围和期限内使用，所有访问均记录在案。"
            "请在截止日期前向保卫处提交使用情况报告。"
        ),
        "footer_rejected": "不得使用相关视频。可针对上述理由重新提交申请。",
        "view_supervised": "在监督下查看",
        "export_copy": "导出副本",
        "share_external": "向第三方提供",
    },
}


class NoticeError(Exception):
    """No notice can be written (unknown request, or no decision yet)."""


@dataclass
class Notice:
    title: str
    rows: list[tuple[str, str]]
    reasons: list[str]
    footer: str


def build_notice(
    registry: LoadedRegistry, request_id: str, lang: str = "en", invalid: list[str] | None = None
) -> Notice:
    """The notice of a decision. `invalid` lists why an approval is not valid (see
    Evaluation.approval_problems): an invalid approval gets no approval notice."""
    assert registry.config is not None
    t = LABELS[lang]
    request = registry.requests.get(request_id)
    if request is None:
        raise NoticeError(f"no request {request_id} in the registry")
    decision = registry.decisions.get(request_id)
    if decision is None:
        raise NoticeError(f"{request_id} has no decision yet: there is nothing to notify")
    zone = ZoneInfo(registry.config.timezone)

    def when(moment: datetime) -> str:
        return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")

    def person(pid: str) -> str:
        p = registry.people.get(pid)
        return f"{p.name} ({pid}, {p.unit})" if p else pid

    rows = [
        (t["request"], request_id),
        (t["applicant"], person(request.applicant)),
        (t["purpose"], f"{request.purpose.category}: {request.purpose.description}"),
    ]
    if decision.decision == "approved" and invalid:
        raise NoticeError(
            f"the approval of {request_id} is not valid ({'; '.join(invalid)}), "
            "so no approval notice can be issued; the security office must decide "
            f"again with `cctv-policy decide {request_id}`"
        )
    if decision.decision == "rejected":
        rows.append((t["decided"], f"{person(decision.decided_by)}, {when(decision.decided_at)}"))
        return Notice(t["rejected"], rows, list(decision.reasons), t["footer_rejected"])
    scope = decision.scope
    cameras = scope.cameras or request.footage.cameras
    ends = scope.ends or request.use.ends
    camera_names = [
        f"{c} {registry.cameras[c].name}" if c in registry.cameras else c for c in cameras
    ]
    conditions = []
    if decision.conditions.supervised_by:
        conditions.append(f"{t['supervised_by']}: {person(decision.conditions.supervised_by)}")
    if decision.conditions.watermark:
        conditions.append(t["watermark"])
    if decision.conditions.third_party_allowed and request.use.third_party:
        conditions.append(f"{t['third_party_allowed']}: {request.use.third_party.organization}")
    if decision.conditions.notes:
        conditions.append(decision.conditions.notes)
    rows += [
        (t["cameras"], ", ".join(camera_names)),
        (
            t["footage"],
            f"{when(scope.from_ or request.footage.from_)} {t['to']} "
            f"{when(scope.to or request.footage.to)}",
        ),
        (t["mode"], t[request.use.mode.value]),
        (t["recipients"], ", ".join(person(r) for r in request.use.recipients)),
        (t["use"], f"{when(scope.starts or request.use.starts)} {t['to']} {when(ends)}"),
        (t["conditions"], "; ".join(conditions) or t["none"]),
        (t["due"], when(ends + timedelta(days=registry.config.report_due_days))),
        (t["decided"], f"{person(decision.decided_by)}, {when(decision.decided_at)}"),
    ]
    if request.use.third_party:
        tp = request.use.third_party
        rows.append(
            (
                t["third_party"],
                f"{tp.organization}; {tp.legal_basis}"
                + (f"; {tp.case_number}" if tp.case_number else ""),
            )
        )
    return Notice(t["approved"], rows, list(decision.reasons), t["footer"])


def render_markdown(notice: Notice, lang: str = "en") -> str:
    lines = [f"# {notice.title}", "", "| | |", "|---|---|"]
    # Registry text is shown through `printable`: a newline in a name cannot start a line.
    lines += [f"| {k} | {printable(v).replace('|', '/')} |" for k, v in notice.rows]
    if notice.reasons:
        lines += ["", f"## {LABELS[lang]['reasons']}", ""]
        lines += [f"- {printable(r)}" for r in notice.reasons]
    return "\n".join([*lines, "", notice.footer, ""])


def render_html(notice: Notice, lang: str = "en") -> str:
    e = html.escape
    rows = "".join(f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in notice.rows)
    reasons = ""
    if notice.reasons:
        items = "".join(f"<li>{e(r)}</li>" for r in notice.reasons)
        reasons = f"<h2>{e(LABELS[lang]['reasons'])}</h2><ul>{items}</ul>"
    return (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        f"<title>{e(notice.title)}</title><style>body{{font-family:sans-serif;"
        "max-width:48em;margin:2em auto}th{text-align:left;padding-right:1em;"
        "vertical-align:top}</style></head>"
        f"<body><h1>{e(notice.title)}</h1><table>{rows}</table>{reasons}"
        f"<p>{e(notice.footer)}</p></body></html>\n"
    )
