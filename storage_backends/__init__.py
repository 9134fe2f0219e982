"""Storage backends for footage: a small Protocol (base.Backend) and its implementations."""

from storage_backends.base import Backend, DeleteResult, Segment, UnparsableKey
from storage_backends.layout import Layout

__all__ = ["Backend", "DeleteResult", "Layout", "Segment", "UnparsableKey"]
