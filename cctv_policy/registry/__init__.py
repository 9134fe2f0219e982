"""The registry: pydantic models, YAML loading with source positions, reference resolution."""

from cctv_policy.registry.loader import LoadedRegistry, load_registry

__all__ = ["LoadedRegistry", "load_registry"]
