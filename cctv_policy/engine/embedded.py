"""The default engine: the real OPA Go library in-process (opa-golib-python-bindings)."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from cctv_policy.engine.base import EngineError, EngineUndefined, dotted
from cctv_policy.engine.policies import PolicySet

# evaluate_many works on this many groups of entrypoints at once, each in an engine of its own
# (one OPA evaluation is single-threaded, and the library releases the GIL while it runs).
MAX_SIDE_BY_SIDE = max(1, min(os.cpu_count() or 1, 4))
# Where such an engine holds the input: loading a document as data costs OPA about a third of
# taking it as a query's input (0.25 s against 0.8 s for bench/check_bench.py's registry), and
# one `with input as` hands it to the policies as their input.
INPUT_AS_DATA = "cctv_policy_input"
# Below this size of input (its canonical JSON) one engine evaluates every entrypoint itself:
# a new engine compiles the rule book first (about 0.07 s), which only pays on a large
# registry (bench/sweep_bench.py's 50 cameras: the gate took 0.12 s in two new engines).
SIDE_BY_SIDE_FROM = 1 << 20


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

    def evaluate_many(
        self,
        entrypoints: Sequence[str],
        input: dict[str, Any],
        costs: Sequence[float] | None = None,
        encoded: bytes | None = None,
    ) -> list[Any]:
        """The entrypoints shared out into groups of about equal cost, one per core, each
        evaluated as one query in a new engine of its own holding the input as data. An
        engine with data loaded evaluates them as one group itself (new engines would need a
        copy)."""
        count = min(len(entrypoints), MAX_SIDE_BY_SIDE) if self.side_by_side(encoded) else 1
        if count < 2:
            return self._evaluate_group(list(entrypoints), input)
        groups = share_out(entrypoints, costs or [1.0] * len(entrypoints), count)
        with ThreadPoolExecutor(max_workers=count) as pool:
            results = list(
                pool.map(lambda group: self._evaluate_apart(group, input, encoded), groups)
            )
        values: dict[str, Any] = {}
        for group, result in zip(groups, results, strict=True):
            values.update(zip(group, result, strict=True))
        return [values[entrypoint] for entrypoint in entrypoints]

    def side_by_side(self, encoded: bytes | None) -> bool:
        """Only a large input (or one of unknown size) is shared out over new engines, and
        never by an engine holding data. Every other evaluate_many is one query, and OPA
        compiles the rule book once per distinct query (about 0.025 s): one query for
        everything a run needs is the cheapest."""
        small = encoded is not None and len(encoded) < SIDE_BY_SIDE_FROM
        return not (self._has_data or small) and MAX_SIDE_BY_SIDE > 1

    def _evaluate_group(self, entrypoints: list[str], input: dict[str, Any]) -> list[Any]:
        query = "; ".join(f"x{i} := data.{dotted(e)}" for i, e in enumerate(entrypoints))
        rows = self.query(query, input)
        if len(rows) != 1:
            raise self._undefined(entrypoints)
        return [rows[0][f"x{i}"] for i in range(len(entrypoints))]

    def _evaluate_apart(
        self, entrypoints: list[str], input: dict[str, Any], encoded: bytes | None
    ) -> list[Any]:
        engine = EmbeddedEngine(self._policies)
        try:
            engine._load_input(input, encoded)
            values = ", ".join(f"data.{dotted(e)}" for e in entrypoints)
            rows = engine.query(f"x := [{values}] with input as data.{INPUT_AS_DATA}")
        finally:
            engine.close()
        if len(rows) != 1:
            raise self._undefined(entrypoints)
        return list(rows[0]["x"])

    def _load_input(self, input: dict[str, Any], encoded: bytes | None) -> None:
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


def share_out(items: Sequence[str], costs: Sequence[float], count: int) -> list[list[str]]:
    """Items into `count` groups of about equal total cost: the costliest first, each into the
    group that costs least so far."""
    groups: list[list[str]] = [[] for _ in range(count)]
    totals = [0.0] * count
    for cost, item in sorted(zip(costs, items, strict=True), key=lambda pair: -pair[0]):
        lightest = totals.index(min(totals))
        groups[lightest].append(item)
        totals[lightest] += cost
    return groups
