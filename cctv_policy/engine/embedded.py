"""The default engine: the real OPA Go library in-process (opa-golib-python-bindings)."""

from __future__ import annotations

from typing import Any

from cctv_policy.engine.base import EngineError, EngineUndefined, dotted
from cctv_policy.engine.policies import PolicySet


class EmbeddedEngine:
    name = "embedded"

    def __init__(self, policies: PolicySet) -> None:
        try:
            from opa_bindings import OpaEngine, OpaError
        except ImportError as exc:  # pragma: no cover - exercised only on broken installs
            raise EngineError(
                "the embedded OPA engine is not installed; run scripts/install.sh "
                "(it installs opa-golib-python-bindings) or use --engine opa --opa-url URL"
            ) from exc
        self._error_type = OpaError
        self._opa = OpaEngine()
        self._opa.print_handler = lambda message, location: None
        try:
            for module in policies.modules:
                self._opa.add_policy(module.path, module.source)
        except OpaError as exc:
            raise EngineError(f"policy does not compile: {exc.message}") from exc

    def evaluate(self, entrypoint: str, input: dict[str, Any]) -> Any:
        from opa_bindings import OpaUndefinedError

        try:
            return self._opa.eval_document(dotted(entrypoint), input)
        except OpaUndefinedError as exc:
            raise EngineUndefined(f"data.{dotted(entrypoint)} is undefined") from exc
        except self._error_type as exc:
            raise EngineError(f"OPA evaluation failed: {exc.message}") from exc

    def add_data(self, document: dict[str, Any]) -> None:
        """Load a document under data (e.g. the registry, for many small evaluations)."""
        try:
            self._opa.add_data(document)
        except self._error_type as exc:
            raise EngineError(f"OPA could not load data: {exc.message}") from exc

    def query(self, query: str, input: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Run an ad-hoc Rego query (used by the Rego test runner)."""
        try:
            rows: list[dict[str, Any]] = self._opa.eval_query(query, input)
            return rows
        except self._error_type as exc:
            raise EngineError(f"OPA evaluation failed: {exc.message}") from exc

    def close(self) -> None:
        self._opa.close()
