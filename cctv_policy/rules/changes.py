"""What changed in the rule book between two revisions, in plain words (R13): for the
publication notice and the pull request's job summary.

The parameters come from config.yaml at both revisions; rule changes in the policies are
listed by file. A changed config must say from when it applies (`effective_from`), and that
moment must not already be past: rules are published before they bind anyone.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from cctv_policy.registry import yaml_source
from cctv_policy.registry.models import Config
from cctv_policy.rules.book import LABELS, Lang, local_time, term

# Fields that are not rule-book parameters: how the tool runs, not what the school decided.
NOT_RULES = frozenset(
    {
        "effective_from",
        "timezone",
        "security_office_owners",
        "trusted_committers",
        "require_signed_commits",
        "provenance",
        "viewing_station",
    }
)

# field -> (rule, {lang: sentence with {old} and {new}})
SENTENCES: dict[str, tuple[str, dict[Lang, str]]] = {
    "retention_days": (
        "R3",
        {
            "en": "Footage is kept {new} days instead of {old} days.",
            "zh": "录像保存期限由 {old} 天改为 {new} 天。",
        },
    ),
    "report_due_days": (
        "R11",
        {
            "en": "Usage reports are due {new} days after the use period instead of {old} days.",
            "zh": "使用情况报告提交期限由使用期结束后 {old} 天改为 {new} 天。",
        },
    ),
    "max_use_days": (
        "R4",
        {
            "en": "A use period may last at most {new} days instead of {old} days.",
            "zh": "使用期限上限由 {old} 天改为 {new} 天。",
        },
    ),
    "maintenance_interval_days": (
        "R2",
        {
            "en": "Cameras are serviced every {new} days instead of every {old} days.",
            "zh": "摄像头维护周期由 {old} 天改为 {new} 天。",
        },
    ),
    "silent_after_hours": (
        "R12",
        {
            "en": "A camera is reported silent after {new} hours without footage instead of {old}.",
            "zh": "摄像头无录像报告时限由 {old} 小时改为 {new} 小时。",
        },
    ),
}
LIST_SENTENCES: dict[str, tuple[str, dict[Lang, tuple[str, str]]]] = {
    "allowed_purposes": (
        "R4",
        {
            "en": ("Newly allowed purposes: {items}.", "No longer allowed purposes: {items}."),
            "zh": ("新增允许用途：{items}。", "不再允许的用途：{items}。"),
        },
    ),
    "private_zones": (
        "R1",
        {
            "en": (
                "Newly private areas (no cameras): {items}.",
                "No longer listed as private areas: {items}.",
            ),
            "zh": ("新增私密场所（不得安装摄像头）：{items}。", "不再列为私密场所：{items}。"),
        },
    ),
}
GENERIC: dict[Lang, str] = {
    "en": "{field} changes from {old} to {new}.",
    "zh": "{field} 由 {old} 改为 {new}。",
}
NOTICE: dict[Lang, dict[str, str]] = {
    "en": {
        "title": "Notice of changes to the CCTV footage rules",
        "from": "These changes take effect on {when}.",
        "undated": "These changes are not dated: config.yaml needs effective_from.",
        "none": "The rule book's parameters do not change.",
        "policies": "Changed policy files (how the rules are checked):",
    },
    "zh": {
        "title": "视频监控图像信息使用登记制度修订公告",
        "from": "以上修订自 {when} 起施行。",
        "undated": "以上修订未注明施行时间：config.yaml 须填写 effective_from。",
        "none": "制度参数没有变化。",
        "policies": "修改的策略文件（规则的检查方式）：",
    },
}


class RevisionUnavailable(Exception):
    """The base revision's config cannot be read from git."""


@dataclass(frozen=True)
class Change:
    rule: str
    sentence: str


@dataclass
class RuleChanges:
    lang: Lang
    base: str
    changes: list[Change] = field(default_factory=list)
    policy_files: list[str] = field(default_factory=list)
    effective_from: str | None = None
    problem: str | None = None  # why this revision cannot be published as it is


def changed_parameters(current: Config, base: Config) -> list[str]:
    now, before = current.model_dump(), base.model_dump()
    return sorted(k for k in now if k not in NOT_RULES and now[k] != before.get(k))


def revision_problem(current: Config, base: Config, now: datetime) -> str | None:
    """Why a changed config may not be merged as it is: undated, or dated in the past."""
    if not changed_parameters(current, base):
        return None
    if current.effective_from is None:
        return (
            "the rule book's parameters change but config.yaml has no effective_from; "
            "name the moment the revision takes effect (R13)"
        )
    if current.effective_from < now:
        return (
            f"the rule book's parameters change but effective_from "
            f"{current.effective_from.isoformat()} is already past; a revision is published "
            "before it takes effect: set a moment from now on (R13)"
        )
    return None


def describe(current: Config, base: Config, lang: Lang) -> list[Change]:
    out: list[Change] = []
    old, new = base.model_dump(), current.model_dump()
    for name in changed_parameters(current, base):
        if name in SENTENCES:
            rule, texts = SENTENCES[name]
            out.append(Change(rule, texts[lang].format(old=old.get(name), new=new[name])))
        elif name in LIST_SENTENCES:
            rule, list_texts = LIST_SENTENCES[name]
            added = [term(lang, s) for s in new[name] if s not in (old.get(name) or [])]
            gone = [term(lang, s) for s in (old.get(name) or []) if s not in new[name]]
            sep = LABELS[lang]["sep"]
            for items, text in ((added, list_texts[lang][0]), (gone, list_texts[lang][1])):
                if items:
                    out.append(Change(rule, text.format(items=sep.join(items))))
        else:
            text = GENERIC[lang].format(field=name, old=old.get(name), new=new[name])
            out.append(Change("", text))
    return out


def rule_changes(
    registry_root: Path, policy_dir: Path, base: str, lang: Lang, now: datetime
) -> RuleChanges:
    """Compare the registry's config.yaml and the policies with revision `base` in git."""
    current = _config_from(
        (registry_root / "config.yaml").read_text(encoding="utf-8"), "config.yaml"
    )
    before = _config_from(_git_show(registry_root, base, "config.yaml"), f"{base}:config.yaml")
    result = RuleChanges(lang, base, describe(current, before, lang))
    result.policy_files = _changed_files(policy_dir, base)
    result.effective_from = local_time(current.effective_from, current)
    result.problem = revision_problem(current, before, now)
    return result


def _config_from(text: str, where: str) -> Config:
    try:
        return Config.model_validate(yaml_source.parse(text))
    except (yaml_source.YamlError, ValueError) as exc:
        raise RevisionUnavailable(f"{where} is not a valid config ({exc})") from exc


def _git(cwd: Path, *args: str) -> str:
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError) as exc:
        detail = getattr(exc, "stderr", "") or str(exc)
        raise RevisionUnavailable(f"git {' '.join(args)}: {detail.strip()}") from exc
    return done.stdout


def _git_show(registry_root: Path, base: str, name: str) -> str:
    root = registry_root.resolve()
    top = Path(_git(root, "rev-parse", "--show-toplevel").strip())
    return _git(top, "show", f"{base}:{(root / name).relative_to(top).as_posix()}")


def _changed_files(policy_dir: Path, base: str) -> list[str]:
    root = policy_dir.resolve()
    names = _git(root, "diff", "--name-only", "--relative", base, "--", ".").splitlines()
    return sorted(n for n in names if n.endswith(".rego") and not n.endswith("_test.rego"))


def notice_markdown(result: RuleChanges) -> str:
    words = NOTICE[result.lang]
    out = [f"# {words['title']}", ""]
    out += [f"- {c.sentence}" + (f" ({c.rule})" if c.rule else "") for c in result.changes]
    if not result.changes:
        out.append(words["none"])
    if result.policy_files:
        out += ["", words["policies"], ""] + [f"- `{name}`" for name in result.policy_files]
    out.append("")
    if result.effective_from:
        out.append(words["from"].format(when=result.effective_from))
    else:
        out.append(words["undated"])
    return "\n".join(out) + "\n"
