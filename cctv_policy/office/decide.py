"""The security office's review (R5): writing a decision that pins what it decides.

`decide` drafts the decision, puts it into the registry in memory, and runs the rule book over
it before anything is written: a decision that `check` would reject (decider outside the
security office, deciding one's own request, widening the request, a rejection without reasons,
approving a request that breaks the rule book) is refused with the violations that say why.
The file is written with ruamel.yaml, so a decision written again keeps its comments.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from cctv_policy.engine.base import Engine
from cctv_policy.registry import writer
from cctv_policy.registry.loader import LoadedRegistry, Source
from cctv_policy.registry.models import AS_REQUESTED, Decision
from cctv_policy.registry.types import parse_rfc3339
from cctv_policy.rulebook.check import run_check
from cctv_policy.rulebook.evaluation import Evaluation
from cctv_policy.violations import Severity, Violation

NARROWABLE = ("cameras", "from", "to", "starts", "ends")


class DecideRefused(Exception):
    """The decision is not written; `violations` (if any) say what check would reject."""

    def __init__(self, message: str, violations: list[Violation] | None = None) -> None:
        super().__init__(message)
        self.violations = violations or []


@dataclass
class DecisionDraft:
    request_id: str
    approve: bool
    decided_by: str
    reasons: list[str]
    now: datetime
    supervisor: str | None = None
    narrow: dict[str, str] = field(default_factory=dict)
    third_party_allowed: bool = False
    watermark: bool = False
    notes: str = ""


def parse_narrow(values: tuple[str, ...]) -> dict[str, str]:
    """--narrow cameras=A,B | from=T | to=T | starts=T | ends=T (repeatable)."""
    out: dict[str, str] = {}
    for value in values:
        key, sep, rest = value.partition("=")
        if not sep or key not in NARROWABLE or not rest.strip():
            raise DecideRefused(
                f"--narrow {value!r}: write one of {', '.join(k + '=...' for k in NARROWABLE)}"
            )
        if key in out:
            raise DecideRefused(f"--narrow {key}= is given twice; give each once")
        out[key] = rest.strip()
    return out


def decide(
    registry: LoadedRegistry,
    engine: Engine,
    policy_version: str,
    draft: DecisionDraft,
    replace: bool = False,
) -> Path:
    """Check the draft against the rule book, then write decisions/<id>.yaml. Returns its path."""
    if draft.request_id not in registry.requests:
        raise DecideRefused(
            f"there is no readable request {draft.request_id} in {registry.root}/requests/"
        )
    path = registry.root / "decisions" / f"{draft.request_id}.yaml"
    existing = registry.decisions.get(draft.request_id)
    if existing is not None and not replace:
        raise DecideRefused(
            f"{draft.request_id} already has a decision ({existing.decision} by "
            f"{existing.decided_by}); pass --replace to decide again"
        )
    decision = _model(registry, draft)
    problems = _rule_book_problems(registry, engine, policy_version, decision, draft)
    if problems:
        raise DecideRefused(
            f"the decision on {draft.request_id} breaks the rule book; nothing was written",
            problems,
        )
    _write(registry, path, decision)
    return path


def _model(registry: LoadedRegistry, draft: DecisionDraft) -> Decision:
    scope: dict[str, object] = {}
    for key, value in draft.narrow.items():
        scope[key] = (
            [c.strip() for c in value.split(",") if c.strip()]
            if key == "cameras"
            else _moment(key, value)
        )
    conditions: dict[str, object] = {}
    if draft.supervisor:
        conditions["supervised_by"] = draft.supervisor
    if draft.third_party_allowed:
        conditions["third_party_allowed"] = True
    if draft.watermark:
        conditions["watermark"] = True
    if draft.notes:
        conditions["notes"] = draft.notes
    try:
        return Decision.model_validate(
            {
                "request": draft.request_id,
                "request_sha256": registry.request_sha256[draft.request_id],
                "decision": "approved" if draft.approve else "rejected",
                "decided_by": draft.decided_by,
                "decided_at": draft.now,
                "reasons": [r.strip() for r in draft.reasons if r.strip()],
                "conditions": conditions,
                "scope": scope,
            }
        )
    except ValidationError as exc:
        details = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise DecideRefused(f"the decision cannot be written as given: {details}") from exc


def _moment(key: str, value: str) -> datetime:
    try:
        return parse_rfc3339(value)
    except ValueError as exc:
        raise DecideRefused(f"--narrow {key}={value}: {exc}") from exc


def _rule_book_problems(
    registry: LoadedRegistry,
    engine: Engine,
    policy_version: str,
    decision: Decision,
    draft: DecisionDraft,
) -> list[Violation]:
    trial = copy.copy(registry)
    trial.decisions = {**registry.decisions, draft.request_id: decision}
    trial.sources = {
        **registry.sources,
        ("decision", draft.request_id): Source(f"decisions/{draft.request_id}.yaml"),
    }
    trial._trees = {}  # positions in the trial come from files that do not exist yet
    result = run_check(trial, engine, draft.now, policy_version)
    mine = {f"decision:{draft.request_id}"}
    if draft.approve:
        mine.add(f"request:{draft.request_id}")
        request = registry.requests[draft.request_id]
        mine |= {f"camera:{c}" for c in [*request.footage.cameras, *(decision.scope.cameras or [])]}
    problems = [
        v
        for v in result.violations
        if v.severity is Severity.error and (v.subject in mine or v.is_input_error)
    ]
    if draft.approve and not problems:
        evaluation = Evaluation(trial, engine, draft.now, policy_version)
        problems += [
            Violation(
                code="DECISION_NOT_VALID",
                severity=Severity.error,
                subject=f"decision:{draft.request_id}",
                message=reason,
                file=f"decisions/{draft.request_id}.yaml",
            )
            for reason in evaluation.approval_problems(draft.request_id)
        ]
    return problems


def _write(registry: LoadedRegistry, path: Path, decision: Decision) -> None:
    assert registry.config is not None
    zone = ZoneInfo(registry.config.timezone)
    scope = decision.scope.model_dump(by_alias=True, exclude_none=True)
    # Always written, and early: a file cut short loses `decided_by` too, so it never reads
    # as an approval of everything asked (a decision without `scope:` is E_SCHEMA).
    values: dict[str, object] = {
        "request": decision.request,
        "request_sha256": decision.request_sha256,
        "decision": decision.decision,
        "scope": {
            k: writer.flow_list(v) if k == "cameras" else writer.timestamp(v, zone)
            for k, v in scope.items()
        }
        or AS_REQUESTED,
        "decided_by": decision.decided_by,
        "decided_at": writer.timestamp(decision.decided_at, zone),
        "reasons": [writer.text(r) for r in decision.reasons],
    }
    conditions = decision.conditions.model_dump(exclude_defaults=True)
    if conditions:
        values["conditions"] = conditions
    if path.exists():
        document = writer.update(writer.load(path.read_text(encoding="utf-8")), values)
    else:
        document = writer.update(writer.CommentedMap(), values)
        document.yaml_set_start_comment(
            f"Decision on {decision.request} by `cctv-policy "
            "decide`; request_sha256 pins the request decided."
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(writer.dump(document), encoding="utf-8")
    tmp.replace(path)
