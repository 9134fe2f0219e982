"""Policy engine adapters behind one small interface (see base.Engine)."""

from cctv_policy.engine.base import Engine, EngineError, EngineUndefined
from cctv_policy.engine.factory import ENGINES, EngineChoice, make_engine
from cctv_policy.engine.policies import PolicySet, load_policies

__all__ = [
    "ENGINES",
    "Engine",
    "EngineChoice",
    "EngineError",
    "EngineUndefined",
    "PolicySet",
    "load_policies",
    "make_engine",
]
