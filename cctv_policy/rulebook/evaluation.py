"""One evaluation context per run: the registry, the engine with its policy version, and now.

The policy input is built once and every entrypoint a command needs (check, enforcement,
valid approvals, reports due) is evaluated against that same document, so one run never sees
two different registries or clocks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, cast

from cctv_policy.engine.base import Engine, EngineError
from cctv_policy.engine.factory import EngineChoice
from cctv_policy.engine.policies import PolicySet
from cctv_policy.engine.scheduling import evaluate_together
from cctv_policy.registry.approvals import NotValidlyApproved, approved_scope
from cctv_policy.registry.input_doc import build_input, canonical_json, input_hash
from cctv_policy.registry.loader import LoadedRegistry, load_registry
from cctv_policy.rulebook.check import CHECK_ENTRYPOINT, CheckResult, run_check
from cctv_policy.rulebook.gate import RegistryNotEnforceable
from cctv_policy.violations import Violation

VALID_APPROVALS = "cctv/approvals/valid"
APPROVED_SCOPES = "cctv/approvals/approved_scopes"
SCOPE_KEYS = frozenset(
    {"cameras", "from", "to", "starts", "ends", "from_ns", "to_ns", "starts_ns", "ends_ns"}
)
INVALID_REASONS = "cctv/approvals/invalid_reasons"


@dataclass
class Evaluation:
    registry: LoadedRegistry
    engine: Engine
    now: datetime
    policy_version: str
    policies: PolicySet | None = None
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def open(cls, registry_dir: Path, engine: EngineChoice, now: datetime) -> Evaluation:
        """Load the registry and the rule book once, for one run. Raises RegistryNotFound,
        FileNotFoundError (no policies) or EngineError."""
        registry = load_registry(registry_dir)
        policies = engine.policies()
        return cls(registry, engine.engine(policies), now, policies.version, policies)

    @property
    def input(self) -> dict[str, Any]:
        if not self.registry.core_readable:
            raise RegistryNotEnforceable(self.input_errors())
        if "input" not in self._cache:
            self._cache["input"] = build_input(self.registry, self.now)
        return cast(dict[str, Any], self._cache["input"])

    @property
    def input_json(self) -> bytes:
        """The input as canonical JSON, encoded once per run (hashed, and loaded by engines)."""
        if "input_json" not in self._cache:
            self._cache["input_json"] = canonical_json(self.input)
        return cast(bytes, self._cache["input_json"])

    @property
    def input_hash(self) -> str:
        if "input_hash" not in self._cache:
            self._cache["input_hash"] = input_hash(self.input, self.input_json)
        return cast(str, self._cache["input_hash"])

    def evaluate(self, entrypoint: str) -> Any:
        """Evaluate an entrypoint once per run over the shared input."""
        key = f"eval:{entrypoint}"
        if key not in self._cache:
            self._cache[key] = self.engine.evaluate(entrypoint, self.input)
        return self._cache[key]

    def evaluate_with_check(self, *entrypoints: str, one_query: bool = False) -> None:
        """The rule book's check and other entrypoints this run will need, asked together
        where scheduling finds that cheapest (engine/scheduling.py). `one_query`: in one
        batched call even where scheduling would share the check out (the approvals read the
        whole check, so evaluating its parts apart first would run the rule book twice). What
        is not answered here is evaluated on its own when asked for, and fails with its own
        error."""
        wanted = (CHECK_ENTRYPOINT, *entrypoints)
        todo = [e for e in wanted if f"eval:{e}" not in self._cache]
        if not todo or not self.registry.core_readable:
            return
        if one_query:
            try:
                answers = self.engine.evaluate_many(todo, self.input)
                values = dict(zip(todo, answers, strict=True))
            except EngineError:
                values = {}
        else:
            values = evaluate_together(self.engine, todo, self.input, self.input_json)
        self._cache.update((f"eval:{entrypoint}", value) for entrypoint, value in values.items())

    def check(self) -> CheckResult:
        """The rule book over the whole registry (data.cctv.check.violations), once per run."""
        if "check" not in self._cache:
            readable = self.registry.core_readable
            # (without core_readable, run_check builds its own input when the rule book can
            # still run; enforcement never uses a registry with input errors)
            self._cache["check"] = run_check(
                self.registry,
                self.engine,
                self.now,
                self.policy_version,
                self.input if readable else None,
                self.input_json if readable else None,
                self._cache.get(f"eval:{CHECK_ENTRYPOINT}"),
            )
        return cast(CheckResult, self._cache["check"])

    def input_errors(self) -> list[Violation]:
        """E_* from the loader and the policies; the registry cannot be read as written."""
        if not self.registry.core_readable:
            return [v for v in self.registry.issues if v.is_input_error] or list(
                self.registry.issues
            )
        return [v for v in self.check().violations if v.is_input_error]

    def valid_approvals(self) -> set[str]:
        """The requests the policies find validly approved (data.cctv.approvals.valid)."""
        raw = self.evaluate(VALID_APPROVALS)
        if not isinstance(raw, list) or not all(isinstance(x, str) for x in raw):
            raise EngineError("data.cctv.approvals.valid is not a set of request ids")
        return set(raw)

    def approved_scopes(self) -> dict[str, dict[str, Any]]:
        """What each valid approval grants, as the policies narrow it
        (data.cctv.approvals.approved_scopes): one evaluation gives the valid approvals too."""
        raw = self.evaluate(APPROVED_SCOPES)
        if not isinstance(raw, dict) or not all(
            isinstance(scope, dict) and set(scope) == SCOPE_KEYS for scope in raw.values()
        ):
            raise EngineError("data.cctv.approvals.approved_scopes is not {request id: scope}")
        return raw

    def invalid_reasons(self, request_id: str) -> list[str]:
        """The error codes that make an approved request's approval invalid."""
        raw = self.evaluate(INVALID_REASONS)
        if not isinstance(raw, dict):
            raise EngineError("data.cctv.approvals.invalid_reasons is not an object")
        return sorted(raw.get(request_id, []))

    def approval_problems(self, request_id: str) -> list[str]:
        """Why an approved request's approval is not valid, by the rule book and by the
        independent floor; empty when both find it valid."""
        problems = []
        if request_id not in self.valid_approvals():
            problems = self.invalid_reasons(request_id) or ["not valid by the rule book"]
        try:
            approved_scope(self.registry, request_id)
        except NotValidlyApproved as exc:
            problems.append(str(exc))
        return problems
