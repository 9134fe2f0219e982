"""The rule book as the school publishes it (R13): every rule in plain words with its current
parameters from config.yaml, the policy version that enforces it and when it took effect."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from cctv_policy.registry.models import Config

Lang = str  # "en" | "zh"

# Names of the purposes and zones the demo campus uses; any other slug is shown as written.
TERMS: dict[Lang, dict[str, str]] = {
    "en": {},
    "zh": {
        "incident_investigation": "事件调查",
        "safety_emergency": "安全紧急情况",
        "lost_property": "失物查找",
        "disciplinary_hearing": "纪律处分听证",
        "law_enforcement_request": "执法机关调取",
        "insurance_claim": "保险理赔",
        "dormitory_interior": "宿舍内部",
        "staff_office": "教职工办公室",
        "restroom": "卫生间",
        "changing_room": "更衣室",
        "medical_room": "医务室",
    },
}

LABELS: dict[Lang, dict[str, str]] = {
    "en": {
        "title": "CCTV footage rules",
        "effective": "In effect from",
        "not_dated": "not dated (config.yaml has no effective_from)",
        "version": "Policy version",
        "enforced_by": "checked as",
        "sep": ", ",
    },
    "zh": {
        "title": "视频监控图像信息使用登记制度",
        "effective": "生效时间",
        "not_dated": "未注明（config.yaml 未填写 effective_from）",
        "version": "策略版本",
        "enforced_by": "检查代码",
        "sep": "、",
    },
}

# (number, codes that enforce it, {lang: (title, text)}); texts take config fields by name.
RULES: list[tuple[str, tuple[str, ...], dict[Lang, tuple[str, str]]]] = [
    (
        "R1",
        ("CAMERA_PRIVATE_AREA",),
        {
            "en": (
                "No cameras in private areas",
                "Cameras are never installed in: {private_zones}.",
            ),
            "zh": ("私密场所不得安装摄像头", "以下场所一律不得安装摄像头：{private_zones}。"),
        },
    ),
    (
        "R2",
        (
            "CAMERA_UNCERTIFIED_INSTALLER",
            "CAMERA_MAINTENANCE_OVERDUE",
            "MAINTENANCE_NOT_TECHNICIAN",
        ),
        {
            "en": (
                "Installed and maintained by technicians",
                "Cameras are installed and serviced by certified technicians; every camera is "
                "serviced at least every {maintenance_interval_days} days and each service is "
                "recorded.",
            ),
            "zh": (
                "由专业技术人员安装和维护",
                "摄像头由持证技术人员安装和维护；每台摄像头至少每 {maintenance_interval_days} "
                "天维护一次，每次维护均须登记。",
            ),
        },
    ),
    (
        "R3",
        ("REQUEST_FOOTAGE_BEYOND_RETENTION",),
        {
            "en": (
                "Footage kept {retention_days} days",
                "Footage is kept {retention_days} days and then deleted; footage under an "
                "approved request or a security-office hold is kept until that ends.",
            ),
            "zh": (
                "录像保存 {retention_days} 天",
                "录像保存 {retention_days} 天后定期删除；经批准的调取申请或保卫处保全所涉及的录像"
                "保留至其结束。",
            ),
        },
    ),
    (
        "R4",
        ("REQUEST_NOT_IN_ADVANCE", "REQUEST_USE_TOO_LONG", "REQUEST_PURPOSE_NOT_ALLOWED"),
        {
            "en": (
                "Written request in advance",
                "Anyone who needs footage files a written request in advance, naming the "
                "purpose, the time limit and the manner of use. Use periods are at most "
                "{max_use_days} days. Allowed purposes: {allowed_purposes}.",
            ),
            "zh": (
                "事先书面申请",
                "需要调取录像者须事先提交书面申请，写明用途、使用期限和使用方式。使用期限最长 "
                "{max_use_days} 天。允许的用途：{allowed_purposes}。",
            ),
        },
    ),
    (
        "R5",
        ("DECISION_NOT_SECURITY_OFFICE", "DECISION_REJECTION_WITHOUT_REASON"),
        {
            "en": (
                "Reviewed by the security office",
                "The security office reviews every request; footage is used only after "
                "approval, and a rejection is written with its reasons.",
            ),
            "zh": (
                "保卫处审核",
                "保卫处审核每一份申请；经批准后方可使用录像，不予批准的须书面说明理由。",
            ),
        },
    ),
    (
        "R6",
        ("REQUEST_THIRD_PARTY_WITHOUT_BASIS",),
        {
            "en": (
                "No transfer to third parties",
                "Users are responsible for the footage and never pass it on, unless the request "
                "names a legal basis and the approval allows it.",
            ),
            "zh": (
                "不得向第三方提供",
                "使用者对录像负责，不得向第三方提供，除非申请写明法律依据且批准同意。",
            ),
        },
    ),
    (
        "R7",
        ("CAMERA_UNAPPROVED_STORAGE",),
        {
            "en": (
                "Only on the school's storage servers",
                "Footage is stored only on the school's approved storage servers, never on "
                "personal devices.",
            ),
            "zh": (
                "仅存放于学校存储服务器",
                "录像仅存放于学校批准的存储服务器，不得存放于个人设备。",
            ),
        },
    ),
    (
        "R8",
        (),
        {
            "en": (
                "Access strictly controlled",
                "Only approved recipients see only the approved cameras and time window, only "
                "during the approved use period.",
            ),
            "zh": (
                "严格控制访问",
                "仅限批准的人员、在批准的使用期内，查看批准的摄像头和时段的录像。",
            ),
        },
    ),
    (
        "R9",
        (),
        {
            "en": ("Every access logged", "Every access to footage is logged for traceability."),
            "zh": ("每次访问均有记录", "每次访问录像均予以记录，以便追溯。"),
        },
    ),
    (
        "R10",
        (),
        {
            "en": (
                "Supervised extraction",
                "Footage is extracted only after approval, supervised by a member of the "
                "security office.",
            ),
            "zh": ("监督下拷贝", "录像须经批准后，在保卫处人员监督下拷贝。"),
        },
    ),
    (
        "R11",
        ("REPORT_OVERDUE",),
        {
            "en": (
                "Usage report within {report_due_days} days",
                "A usage report is due within {report_due_days} days after the use period "
                "ends; until it is in, the applicant's new requests are refused.",
            ),
            "zh": (
                "{report_due_days} 天内提交使用情况报告",
                "使用期结束后 {report_due_days} 天内须提交使用情况报告；报告提交前，申请人的新申请"
                "不予受理。",
            ),
        },
    ),
    (
        "R12",
        ("CAMERA_SILENT",),
        {
            "en": (
                "Periodic inspection",
                "Devices and use of footage are inspected periodically; a camera that records "
                "nothing for {silent_after_hours} hours is reported; violations are handled by "
                "the security office.",
            ),
            "zh": (
                "定期检查",
                "定期检查设备和录像使用情况；摄像头连续 {silent_after_hours} 小时无录像即予报告；"
                "违规行为由保卫处处理。",
            ),
        },
    ),
    (
        "R13",
        (),
        {
            "en": (
                "Changes reviewed and published",
                "Changes to these rules are reviewed by the security office and published "
                "school-wide before they take effect.",
            ),
            "zh": ("制度修订经审核并公布", "本制度的修订须经保卫处审核，并在生效前全校公布。"),
        },
    ),
]


@dataclass(frozen=True)
class Rule:
    number: str
    title: str
    text: str
    codes: tuple[str, ...]


@dataclass(frozen=True)
class RuleBook:
    lang: Lang
    title: str
    effective_from: str
    policy_version: str
    rules: list[Rule]

    def label(self, key: str) -> str:
        return LABELS[self.lang][key]


def term(lang: Lang, slug: str) -> str:
    return TERMS[lang].get(slug, slug)


def parameters(config: Config, lang: Lang) -> dict[str, object]:
    """The config fields a rule's text names, lists written out in the language."""
    sep = LABELS[lang]["sep"]
    values: dict[str, object] = config.model_dump()
    for field in ("allowed_purposes", "private_zones"):
        values[field] = sep.join(term(lang, slug) for slug in getattr(config, field))
    return values


def local_time(moment: datetime | None, config: Config) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(ZoneInfo(config.timezone)).strftime("%Y-%m-%d %H:%M %Z")


def build_rule_book(config: Config, policy_version: str, lang: Lang) -> RuleBook:
    values = parameters(config, lang)
    rules = [
        Rule(number, texts[lang][0].format(**values), texts[lang][1].format(**values), codes)
        for number, codes, texts in RULES
    ]
    effective = local_time(config.effective_from, config) or LABELS[lang]["not_dated"]
    return RuleBook(lang, LABELS[lang]["title"], effective, policy_version, rules)
