"""Pick an engine by name (the CLI's --engine)."""

from __future__ import annotations

from cctv_policy.engine.base import Engine, EngineError
from cctv_policy.engine.policies import PolicySet

ENGINE_NAMES = ("embedded", "opa")


def make_engine(name: str, policies: PolicySet, opa_url: str | None = None,
                upload_policies: bool = False) -> Engine:
    if name == "embedded":
        from cctv_policy.engine.embedded import EmbeddedEngine

        return EmbeddedEngine(policies.without_tests())
    if name == "opa":
        from cctv_policy.engine.opa_server import OpaServerEngine

        if not opa_url:
            raise EngineError("--engine opa needs --opa-url (e.g. http://127.0.0.1:8181)")
        return OpaServerEngine(opa_url, policies if upload_policies else None)
    raise EngineError(f"unknown engine {name!r}; choose one of {', '.join(ENGINE_NAMES)}")
