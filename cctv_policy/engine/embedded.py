"""The default engine: the real OPA Go library in-process (opa-golib-python-bindings)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cctv_policy.engine.base import EngineError, EngineUndefined, dotted
from cctv_policy.engine.policies import PolicySet

# Where an engine holds an input as data (see hold_input): loading a document as data costs
# OPA about a third of taking it as a query's input, and one `with input as` hands it to the
# policies as their input.
INPUT_AS_DATA = "cctv_policy_input"


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
        self._policies = policies
        self._error_type = OpaError
        self._opa = OpaEngine()
        self._opa.print_handler = lambda message, location: None
        self._has_data = False  # an engine with data (serve's) evaluates on its own
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

    def evaluate_many(self, entrypoints: Sequence[str], input: dict[str, Any]) -> list[Any]:
        """evaluate() of each entrypoint over the same input, in one query (OPA compiles the
        rule book once per distinct query). Raises as evaluate() does if any fails."""
        names = list(entrypoints)
        query = "; ".join(f"x{i} := data.{dotted(e)}" for i, e in enumerate(names))
        rows = self.query(query, input)
        if len(rows) != 1:
            raise self._undefined(names)
        return [rows[0][f"x{i}"] for i in range(len(names))]

    @property
    def policies(self) -> PolicySet:
        return self._policies

    @property
    def holds_data(self) -> bool:
        """Whether data was loaded (serve's registry): such an engine is not copied."""
        return self._has_data

    def evaluate_held(self, entrypoints: Sequence[str]) -> list[Any]:
        """Each entrypoint over the input held as data (hold_input), in one query."""
        names = list(entrypoints)
        values = ", ".join(f"data.{dotted(e)}" for e in names)
        rows = self.query(f"x := [{values}] with input as data.{INPUT_AS_DATA}")
        if len(rows) != 1:
            raise self._undefined(names)
        return list(rows[0]["x"])

    def hold_input(self, input: dict[str, Any], encoded: bytes | None) -> None:
        """The input as data at INPUT_AS_DATA: from its JSON as given when that is plain ASCII
        JSON with no surrogate escape (Go would turn a lone one into U+FFFD, where the
        library's own encoding refuses it) and the library takes JSON as it is; else the
        library encodes it."""
        call, lib = getattr(self._opa, "_call", None), getattr(self._opa, "_lib", None)
        if encoded is None or b"\\ud" in encoded or call is None or lib is None:
            self.add_data({INPUT_AS_DATA: input})
            return
        try:
            call(lib.OpaAddData, INPUT_AS_DATA.encode(), encoded)
        except self._error_type as exc:
            raise EngineError(f"OPA could not load the input: {exc.message}") from exc

    @staticmethod
    def _undefined(entrypoints: list[str]) -> EngineUndefined:
        return EngineUndefined(
            f"one of data.{', data.'.join(dotted(e) for e in entrypoints)} is undefined"
        )

    def add_data(self, document: dict[str, Any]) -> None:
        """Load a document under data (e.g. the registry, for many small evaluations)."""
        try:
            self._opa.add_data(document)
        except self._error_type as exc:
            raise EngineError(f"OPA could not load data: {exc.message}") from exc
        self._has_data = True

    def query(self, query: str, input: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Run an ad-hoc Rego query (used by the Rego test runner)."""
        try:
            rows: list[dict[str, Any]] = self._opa.eval_query(query, input)
            return rows
        except self._error_type as exc:
            raise EngineError(f"OPA evaluation failed: {exc.message}") from exc

    def close(self) -> None:
        self._opa.close()
