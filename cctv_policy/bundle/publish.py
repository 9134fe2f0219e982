"""Publishing a bundle where a fleet of OPA servers polls for it: an S3 target of storage.yaml
(OPA's bundle service with `credentials.s3_signing`). One object, replaced on each publish;
OPA downloads it when its ETag changes. Never by an older bundle (freshness.py): the object's
metadata names the registry commit and the time it was built.

The bucket (or at least the bundle's prefix) must be one that footage writers (recorders, the
enforcer's storage key) cannot write: whoever can put an object there chooses what the fleet
decides until that bundle's validity ends."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cctv_policy.bundle.build import Bundle
from cctv_policy.bundle.freshness import rollback_reason
from cctv_policy.registry.loader import LoadedRegistry
from cctv_policy.targets import TargetError, s3_backend

DEFAULT_OBJECT_KEY = "bundles/cctv-policy.tar.gz"


class NewerBundlePublished(Exception):
    """The bundle in place is newer than this one: it is not replaced (exit 1)."""


@dataclass(frozen=True)
class Published:
    bucket: str
    key: str
    endpoint: str | None

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


def publish_bundle(
    bundle: Bundle, registry: LoadedRegistry, spec: str, object_key: str = DEFAULT_OBJECT_KEY
) -> Published:
    """Put the bundle on `s3:TARGET` at <target prefix><object_key>. Raises TargetError."""
    kind, _, target_id = spec.partition(":")
    target = registry.targets.get(target_id)
    if kind != "s3" or target is None or target.kind != "s3":
        s3_targets = sorted(t.id for t in registry.targets.values() if t.kind == "s3")
        raise TargetError(
            f"--publish {spec!r}: write s3:TARGET with an s3 target of storage.yaml "
            f"({', '.join(s3_targets) or 'it has none'})"
        )
    from botocore.exceptions import BotoCoreError, ClientError

    backend = s3_backend(target)
    key = f"{backend.prefix}{object_key.lstrip('/')}"
    try:
        reason = rollback_reason(
            _published_metadata(backend.client, backend.bucket, key),
            bundle.registry_commit,
            bundle.issued_at,
            registry.root,
        )
        if reason is not None:
            raise NewerBundlePublished(
                f"s3://{backend.bucket}/{key} is not replaced: {reason}; an older bundle would "
                "give back what the newer one revoked"
            )
        backend.client.put_object(
            Bucket=backend.bucket,
            Key=key,
            Body=bundle.tarball(),
            ContentType="application/gzip",
            Metadata={
                "revision": bundle.revision.encode("ascii", "replace").decode()[:1024],
                "registry-commit": bundle.registry_commit,
                "issued-at": bundle.issued_at,
            },
        )
    except (BotoCoreError, ClientError) as exc:
        raise TargetError(f"target {target.id}: the bundle could not be published: {exc}") from exc
    return Published(backend.bucket, key, backend.client.meta.endpoint_url)


def _published_metadata(client: Any, bucket: str, key: str) -> dict[str, str]:
    """The metadata of the bundle in place; empty when there is none yet."""
    from botocore.exceptions import ClientError

    try:
        head = client.head_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return {}
        raise
    metadata: dict[str, str] = head.get("Metadata", {})
    return metadata
