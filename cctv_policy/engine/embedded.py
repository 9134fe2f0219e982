"""The default engine: the real OPA Go library in-process (opa-golib-python-bindings)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from cctv_policy.engine.base import EngineError, EngineUndefined, dotted
from cctv_policy.engine.policies import PolicySet

# evaluate_many works on this many groups of entrypoints at once, each in an engine of its own
# (one OPA evaluation is single-threaded, and the library releases the GIL while it runs).
MAX_SIDE_BY_SIDE = max(1, min(os.cpu_count() or 1, 4))


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
        self._siblings: list[EmbeddedEngine] = []  # for evaluate_many, made on first use
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
        """The entrypoints dealt round-robin into groups, one per core; each group is one query
        (so the input is handed to OPA once per group) in an engine of its own. An engine
        with data loaded evaluates them as one group itself (siblings would need a copy)."""
        count = 1 if self._has_data else min(len(entrypoints), MAX_SIDE_BY_SIDE)
        if count < 2:
            return self._evaluate_group(list(entrypoints), input)
        groups = [list(entrypoints[i::count]) for i in range(count)]
        while len(self._siblings) < count - 1:
            self._siblings.append(EmbeddedEngine(self._policies))
        engines = [self, *self._siblings][:count]
        with ThreadPoolExecutor(max_workers=count) as pool:
            futures = [
                pool.submit(engine._evaluate_group, group, input)
                for engine, group in zip(engines, groups, strict=True)
            ]
            results = [future.result() for future in futures]
        values: dict[str, Any] = {}
        for group, result in zip(groups, results, strict=True):
            values.update(zip(group, result, strict=True))
        return [values[entrypoint] for entrypoint in entrypoints]

    def _evaluate_group(self, entrypoints: list[str], input: dict[str, Any]) -> list[Any]:
        query = "; ".join(f"x{i} := data.{dotted(e)}" for i, e in enumerate(entrypoints))
        rows = self.query(query, input)
        if len(rows) != 1:
            raise EngineUndefined(
                f"one of data.{', data.'.join(dotted(e) for e in entrypoints)} is undefined"
            )
        return [rows[0][f"x{i}"] for i in range(len(entrypoints))]

    def add_data(self, document: dict[str, Any]) -> None:
        """Load a document under data (e.g. the registry, for many small evaluations)."""
        try:
            self._opa.add_data(document)
        except self._error_type as exc:
            raise EngineError(f"OPA could not load data: {exc.message}") from exc
        self._has_data = True
        for sibling in self._siblings:
            sibling.close()
        self._siblings = []

    def query(self, query: str, input: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Run an ad-hoc Rego query (used by the Rego test runner)."""
        try:
            rows: list[dict[str, Any]] = self._opa.eval_query(query, input)
            return rows
        except self._error_type as exc:
            raise EngineError(f"OPA evaluation failed: {exc.message}") from exc

    def close(self) -> None:
        for sibling in self._siblings:
            sibling.close()
        self._opa.close()
