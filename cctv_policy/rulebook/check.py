"""Run the check entrypoint over a loaded registry and place every violation in its file."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from cctv_policy.engine.base import Engine, EngineError, dotted
from cctv_policy.engine.scheduling import Union, evaluate_union
from cctv_policy.messages import Language, did_you_mean, localize
from cctv_policy.output import printable
from cctv_policy.registry.input_doc import build_input, canonical_json, input_hash
from cctv_policy.registry.loader import LoadedRegistry, Source
from cctv_policy.violations import Severity, Violation
from cctv_policy.waivers import Waived, split_waived

CHECK_ENTRYPOINT = "cctv/check/violations"
# The check is the union of the rule book's named parts (scheduling may evaluate them apart).
CHECK_PARTS = Union(CHECK_ENTRYPOINT, "cctv/check/part_names", "cctv/check/parts/{}")

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
    "waiver": "waivers",
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
    # The files a pull request changes (check --changed-since): reported first; None: all.
    focus: frozenset[str] | None = None
    # The language of the messages (set by `localized`), for the renderers' own words.
    lang: Language = "en"
    # Warnings set aside by waivers in force (#28): shown, not counted.
    waived: list[Waived] = field(default_factory=list)
    timezone: str = "UTC"  # the campus zone (config.yaml), for times people read

    def in_focus(self, violation: Violation) -> bool:
        return self.focus is None or violation.file in self.focus

    @property
    def ordered(self) -> list[Violation]:
        """The violations, those in the focus files first (each part in file:line order)."""
        return sorted(self.violations, key=lambda v: not self.in_focus(v))

    def localized(self, lang: Language) -> CheckResult:
        """The same result with every message and fix in `lang`."""
        waived = [replace(w, violation=localize(w.violation, lang)) for w in self.waived]
        violations = [localize(v, lang) for v in self.violations]
        return replace(self, violations=violations, lang=lang, waived=waived)

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
            "waived": len(self.waived),
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
    encoded: bytes | None = None,
    evaluated: Any = None,
) -> CheckResult:
    """Evaluate the rule book once over the whole registry (`evaluated`: its answer, when the
    caller had it evaluated along with other entrypoints over the same document).

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
    if not registry.rule_book_can_run:
        return CheckResult(
            _sorted(violations), policy_version, engine.name, now, policies_ran=False, counts=counts
        )
    document = document if document is not None else build_input(registry, now)
    # Encoded once: hashed, and loaded as it is by the engines evaluating the rule book.
    encoded = encoded if encoded is not None else canonical_json(document)
    raw = (
        evaluate_union(engine, CHECK_PARTS, document, encoded)
        if evaluated is None
        else _a_set(f"data.{dotted(CHECK_ENTRYPOINT)}", evaluated)
    )
    placed = [_place(registry, item) for item in raw]
    placed += _partial_violations(registry, engine, document)
    violations.extend(v for v in placed if not _about_unreadable_entry(registry, v))
    counted, waived = split_waived(registry, _sorted(violations), now, policies_ran=True)
    return CheckResult(
        counted,
        policy_version,
        engine.name,
        now,
        input_hash=input_hash(document, encoded),
        counts=counts,
        waived=waived,
        timezone=registry.config.timezone if registry.config else "UTC",
    )


def _a_set(what: str, value: Any) -> list[Any]:
    """A set as OPA returns it (a JSON array), or EngineError: never read as no violations."""
    if not isinstance(value, list):
        raise EngineError(f"{what} returned {type(value).__name__}, not a set")
    return value


def _partial_violations(
    registry: LoadedRegistry, engine: Engine, document: dict[str, Any]
) -> list[Violation]:
    """The rule book over what could be read of documents with input errors, so one run shows
    all of a document's problems. Only those documents' own violations are kept, and none on a
    field that had an input error: the documents were left out of the first evaluation, so
    nothing about the rest of the registry changes."""
    if not registry.partial:
        return []
    with_partial = dict(document)
    unreadable = {kind: set(ids) for kind, ids in registry.unreadable.items()}
    for kind, documents in registry.partial.items():
        plural = _FOLDER_OF_KIND[kind]
        with_partial[plural] = {**document.get(plural, {}), **documents}
        unreadable[kind] = unreadable.get(kind, set()) - set(documents)
    with_partial["unreadable"] = {kind: sorted(ids) for kind, ids in unreadable.items()}
    kept = []
    for item in evaluate_union(engine, CHECK_PARTS, with_partial):
        if not isinstance(item, dict):
            continue
        subject = (item.get("kind"), item.get("id"))
        if subject not in registry.partial_fields:
            continue
        path = tuple(item.get("field") or ())
        if any(_overlaps(path, bad) for bad in registry.partial_fields[subject]):
            continue
        kept.append(_place(registry, item))
    return kept


_LIST_KINDS = ("person", "camera", "target")


def _about_unreadable_entry(registry: LoadedRegistry, violation: Violation) -> bool:
    """A violation about a person, camera or target whose entry had input errors (already
    reported): the rule book saw it as missing, so what it says is not trustworthy."""
    value = dict(violation.params).get("value")
    return value is not None and any(
        value in registry.unreadable.get(kind, ()) for kind in _LIST_KINDS
    )


def _overlaps(a: tuple[Any, ...], b: tuple[Any, ...]) -> bool:
    shorter = min(len(a), len(b))
    return a[:shorter] == b[:shorter]


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
        value = registry.value_at(source, field_path)
    except OSError:
        line, column, value = 1, 1, None
    return Violation(
        code=code,
        severity=severity,
        subject=f"{kind}:{doc_id}",
        message=message,
        file=source.file,
        line=line,
        column=column,
        field=".".join(str(p) for p in field_path) or None,
        params=_params(registry, code, value),
    )


def _params(registry: LoadedRegistry, code: str, value: str | None) -> tuple[tuple[str, str], ...]:
    """The value written at the violation's field and, for a name that does not exist, the
    closest one that does."""
    if value is None:
        return ()
    params = {"value": printable(value)}
    choices = _CHOICES.get(code, lambda r: [])(registry)
    close = did_you_mean(value, choices)
    if close and close != value:
        params["choice"] = close
    return tuple(sorted(params.items()))


_CHOICES: dict[str, Callable[[LoadedRegistry], list[str]]] = {
    "E_REFERENCE": lambda r: [*r.people, *r.cameras, *r.targets, *r.holds],
    "REQUEST_PURPOSE_NOT_ALLOWED": lambda r: list(r.config.allowed_purposes if r.config else []),
}


def _fallback_source(kind: str, doc_id: str) -> Source:
    if kind == "attachments":  # a folder of the attachment store, not a document
        return Source(f"attachments/{doc_id}/")
    if kind in _FOLDER_OF_KIND:
        return Source(f"{_FOLDER_OF_KIND[kind]}/{doc_id}.yaml")
    return Source(_LIST_FILE_OF_KIND.get(kind, "config.yaml"))
