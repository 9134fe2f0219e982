"""Every message a person reads about their registry, in Chinese and English.

Rule violations keep the policies' English message (it names the values involved) and get
their title and fix from RULES by code; the Chinese message is built from the title and the
place (field and the value written there), so the policies stay language-free and a new rule
needs one entry here (tests/test_messages.py fails until it has both languages). Input errors
(the loader's E_YAML, E_SCHEMA, E_DUPLICATE_ID) are written here entirely, by a message key
and its parameters, with no regex, pydantic or Python wording.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from cctv_policy.violations import Violation

Language = Literal["en", "zh"]
LANGUAGES: tuple[Language, ...] = ("en", "zh")
FORMAT_DOC = "docs/registry.md"


@dataclass(frozen=True)
class Text:
    en: str
    zh: str

    def get(self, lang: Language, params: Mapping[str, str] | None = None) -> str:
        template = self.zh if lang == "zh" else self.en
        return template.format_map(dict(params or {}))


@dataclass(frozen=True)
class Rule:
    title: Text
    fix: Text


RULES: dict[str, Rule] = {
    "E_YAML": Rule(
        Text("The file is not valid YAML", "文件不是有效的 YAML"),
        Text(f"fix the line shown; see {FORMAT_DOC}", f"修改所示的行；格式见 {FORMAT_DOC}"),
    ),
    "E_SCHEMA": Rule(
        Text(
            "A field is missing, unknown or written in the wrong form",
            "字段缺失、拼写不对或写法不对",
        ),
        Text(f"write the field as {FORMAT_DOC} describes", f"按 {FORMAT_DOC} 的说明填写该字段"),
    ),
    "E_DUPLICATE_ID": Rule(
        Text("The same id is used twice", "同一个编号出现了两次"),
        Text(
            "give each document its own id; delete or renumber one",
            "每份文件用自己的编号；删除或重新编号其中一份",
        ),
    ),
    "E_REFERENCE": Rule(
        Text(
            "Names a person, camera, storage target or hold that does not exist",
            "写的人员、摄像头、存储位置或保全令在登记册中不存在",
        ),
        Text(
            "use an id from people.yaml, cameras.yaml, storage.yaml or holds/",
            "改用 people.yaml、cameras.yaml、storage.yaml 或 holds/ 中已有的编号",
        ),
    ),
    "CONFIG_STATION_IS_A_PERSON": Rule(
        Text("The viewing station is also listed as a person", "查看工作站同时被登记为人员"),
        Text(
            "give the viewing station an id that is not a person's",
            "给查看工作站一个不属于任何人员的编号",
        ),
    ),
    "CAMERA_PRIVATE_AREA": Rule(
        Text("A camera is in a private area (R1)", "摄像头安装在私密区域（规则 R1）"),
        Text("remove the camera or correct its zone", "拆除该摄像头或更正它的区域 zone"),
    ),
    "CAMERA_UNCERTIFIED_INSTALLER": Rule(
        Text(
            "A camera was installed by someone who is not a technician (R2)",
            "摄像头不是由认证技术员安装的（规则 R2）",
        ),
        Text(
            "name the certified technician in installed_by", "在 installed_by 写上认证技术员的编号"
        ),
    ),
    "CAMERA_UNAPPROVED_STORAGE": Rule(
        Text(
            "A camera stores footage on a target that is not approved (R7)",
            "摄像头的录像存放在未获批准的存储位置（规则 R7）",
        ),
        Text("move the camera's storage to an approved target", "把 storage 改为已批准的存储位置"),
    ),
    "REQUEST_NOT_IN_ADVANCE": Rule(
        Text(
            "The request was not filed before the use period starts", "申请没有在使用期开始之前提交"
        ),
        Text("move use.starts after submitted_at", "把 use.starts 改到 submitted_at 之后"),
    ),
    "REQUEST_WINDOW_INVALID": Rule(
        Text("A time window is empty or reversed", "时间段为空或起止颠倒"),
        Text("make the end later than the start", "让结束时间晚于开始时间"),
    ),
    "REQUEST_FOOTAGE_BEYOND_RETENTION": Rule(
        Text(
            "The footage asked for is older than the retention period (R3)",
            "申请的录像早于保存期限，已被删除（规则 R3）",
        ),
        Text(
            "ask only for footage within retention_days of now",
            "只申请保存期限（retention_days）以内的录像",
        ),
    ),
    "REQUEST_USE_TOO_LONG": Rule(
        Text(
            "The use period is longer than config.yaml allows (max_use_days, R4)",
            "使用期超过 config.yaml 允许的最长天数（max_use_days，规则 R4）",
        ),
        Text("shorten the use period (move use.ends earlier)", "缩短使用期（把 use.ends 提前）"),
    ),
    "REQUEST_PURPOSE_NOT_ALLOWED": Rule(
        Text(
            "The purpose is not one of config.yaml's allowed_purposes",
            "用途不在 config.yaml 的 allowed_purposes 之中",
        ),
        Text(
            "choose a purpose.category from allowed_purposes in config.yaml",
            "从 config.yaml 的 allowed_purposes 中选择 purpose.category",
        ),
    ),
    "REQUEST_THIRD_PARTY_WITHOUT_BASIS": Rule(
        Text(
            "Footage would go to a third party without a legal basis",
            "录像将提供给第三方，但没有写明法律依据",
        ),
        Text(
            "fill in use.third_party with organization and legal_basis",
            "在 use.third_party 中填写 organization 和 legal_basis",
        ),
    ),
    "REQUEST_APPLICANT_REPORT_OVERDUE": Rule(
        Text("The applicant has an overdue usage report", "申请人有逾期未交的使用报告"),
        Text("file the overdue report in reports/ first", "先在 reports/ 中提交逾期的使用报告"),
    ),
    "DECISION_UNKNOWN_REQUEST": Rule(
        Text("A decision has no request file", "决定没有对应的申请文件"),
        Text("add the request or delete the decision", "补上申请文件，或删除该决定"),
    ),
    "DECISION_STALE": Rule(
        Text("The request changed after it was decided", "申请在作出决定之后被修改过"),
        Text(
            "the security office decides again (cctv-policy decide)",
            "由保卫处重新作出决定（cctv-policy decide）",
        ),
    ),
    "DECISION_NOT_SECURITY_OFFICE": Rule(
        Text(
            "The decision was not made by the security office (R5)",
            "决定不是由保卫处作出的（规则 R5）",
        ),
        Text("a security office member decides", "由保卫处成员作出决定"),
    ),
    "DECISION_SELF_APPROVAL": Rule(
        Text("Someone decided their own request", "有人审批了自己的申请"),
        Text("another security office member decides", "由保卫处的另一位成员作出决定"),
    ),
    "DECISION_SUPERVISOR_INVOLVED": Rule(
        Text("The supervisor is also the applicant or a recipient", "监督人同时是申请人或接收人"),
        Text("name a supervisor who is not involved", "指定一位与申请无关的监督人"),
    ),
    "DECISION_DUTIES_NOT_SEPARATED": Rule(
        Text(
            "One person holds too many of filing, approving and supervising",
            "同一人兼任了提交申请、批准和监督中的多项职责",
        ),
        Text(
            "another security office member approves, or another person supervises",
            "由保卫处的另一位成员批准，或由另一人监督",
        ),
    ),
    "DECISION_SUPERVISOR_NOT_QUALIFIED": Rule(
        Text("The supervisor does not have the supervisor role", "监督人没有监督人角色"),
        Text("name a person with the supervisor role", "指定一位具有 supervisor 角色的人员"),
    ),
    "DECISION_IN_FUTURE": Rule(
        Text("The decision is dated in the future", "决定的日期在将来"),
        Text("write the real date in decided_at", "在 decided_at 写实际日期"),
    ),
    "DECISION_REJECTION_WITHOUT_REASON": Rule(
        Text("A rejection gives no reasons (R5)", "驳回决定没有写理由（规则 R5）"),
        Text("write the reasons in reasons", "在 reasons 中写明理由"),
    ),
    "DECISION_BEFORE_SUBMISSION": Rule(
        Text("The decision is dated before the request was filed", "决定日期早于申请提交日期"),
        Text(
            "correct decided_at or the request's submitted_at",
            "更正 decided_at 或申请的 submitted_at",
        ),
    ),
    "DECISION_SCOPE_WIDENED": Rule(
        Text(
            "The decision grants more than the request asked for", "决定批准的范围超出了申请的范围"
        ),
        Text(
            "a decision may only narrow: remove what the request did not ask for",
            "决定只能缩小范围：删去申请中没有的部分",
        ),
    ),
    "DECISION_THIRD_PARTY_NOT_ALLOWED": Rule(
        Text(
            "Sharing with a third party was approved without allowing it",
            "批准了向第三方提供，但决定没有允许",
        ),
        Text(
            "set conditions.third_party_allowed, or approve a narrower use",
            "设置 conditions.third_party_allowed，或只批准较小的使用范围",
        ),
    ),
    "REPORT_UNKNOWN_REQUEST": Rule(
        Text("A usage report has no request file", "使用报告没有对应的申请文件"),
        Text("correct the request id or the file name", "更正申请编号或文件名"),
    ),
    "REPORT_OVERDUE": Rule(
        Text("The usage report is overdue (R11)", "使用报告逾期未交（规则 R11）"),
        Text("file the usage report in reports/", "在 reports/ 中提交使用报告"),
    ),
    "CAMERA_SILENT": Rule(
        Text(
            "The camera has recorded nothing for longer than config.silent_after_hours",
            "摄像头超过 config.silent_after_hours 规定的时长没有录像",
        ),
        Text(
            "have a technician check the camera, its cable and its recorder",
            "请技术人员检查摄像头、线路和录像设备",
        ),
    ),
    "CAMERA_MAINTENANCE_OVERDUE": Rule(
        Text(
            "The camera's last service is older than config.maintenance_interval_days",
            "摄像头上次维护距今超过 config.maintenance_interval_days 规定的天数",
        ),
        Text(
            "service the camera and record it in maintenance/<ID>.yaml",
            "安排维护，并在 maintenance/<编号>.yaml 中登记",
        ),
    ),
    "MAINTENANCE_NOT_TECHNICIAN": Rule(
        Text(
            "A maintenance record names someone who is not a technician",
            "维护记录中的人员不是技术人员",
        ),
        Text(
            "write the technician who did the work in performed_by",
            "在 performed_by 中填写实际完成维护的技术人员",
        ),
    ),
    "VIOLATION_NOT_SECURITY_OFFICE": Rule(
        Text(
            "A violations register entry was not written by the security office",
            "违规登记不是由保卫处人员填写的",
        ),
        Text(
            "the security office records violations (found_by / handled_by)",
            "违规情况由保卫处登记（found_by / handled_by）",
        ),
    ),
    "VIOLATION_CLOSED_WITHOUT_ACTION": Rule(
        Text(
            "A violation is closed without saying what was done",
            "违规登记已结案，但没有写明处理措施",
        ),
        Text("write the action taken before closed_at", "在结案前写明采取的处理措施 action"),
    ),
    "VIOLATION_CLOSED_BEFORE_FOUND": Rule(
        Text(
            "A violation is closed before it was found",
            "违规登记的结案时间早于发现时间",
        ),
        Text("correct closed_at or found_at", "更正 closed_at 或 found_at"),
    ),
    "FEEDBACK_OVERDUE": Rule(
        Text(
            "A unit that used footage has not sent its feedback for the last period (R12)",
            "使用过录像的部门没有提交上一周期的使用反馈（规则 R12）",
        ),
        Text(
            "the unit files feedback/<ID>.yaml for that period",
            "该部门为该周期提交 feedback/<编号>.yaml",
        ),
    ),
    "FEEDBACK_PERIOD_INVALID": Rule(
        Text(
            "A feedback record's period does not start a reporting period",
            "反馈记录的周期不是一个报告周期的开始月份",
        ),
        Text(
            "name the period by its first month (config.feedback_every_months)",
            "用周期的第一个月命名（见 config.feedback_every_months）",
        ),
    ),
    "REQUEST_ATTACHMENT_MISSING": Rule(
        Text(
            "A request names an attachment that is not in attachments/<REQ-ID>/",
            "申请列出的附件不在 attachments/<申请编号>/ 中",
        ),
        Text(
            "add the file to attachments/<REQ-ID>/, or remove it from the list",
            "把文件放进 attachments/<申请编号>/，或从列表中删除",
        ),
    ),
    "REQUEST_ATTACHMENT_MISMATCH": Rule(
        Text(
            "An attachment's file does not match its sha256 in the request",
            "附件文件与申请中记录的 sha256 不一致",
        ),
        Text(
            "attach the file that was meant, or write its real sha256",
            "附上原本的文件，或填写该文件真实的 sha256",
        ),
    ),
    "REQUEST_PROOF_MISSING": Rule(
        Text(
            "This purpose needs supporting proof, and the request attaches none (R4)",
            "该用途需要附上证明材料，但申请没有附件（规则 R4）",
        ),
        Text(
            "attach the proof (attachments: with name and sha256)",
            "附上证明材料（attachments：写明 name 和 sha256）",
        ),
    ),
    "REQUEST_UNIT_MISMATCH": Rule(
        Text(
            "The request's unit is not the applicant's unit in people.yaml",
            "申请的部门 unit 与 people.yaml 中申请人的部门不一致",
        ),
        Text("write the applicant's unit from people.yaml", "填写 people.yaml 中申请人的部门"),
    ),
    "PROVENANCE_MISMATCH": Rule(
        Text("The file was not written by the person it names", "文件不是由其中署名的人提交的"),
        Text(
            "the named person commits the file from their own git identity",
            "由署名的人用自己的 git 身份提交该文件",
        ),
    ),
    "PROVENANCE_UNSIGNED": Rule(
        Text(
            "The commit is not signed, but config.yaml requires signed commits",
            "提交没有签名，但 config.yaml 要求签名提交",
        ),
        Text(
            "sign the commit with a key from people.yaml signing_keys (git commit -S)",
            "用 people.yaml 中 signing_keys 的密钥签名提交（git commit -S）",
        ),
    ),
    "PROVENANCE_WRONG_SIGNER": Rule(
        Text(
            "The commit is signed by someone other than the person it names",
            "提交的签名者不是文件中署名的人",
        ),
        Text("the named person signs the commit with their own key", "由署名的人用自己的密钥签名"),
    ),
    "PROVENANCE_SHARED_KEY": Rule(
        Text("One signing key is listed for two people", "同一个签名密钥登记给了两个人"),
        Text(
            "give each person their own key in people.yaml",
            "在 people.yaml 中为每个人登记各自的密钥",
        ),
    ),
    "PROVENANCE_UNCOMMITTED": Rule(
        Text("The file has changes that are not committed", "文件有尚未提交的修改"),
        Text("commit or discard the changes", "提交或撤销这些修改"),
    ),
    "PROVENANCE_NOT_REQUIRED": Rule(
        Text(
            "config.yaml turns provenance off: apply, serve, bundle and extract act on approvals "
            "without checking who wrote them",
            "config.yaml 关闭了来源核验：apply、serve、bundle 和 extract 执行审批时不核验由谁提交",
        ),
        Text(
            "set provenance.required to true in config.yaml (only a registry without "
            "a trustworthy git history keeps it false)",
            "在 config.yaml 中把 provenance.required 设为 true"
            "（只有没有可信 git 历史的登记册才设为 false）",
        ),
    ),
    "PROVENANCE_TRUST_ROOT_UNOWNED": Rule(
        Text(
            "CODEOWNERS does not give this file to the security office alone",
            "CODEOWNERS 没有把该文件只交给保卫处审核",
        ),
        Text(
            "list only the security office team for it in CODEOWNERS",
            "在 CODEOWNERS 中只为它登记保卫处团队",
        ),
    ),
    "REQUEST_BACKDATED": Rule(
        Text("The request is dated well before it was filed", "申请日期明显早于实际提交时间"),
        Text("write the real time in submitted_at", "在 submitted_at 写实际提交时间"),
    ),
    "HOLD_NOT_SECURITY_OFFICE": Rule(
        Text("A hold was not set by the security office", "保全令不是由保卫处设定的"),
        Text("a security office member sets the hold", "由保卫处成员设定保全令"),
    ),
    "HOLD_WINDOW_INVALID": Rule(
        Text("A hold's footage window is empty or reversed", "保全令的录像时间段为空或起止颠倒"),
        Text("make `to` later than `from`", "让 to 晚于 from"),
    ),
    # --- waivers (#28) ---
    "WAIVER_EXPIRED": Rule(
        Text("A waiver has expired: the warning counts again", "豁免已过期：该警告重新计入"),
        Text(
            "fix what the warning names, or the security office renews the waiver (until)",
            "处理警告所指的问题，或由保卫处续期豁免（until）",
        ),
    ),
    "WAIVER_NOT_SECURITY_OFFICE": Rule(
        Text("A waiver was not decided by the security office", "豁免不是由保卫处决定的"),
        Text("a security office member decides the waiver", "由保卫处成员决定豁免"),
    ),
    "WAIVER_CODE_NOT_WAIVABLE": Rule(
        Text(
            "A waiver names a code that cannot be waived (errors and R11 never are)",
            "豁免所列代码不可豁免（错误和 R11 逾期报告一律不可豁免）",
        ),
        Text(
            "fix the problem itself; only CAMERA_SILENT, CAMERA_MAINTENANCE_OVERDUE and "
            "FEEDBACK_OVERDUE can be waived",
            "处理问题本身；只有 CAMERA_SILENT、CAMERA_MAINTENANCE_OVERDUE 和 "
            "FEEDBACK_OVERDUE 可以豁免",
        ),
    ),
}

# Input errors, by key: what is wrong (with the place's values) in both languages.
INPUT: dict[str, Text] = {
    "attachments_not_a_request_folder": Text(
        "{file} is not read: the attachment store holds one folder per request, named by its "
        "id (attachments/REQ-2026-0042/)",
        "{file} 不会被读取：附件目录中每个申请一个文件夹，以申请编号命名"
        "（attachments/REQ-2026-0042/）",
    ),
    "attachments_not_a_plain_file": Text(
        "{file} is not read: put each attachment directly in its request's folder, as a plain "
        "file (no sub-folders, no links)",
        "{file} 不会被读取：每个附件应直接放在对应申请的文件夹中，且是普通文件"
        "（不能是子文件夹或链接）",
    ),
    "not_utf8": Text(
        "the file is not UTF-8 text (byte 0x{byte}); save it as UTF-8",
        "文件不是 UTF-8 编码（字节 0x{byte}）；请以 UTF-8 编码保存",
    ),
    "yaml_tab": Text(
        "a tab character is used for indentation; YAML indents with spaces only: "
        "replace the tab with spaces",
        "这一行用了 Tab 键缩进；YAML 只能用空格缩进：把 Tab 换成空格",
    ),
    "yaml_syntax": Text(
        "the YAML cannot be read here ({detail}); check the indentation, colons "
        "and quotes on this line and the one before",
        "这里的 YAML 无法读取（{detail}）；检查本行和上一行的缩进、冒号和引号",
    ),
    "yaml_duplicate_key": Text(
        "the field {key} is written twice; keep one", "字段 {key} 写了两次；只保留一个"
    ),
    "yaml_tag": Text(
        "a value of a special YAML type ({kind}) is not allowed; write plain text, "
        "numbers, lists and fields",
        "不允许使用 YAML 特殊类型（{kind}）；只写文字、数字、列表和字段",
    ),
    "yaml_key": Text(
        "field names must be text, and YAML reads {key} as something else (null, a number, "
        "true or false); write the field's real name, or put it in quotes",
        "字段名必须是文字，但 YAML 把 {key} 读成了别的类型（null、数字、true 或 false）；"
        "请写字段的正确名称，或给它加上引号",
    ),
    "symlink": Text(
        "symbolic links are not allowed in the registry; commit the file itself",
        "登记册中不允许符号链接；请提交文件本身",
    ),
    "not_a_mapping": Text(
        "the file should hold fields (name: value), but it is {what}",
        "文件应当由字段（名称: 值）组成，但它是{what}",
    ),
    "file_missing": Text("{file} is missing from the registry", "登记册缺少 {file}"),
    "not_read": Text(
        "{name} is not part of a registry and is not read{suggestion}; a registry "
        "holds config.yaml, people.yaml, cameras.yaml, storage.yaml and the folders "
        "requests/, decisions/, reports/, holds/",
        "{name} 不属于登记册，不会被读取{suggestion}；登记册包含 config.yaml、"
        "people.yaml、cameras.yaml、storage.yaml 和文件夹 requests/、decisions/、"
        "reports/、holds/",
    ),
    "not_a_folder": Text("{name} must be a folder of documents", "{name} 必须是存放文件的文件夹"),
    "subfolder": Text(
        "sub-folders are not read: put each document directly in {folder}/",
        "子文件夹不会被读取：把每份文件直接放在 {folder}/ 中",
    ),
    "backup_file": Text(
        "{name} looks like an editor or backup file and is not read; delete it",
        "{name} 看起来是编辑器或备份文件，不会被读取；请删除",
    ),
    "wrong_suffix": Text(
        "{name} is not read: documents in {folder}/ are named <ID>.yaml",
        "{name} 不会被读取：{folder}/ 中的文件名应为 <编号>.yaml",
    ),
    "bad_file_name": Text(
        "file name {name} is not an id like REQ-2026-0042.yaml (capital "
        "letters, digits and dashes)",
        "文件名 {name} 不是像 REQ-2026-0042.yaml 这样的编号（大写字母、数字和短横线）",
    ),
    "duplicate_file": Text(
        "{name} has the same id as {other}: one id, two files; delete one",
        "{name} 与 {other} 编号相同：一个编号只能有一份文件；删除其中一份",
    ),
    "duplicate_id": Text(
        "{kind} id {id} is defined twice (first at line {first_line}); ids must be unique",
        "{kind} 编号 {id} 定义了两次（第一次在第 {first_line} 行）；编号不能重复",
    ),
    "name_mismatch": Text(
        "{field} {value} does not match the file name {name}; name the file {value}.yaml",
        "{field} 写的是 {value}，与文件名 {name} 不一致；把文件改名为 {value}.yaml",
    ),
    # Field errors (from the models), by what the field expects.
    "unknown_field": Text("unknown field {field}{suggestion}", "未知字段 {field}{suggestion}"),
    "missing_field": Text("required field {field} is missing", "缺少必填字段 {field}"),
    "needs_fields": Text(
        "{field} should hold fields of its own ({expected}), not a single value",
        "{field} 应当包含下一级字段（{expected}），而不是单个值",
    ),
    "needs_list": Text("{field} should be a list, like [A, B]", "{field} 应当是列表，例如 [A, B]"),
    "needs_text": Text("{field} should be text", "{field} 应当是文字"),
    "needs_number": Text("{field} should be a whole number", "{field} 应当是整数"),
    "needs_yes_no": Text("{field} should be true or false", "{field} 应当是 true 或 false"),
    "number_min": Text("{field} should be at least {limit}", "{field} 不能小于 {limit}"),
    "number_max": Text("{field} should be at most {limit}", "{field} 不能大于 {limit}"),
    "empty_list": Text("{field} needs at least one entry", "{field} 至少要有一项"),
    "empty_text": Text("{field} must not be empty", "{field} 不能为空"),
    "choice": Text(
        "{field} must be one of {choices}, not {value}{suggestion}",
        "{field} 只能是 {choices} 之一，而不是 {value}{suggestion}",
    ),
    "person_id": Text(
        "{field} should be a person id from people.yaml such as t.wang (lower-case "
        "letters, digits, dots), not {value}{suggestion}",
        "{field} 应当是 people.yaml 中的人员编号，例如 t.wang（小写字母、数字和点），"
        "而不是 {value}{suggestion}",
    ),
    "document_id": Text(
        "{field} should be an id such as REQ-2026-0042 or CAM-GATE-01 (capital "
        "letters, digits and dashes), not {value}",
        "{field} 应当是像 REQ-2026-0042 或 CAM-GATE-01 这样的编号（大写字母、数字"
        "和短横线），而不是 {value}",
    ),
    "slug": Text(
        "{field} should be a short name in lower-case letters, digits, - and _ (such as "
        "teaching-office), not {value}",
        "{field} 应当是由小写字母、数字、- 和 _ 组成的简短名称（例如 teaching-office），"
        "而不是 {value}",
    ),
    "sha256": Text(
        "{field} should be the 64-character SHA-256 of the file (sha256sum FILE)",
        "{field} 应当是文件的 64 位 SHA-256 值（可用 sha256sum 文件名 得到）",
    ),
    "ssh_key": Text(
        "{field} should be an SSH public key line such as ssh-ed25519 AAAA...",
        "{field} 应当是 SSH 公钥，例如 ssh-ed25519 AAAA...",
    ),
    "time_format": Text(
        "{field}: {value} is not a date and time like 2026-11-20T09:30:00+08:00 "
        "(date, T, time, and the +08:00 offset of the time zone)",
        "{field}：{value} 不是像 2026-11-20T09:30:00+08:00 这样的日期时间（日期、T、"
        "时间，再加时区偏移 +08:00）",
    ),
    "time_no_offset": Text(
        "{field}: {value} has no time zone; add it at the end, like "
        "2026-11-20T09:30:00+08:00 (Beijing time) or ...Z (UTC)",
        "{field}：{value} 没有写时区；在末尾加上时区，例如 2026-11-20T09:30:00+08:00（北京时间）",
    ),
    "time_invalid": Text(
        "{field}: {value} is not a real date and time",
        "{field}：{value} 不是一个真实存在的日期时间",
    ),
    "time_range": Text(
        "{field}: {value} is outside the years 1970 to 2199; write a real date",
        "{field}：{value} 不在 1970 到 2199 年之间；请写真实日期",
    ),
    "time_zone": Text(
        "{field}: {value} is not a time zone name like Asia/Shanghai",
        "{field}：{value} 不是像 Asia/Shanghai 这样的时区名称",
    ),
    "invalid_value": Text("{field}: {detail}", "{field} 的写法无效（{detail}）"),
    "kept_copies_need_hold": Text(
        "copies: kept_under_hold must name the hold that keeps them (add hold: HOLD-...)",
        "copies 写的是 kept_under_hold，必须写明保存副本的保全令（加上 hold: HOLD-...）",
    ),
    "did_you_mean": Text(" (did you mean {choice}?)", "（是不是想写 {choice}？）"),
}

# Kinds in the reader's words (Chinese), for {kind} and subjects.
KINDS_ZH = {
    "request": "申请",
    "decision": "决定",
    "report": "使用报告",
    "hold": "保全令",
    "camera": "摄像头",
    "person": "人员",
    "target": "存储位置",
    "config": "配置",
    "waiver": "豁免",
}


def language(flag: str | None, configured: str | None) -> Language:
    """--lang, else config.yaml `language:`, else CCTV_POLICY_LANG or LANG (zh_* → zh)."""
    for choice in (flag, configured, os.environ.get("CCTV_POLICY_LANG")):
        if choice in LANGUAGES:
            return choice
    return "zh" if os.environ.get("LANG", "").lower().startswith("zh") else "en"


def did_you_mean(value: str, choices: Iterable[str]) -> str | None:
    """The choice closest to `value`, or None when none is close."""
    close = difflib.get_close_matches(value, list(choices), n=1, cutoff=0.6)
    return close[0] if close else None


def suggestion(lang: Language, params: Mapping[str, str]) -> str:
    """' (did you mean X?)' in `lang` when the params carry a close `choice`, else ''."""
    choice = params.get("choice")
    return INPUT["did_you_mean"].get(lang, {"choice": choice}) if choice else ""


def input_message(key: str, lang: Language, params: Mapping[str, str]) -> str:
    return INPUT[key].get(lang, {**params, "suggestion": suggestion(lang, params)})


def localize(violation: Violation, lang: Language) -> Violation:
    """The violation with its message and fix in `lang`."""
    params = dict(violation.params)
    if violation.message_id in INPUT:
        message = input_message(violation.message_id, lang, params)
    elif lang == "zh" and violation.code in RULES:
        message = _rule_message_zh(violation, params)
    else:
        message = violation.message + suggestion(lang, params)
    rule = RULES.get(violation.code)
    fix = rule.fix.get(lang) if rule else violation.fix
    return violation.model_copy(update={"message": message, "fix": fix})


def _rule_message_zh(violation: Violation, params: Mapping[str, str]) -> str:
    kind, _, doc_id = violation.subject.partition(":")
    message = f"{RULES[violation.code].title.zh}：{KINDS_ZH.get(kind, kind)} {doc_id}"
    if violation.field and "value" in params:
        message += f" 的 {violation.field} 写的是“{params['value']}”"
    elif violation.field:
        message += f" 的 {violation.field}"
    return message + suggestion("zh", params)


SEVERITY_WORDS = {
    "en": {"error": "error", "warning": "warning"},
    "zh": {"error": "错误", "warning": "警告"},
}


def rule_name(code: str) -> str:
    """A code as SARIF's rule name: REQUEST_USE_TOO_LONG -> RequestUseTooLong."""
    return "".join(part.capitalize() for part in code.split("_"))


def codes_markdown() -> str:
    """docs/codes.md: every code with what it means and how to fix it, in both languages."""
    lines = [
        "# Check codes / 检查代码",
        "",
        "<!-- Generated by `python -m cctv_policy.messages` from cctv_policy/messages.py; "
        "tests/test_messages.py keeps it up to date. -->",
        "",
        f"Field formats: [registry.md]({FORMAT_DOC.removeprefix('docs/')}).",
    ]
    for code, rule in sorted(RULES.items()):
        lines += [
            "",
            f"## {code}",
            "",
            f"- {rule.title.en}. Fix: {rule.fix.en}.",
            f"- {rule.title.zh}。修改方法：{rule.fix.zh}。",
        ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(codes_markdown(), end="")
