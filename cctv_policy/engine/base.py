"""The engine interface: one batched evaluation of an entrypoint over one input document."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol


class EngineError(Exception):
    """The engine could not evaluate (not installed, unreachable, policy error). Fail closed."""


class EngineUndefined(EngineError):
    """The entrypoint evaluated to undefined: never read as 'no violations' or 'allowed'."""


class Engine(Protocol):
    name: str

    def evaluate(self, entrypoint: str, input: dict[str, Any]) -> Any:
        """Evaluate `data.<entrypoint>` (slash- or dot-separated) against `input`.

        Raises EngineUndefined when the document is undefined and EngineError for anything else
        that went wrong; never returns a default in their place.
        """
        ...

    def evaluate_many(self, entrypoints: Sequence[str], input: dict[str, Any]) -> list[Any]:
        """evaluate() of each entrypoint over the same input, in order, in one call (batched:
        one call per run, not one per document). Raises as evaluate() does if any fails.
        How a run's evaluations are shared out over engines is scheduling.py's concern."""
        ...

    def query(self, query: str, input: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Run an ad-hoc Rego query; one dict of bindings per result (the Rego test runner)."""
        ...

    def close(self) -> None:
        """Release the engine's resources."""
        ...


def dotted(entrypoint: str) -> str:
    return entrypoint.strip("/").replace("/", ".")
