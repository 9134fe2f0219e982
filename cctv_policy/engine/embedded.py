"""The default engine: the real OPA Go library in-process (opa-golib-python-bindings)."""

from __future__ import annotations

import json
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
        """The input as data at INPUT_AS_DATA (see add_data_json)."""
        if encoded is None or not self._takes_json(encoded):
            self.add_data({INPUT_AS_DATA: input})
            return
        self.add_data_json(INPUT_AS_DATA, encoded)

    def _takes_json(self, encoded: bytes) -> bool:
        """Whether JSON can go to the library as it is: plain ASCII JSON with no surrogate
        escape (Go would turn a lone one into U+FFFD, where the library's own encoding refuses
        it), and a library that takes JSON."""
        has_call = hasattr(self._opa, "_call") and hasattr(self._opa, "_lib")
        return has_call and encoded.isascii() and b"\\ud" not in encoded

    def add_data_json(self, path: str, encoded: bytes) -> None:
        """A document given as JSON loaded under data.<path>, without a Python copy of it
        where the library takes the JSON as it is (else decoded and added as add_data)."""
        if not self._takes_json(encoded):
            self.add_data({path: json.loads(encoded)})
            return
        try:
            self._opa._call(self._opa._lib.OpaAddData, path.encode(), encoded)
        except self._error_type as exc:
            raise EngineError(f"OPA could not load data: {exc.message}") from exc
        self._has_data = True

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
