"""Run the check entrypoint over a loaded registry and place every violation in its file."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cctv_policy.engine.base import Engine, EngineError
from cctv_policy.registry.input_doc import build_input, input_hash
from cctv_policy.registry.loader import LoadedRegistry, Source
from cctv_policy.violations import Severity, Violation

CHECK_ENTRYPOINT = "cctv/check/violations"

# Where a subject's own file is, for subjects the loader did not see (e.g. a decision whose
# request file is missing still has its own decisions/<id>.yaml).
_FOLDER_OF_KIND = {
    "request": "requests",
    "decision": "decisions",
    "report": "reports",
    "hold": "holds",
    "maintenance": "maintenance",
    "violation": "violations",
    "feedback": "feedback",
}
_LIST_FILE_OF_KIND = {"person": "people.yaml", "camera": "cameras.yaml", "target": "storage.yaml"}


@dataclass
class CheckResult:
    violations: list[Violation]
    policy_version: str
    engine: str
    now: datetime
    input_hash: str | None = None
    policies_ran: bool = True
    counts: dict[str, int] = field(default_factory=dict)

    def add(self, more: list[Violation]) -> None:
        self.violations = _sorted([*self.violations, *more])

    @property
    def errors(self) -> list[Violation]:
        return [v for v in self.violations if v.severity is Severity.error]

    @property
    def warnings(self) -> list[Violation]:
        return [v for v in self.violations if v.severity is Severity.warning]

    @property
    def has_input_errors(self) -> bool:
        return any(v.is_input_error for v in self.violations)

    def summary(self) -> dict[str, Any]:
        return {
            "errors": len(self.errors),
            "warnings": len(self.warnings),
            "by_code": dict(sorted(Counter(v.code for v in self.violations).items())),
            "documents": self.counts,
            "policies_ran": self.policies_ran,
            "policy_version": self.policy_version,
            "engine": self.engine,
            "now": self.now.isoformat(),
            "input_hash": self.input_hash,
        }


def run_check(
    registry: LoadedRegistry,
    engine: Engine,
    now: datetime,
    policy_version: str,
    document: dict[str, Any] | None = None,
) -> CheckResult:
    """Evaluate the rule book once over the whole registry.

    Raises EngineError when the engine fails or the result is undefined or malformed: a check
    that could not run must never look like a pass.
    """
    counts = {
        "people": len(registry.people),
        "cameras": len(registry.cameras),
        "targets": len(registry.targets),
        "requests": len(registry.requests),
        "decisions": len(registry.decisions),
        "reports": len(registry.reports),
        "holds": len(registry.holds),
    }
    violations = list(registry.issues)
    if not registry.core_readable:
        return CheckResult(
            _sorted(violations), policy_version, engine.name, now, policies_ran=False, counts=counts
        )
    document = document if document is not None else build_input(registry, now)
    # The embedded engine releases the GIL while OPA evaluates: hash the input meanwhile.
    with ThreadPoolExecutor(max_workers=1) as pool:
        digest = pool.submit(input_hash, document)
        raw = engine.evaluate(CHECK_ENTRYPOINT, document)
        if not isinstance(raw, list):
            raise EngineError(
                f"data.cctv.check.violations returned {type(raw).__name__}, not a set"
            )
        violations.extend(_place(registry, item) for item in raw)
        return CheckResult(
            _sorted(violations),
            policy_version,
            engine.name,
            now,
            input_hash=digest.result(),
            counts=counts,
        )


def _sorted(violations: list[Violation]) -> list[Violation]:
    return sorted(set(violations), key=Violation.sort_key)


def _place(registry: LoadedRegistry, item: Any) -> Violation:
    try:
        kind, doc_id, field_path = item["kind"], item["id"], list(item.get("field") or [])
        code, severity, message = item["code"], Severity(item["severity"]), item["message"]
    except (TypeError, KeyError, ValueError) as exc:
        raise EngineError(f"policy returned a malformed violation {item!r}") from exc
    source = registry.sources.get((kind, doc_id)) or _fallback_source(kind, doc_id)
    try:
        line, column = registry.position(source, field_path)
    except OSError:
        line, column = 1, 1
    return Violation(
        code=code,
        severity=severity,
        subject=f"{kind}:{doc_id}",
        message=message,
        file=source.file,
        line=line,
        column=column,
        field=".".join(str(p) for p in field_path) or None,
    )


def _fallback_source(kind: str, doc_id: str) -> Source:
    if kind == "attachments":  # a folder of the attachment store, not a document
        return Source(f"attachments/{doc_id}/")
    if kind in _FOLDER_OF_KIND:
        return Source(f"{_FOLDER_OF_KIND[kind]}/{doc_id}.yaml")
    return Source(_LIST_FILE_OF_KIND.get(kind, "config.yaml"))
