"""Engines by name (the CLI's --engine) and the engine options every command takes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cctv_policy.engine.base import Engine, EngineError
from cctv_policy.engine.policies import PolicySet, load_policies


def _embedded(choice: EngineChoice, policies: PolicySet) -> Engine:
    from cctv_policy.engine.embedded import EmbeddedEngine

    return EmbeddedEngine(policies.without_tests())


def _opa_server(choice: EngineChoice, policies: PolicySet) -> Engine:
    from cctv_policy.engine.opa_server import OpaServerEngine

    if not choice.opa_url:
        raise EngineError("--engine opa needs --opa-url (e.g. http://127.0.0.1:8181)")
    return OpaServerEngine(choice.opa_url, policies if choice.opa_upload else None)


ENGINES: dict[str, Callable[[EngineChoice, PolicySet], Engine]] = {
    "embedded": _embedded,
    "opa": _opa_server,
}


@dataclass(frozen=True)
class EngineChoice:
    """Which engine evaluates which rule book (--engine, --opa-url, --opa-upload,
    --policies)."""

    name: str = "embedded"
    opa_url: str | None = None
    opa_upload: bool = False
    policy_dir: Path | None = None

    def policies(self) -> PolicySet:
        return load_policies(self.policy_dir)

    def engine(self, policies: PolicySet) -> Engine:
        make = ENGINES.get(self.name)
        if make is None:
            raise EngineError(f"unknown engine {self.name!r}; choose one of {', '.join(ENGINES)}")
        return make(self, policies)


def make_engine(
    name: str, policies: PolicySet, opa_url: str | None = None, upload_policies: bool = False
) -> Engine:
    return EngineChoice(name, opa_url, upload_policies).engine(policies)
