"""The storage targets of storage.yaml as backends: one table from `kind` to backend."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from cctv_policy.registry.loader import LoadedRegistry
from cctv_policy.registry.models import StorageTarget
from storage_backends.base import Backend
from storage_backends.day_workers import DayWorkers
from storage_backends.filesystem import FilesystemBackend

if TYPE_CHECKING:
    from storage_backends.s3 import S3Backend


class TargetError(Exception):
    """A target cannot be reached or is not usable (exit 2)."""


def parse_root_overrides(values: tuple[str, ...]) -> dict[str, Path]:
    overrides = {}
    for value in values:
        target, sep, root = value.partition("=")
        if not sep or not target or not root:
            raise TargetError(f"--storage-root {value!r}: write it as TARGET=DIR")
        overrides[target] = Path(root)
    return overrides


class TargetSkipped(Exception):
    """A target that cannot be used from here, but need not be (no S3 credentials)."""


def _filesystem(
    target: StorageTarget, root_override: Path | None, workers: DayWorkers | None
) -> Backend:
    root = root_override or Path(target.root or "")
    if not root.is_dir():
        raise TargetError(
            f"target {target.id}: root {root} is not a directory "
            f"(mount it, or pass --storage-root {target.id}=DIR)"
        )
    return FilesystemBackend(target.id, root, target.parsed_layout(), workers)


def _s3(target: StorageTarget, root_override: Path | None, workers: DayWorkers | None) -> Backend:
    if not s3_ready():
        raise TargetSkipped(
            "no S3 credentials in the environment (AWS_ACCESS_KEY_ID/"
            "AWS_SECRET_ACCESS_KEY or a boto3 profile)"
        )
    return s3_backend(target)


def s3_backend(target: StorageTarget) -> S3Backend:
    """The bucket of an s3 target (credentials from the environment, never the registry): the
    one place one is made, also for anchors, bundle publishing and lifecycle suspension."""
    from storage_backends.s3 import S3Backend  # boto3 is imported only where S3 is used

    return S3Backend.from_target(target, target.parsed_layout())


# The backend for each `kind` of storage.yaml (from the target, a root given in place of
# storage.yaml's, and the run's worker processes, if it has any).
BACKENDS: dict[str, Callable[[StorageTarget, Path | None, DayWorkers | None], Backend]] = {
    "filesystem": _filesystem,
    "s3": _s3,
}


def make_backends(
    registry: LoadedRegistry,
    only: str | None = None,
    root_overrides: dict[str, Path] | None = None,
    workers: DayWorkers | None = None,
) -> tuple[dict[str, Backend], dict[str, str]]:
    """Backends for the targets that hold cameras (or just `only`), and the targets skipped
    with the reason. `workers`: the run's pool of worker processes (None: none)."""
    overrides = root_overrides or {}
    unknown = sorted(set(overrides) - set(registry.targets))
    if unknown:
        raise TargetError(
            f"--storage-root names {', '.join(unknown)}, which storage.yaml does "
            f"not have (targets: {', '.join(sorted(registry.targets))})"
        )
    if only is not None and only not in registry.targets:
        raise TargetError(
            f"--target {only!r} is not in storage.yaml "
            f"(targets: {', '.join(sorted(registry.targets))})"
        )
    used = set(registry.camera_targets.values())
    backends: dict[str, Backend] = {}
    skipped: dict[str, str] = {}
    for target_id, target in sorted(registry.targets.items()):
        if (only and target_id != only) or (not only and target_id not in used):
            continue
        try:
            backends[target_id] = BACKENDS[target.kind](target, overrides.get(target_id), workers)
        except TargetSkipped as why:
            if only == target_id:
                raise TargetError(f"target {target_id}: {why}") from None
            skipped[target_id] = f"{why}; nothing planned for it"
    return backends, skipped


def s3_ready() -> bool:
    """True when boto3 can find credentials (environment, profile, instance role)."""
    import boto3

    return boto3.Session().get_credentials() is not None


def reachable_backends(
    registry: LoadedRegistry, storage_roots: tuple[str, ...] = ()
) -> dict[str, Backend]:
    """A backend for every target that can be reached from here (for reading only); the others
    are left out, for the caller to report as not read."""
    overrides = parse_root_overrides(storage_roots)
    backends: dict[str, Backend] = {}
    for target in registry.targets:
        try:
            backends.update(make_backends(registry, target, overrides)[0])
        except TargetError:
            continue
    return backends
