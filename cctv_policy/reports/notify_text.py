"""The words of each notice (#28): Chinese first, then English, times in campus time with the
zone named (never an abbreviation). One function per kind of notice; each returns the title and
the Markdown body that e-mail and the webhooks carry."""

from __future__ import annotations

from datetime import datetime

from cctv_policy.campus_time import campus_time
from cctv_policy.output import printable

Text = tuple[str, str]  # (title, body)


def _both(zh_title: str, en_title: str, zh: list[str], en: list[str]) -> Text:
    title = f"【视频监控】{zh_title} / {en_title}"
    body = "\n".join([f"## {zh_title}", "", *zh, "", f"## {en_title}", "", *en, ""])
    return title, body


def report_overdue(request: str, applicant: str, due: datetime, days: int, zone: str) -> Text:
    request, applicant = printable(request), printable(applicant)
    return _both(
        f"使用情况报告逾期：{request}",
        f"Usage report overdue: {request}",
        [
            f"申请 {request}（申请人 {applicant}）的使用情况报告应于 "
            f"{campus_time(due, zone, 'zh')} 前提交，已逾期 {days} 天（规则 R11）。",
            "请尽快在 reports/ 中提交报告；在此之前该申请人的新申请不予受理。",
        ],
        [
            f"The usage report for {request} (applicant {applicant}) was due by "
            f"{campus_time(due, zone, 'en')} and is {days} day(s) overdue (rule R11).",
            "Please file it in reports/; new requests by this applicant are refused until then.",
        ],
    )


def camera_silent(camera: str, name: str, newest: datetime | None, hours: int, zone: str) -> Text:
    camera, name = printable(camera), printable(name)
    since_zh = f"自 {campus_time(newest, zone, 'zh')} 起" if newest else "存储上完全"
    since_en = f"since {campus_time(newest, zone, 'en')}" if newest else "at all on its storage"
    return _both(
        f"摄像头无录像：{camera}",
        f"Camera silent: {camera}",
        [
            f"摄像头 {camera}（{name}）{since_zh}没有录像（超过 {hours} 小时，规则 R2/R12）。",
            "请检查摄像头及其录像机；如需等待配件，可由保卫处登记豁免（waivers/）。",
        ],
        [
            f"Camera {camera} ({name}) has recorded nothing {since_en} "
            f"(over {hours} hours, rules R2/R12).",
            "Please check the camera and its recorder; if it awaits a part, the security "
            "office can record a waiver (waivers/).",
        ],
    )


def maintenance_overdue(camera: str, name: str, last: datetime, every: int, zone: str) -> Text:
    camera, name = printable(camera), printable(name)
    return _both(
        f"摄像头维护逾期：{camera}",
        f"Camera service overdue: {camera}",
        [
            f"摄像头 {camera}（{name}）上次由技术人员维护（或安装）是在 "
            f"{campus_time(last, zone, 'zh')}，超过了每 {every} 天一次的要求（规则 R2）。",
            "请安排维护，并在 maintenance/ 中登记。",
        ],
        [
            f"Camera {camera} ({name}) was last serviced (or installed) "
            f"{campus_time(last, zone, 'en')}; the rule book asks for a service every "
            f"{every} days (rule R2).",
            "Please service it and record the work in maintenance/.",
        ],
    )


def request_pending(request: str, applicant: str, submitted: datetime, zone: str) -> Text:
    request, applicant = printable(request), printable(applicant)
    return _both(
        f"申请待审批：{request}",
        f"Request awaiting decision: {request}",
        [
            f"{applicant} 于 {campus_time(submitted, zone, 'zh')} 提交的申请 {request} "
            "尚未审批（规则 R5）。",
            f"请保卫处审核：cctv-policy decide {request}",
        ],
        [
            f"Request {request} by {applicant}, filed {campus_time(submitted, zone, 'en')}, "
            "has no decision yet (rule R5).",
            f"The security office reviews it: cctv-policy decide {request}",
        ],
    )


def apply_refused(event: str, at: datetime, reason: str, zone: str) -> Text:
    event, reason = printable(event), printable(reason)[:500]
    return _both(
        "存储执行被拒绝或失败",
        "Enforcement (apply) refused or failed",
        [
            f"{campus_time(at, zone, 'zh')}，apply 记录了 {event}：{reason}",
            "请查看审计日志（cctv-policy audit）并处理原因。",
        ],
        [
            f"At {campus_time(at, zone, 'en')} apply logged {event}: {reason}",
            "Please read the audit log (cctv-policy audit) and fix the cause.",
        ],
    )
