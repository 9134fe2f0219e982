"""Storage backends for the registry's targets."""

from __future__ import annotations

from pathlib import Path

from cctv_policy.registry.loader import LoadedRegistry
from storage_backends.base import Backend
from storage_backends.filesystem import FilesystemBackend


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


def make_backends(registry: LoadedRegistry, only: str | None = None,
                  root_overrides: dict[str, Path] | None = None
                  ) -> tuple[dict[str, Backend], dict[str, str]]:
    """Backends for the targets that hold cameras (or just `only`), and the targets skipped
    with the reason."""
    overrides = root_overrides or {}
    unknown = sorted(set(overrides) - set(registry.targets))
    if unknown:
        raise TargetError(f"--storage-root names {', '.join(unknown)}, which storage.yaml does "
                          f"not have (targets: {', '.join(sorted(registry.targets))})")
    used = {camera.storage for camera in registry.cameras.values()}
    if only is not None and only not in registry.targets:
        raise TargetError(f"--target {only!r} is not in storage.yaml "
                          f"(targets: {', '.join(sorted(registry.targets))})")
    backends: dict[str, Backend] = {}
    skipped: dict[str, str] = {}
    for target_id, target in sorted(registry.targets.items()):
        if (only and target_id != only) or (not only and target_id not in used):
            continue
        layout = target.parsed_layout()
        if target.kind == "filesystem":
            root = overrides.get(target_id, Path(target.root or ""))
            if not root.is_dir():
                raise TargetError(f"target {target_id}: root {root} is not a directory "
                                  f"(mount it, or pass --storage-root {target_id}=DIR)")
            backends[target_id] = FilesystemBackend(target_id, root, layout)
        elif s3_ready():
            from storage_backends.s3 import S3Backend

            backends[target_id] = S3Backend.from_target(target, layout)
        elif only == target_id:
            raise TargetError(f"target {target_id}: no S3 credentials in the environment "
                              "(AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or a boto3 profile)")
        else:
            skipped[target_id] = "no S3 credentials in the environment; nothing planned for it"
    return backends, skipped


def s3_ready() -> bool:
    """True when boto3 can find credentials (environment, profile, instance role)."""
    import boto3

    return boto3.Session().get_credentials() is not None
