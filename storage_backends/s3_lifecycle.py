"""Lifecycle offload on an S3 bucket: the bucket's own lifecycle engine expires footage, with
rules scoped to the target's cameras, only where Object Lock keeps held footage from it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from storage_backends.base import LifecycleRefused, TopEntry

RULE_PREFIX = "cctv-policy-"
MAX_LIFECYCLE_RULES = 1000  # S3's limit on rules in one lifecycle configuration


class LifecycleOffload:
    """The lifecycle methods of S3Backend (a part of it, kept in its own module)."""

    client: Any
    bucket: str
    prefix: str
    requests: int
    target_id: str

    @property
    def object_lock(self) -> bool:
        raise NotImplementedError

    def top_level(self) -> list[TopEntry]:
        raise NotImplementedError

    def sync_lifecycle(
        self, retention_days: int, cameras: Sequence[str], other_cameras: Sequence[str] = ()
    ) -> list[dict[str, Any]]:
        """Let the bucket expire footage itself, with rules scoped to this target's cameras
        (never the state prefix with its hold manifests and audit anchors, never another
        camera's folder or an unmanaged entry): current objects after retention_days + 1
        (objects are uploaded when recorded; the extra day covers upload delay) and noncurrent
        versions after 1 day, so that expiring on a versioned bucket really frees the bytes.

        Only on a bucket with Object Lock, where legal holds keep protected footage from the
        bucket's own lifecycle engine; elsewhere a hold would be a manifest that the engine
        ignores, so offload is refused. Camera folders are merged into the fewest prefixes that
        cover exactly them (Ceph RGW applied only the first 9 prefix rules of a configuration
        in our tests). Rules not made by us stay."""
        if not self.object_lock:
            raise LifecycleRefused(
                f"lifecycle_offload on {self.target_id}: bucket {self.bucket} has no Object Lock, "
                "so the lifecycle engine would delete held footage too; enable Object Lock on a "
                "new bucket or set lifecycle_offload: false"
            )
        others = {e.name for e in self.top_level() if e.name not in cameras} | set(other_cameras)
        prefixes = covering_prefixes(set(cameras), others - set(cameras))
        if len(prefixes) > MAX_LIFECYCLE_RULES - 1:
            raise LifecycleRefused(
                f"lifecycle_offload on {self.target_id}: {len(prefixes)} camera prefixes need "
                f"more than the {MAX_LIFECYCLE_RULES} rules one bucket may have"
            )
        ours = [
            {
                "ID": f"{RULE_PREFIX}{index}",
                "Status": "Enabled",
                "Filter": {"Prefix": f"{self.prefix}{prefix}"},
                "Expiration": {"Days": retention_days + 1},
                "NoncurrentVersionExpiration": {"NoncurrentDays": 1},
            }
            for index, prefix in enumerate(prefixes)
        ]
        others_rules = [
            r for r in self._lifecycle_rules() if not r.get("ID", "").startswith(RULE_PREFIX)
        ]
        self.requests += 1
        self.client.put_bucket_lifecycle_configuration(
            Bucket=self.bucket, LifecycleConfiguration={"Rules": others_rules + ours}
        )
        return ours

    def suspend_lifecycle(self) -> int:
        """Disable our lifecycle rules (keeping more is the safe side) when a run is refused:
        otherwise the bucket would go on expiring footage a new hold may be meant to keep.
        The next run that is not refused enables them again. Returns the rules disabled."""
        rules = self._lifecycle_rules()
        ours = [
            r
            for r in rules
            if r.get("ID", "").startswith(RULE_PREFIX) and r.get("Status") == "Enabled"
        ]
        if not ours:
            return 0
        for rule in ours:
            rule["Status"] = "Disabled"
        self.requests += 1
        self.client.put_bucket_lifecycle_configuration(
            Bucket=self.bucket, LifecycleConfiguration={"Rules": rules}
        )
        return len(ours)

    def _lifecycle_rules(self) -> list[dict[str, Any]]:
        self.requests += 1
        try:
            return list(
                self.client.get_bucket_lifecycle_configuration(Bucket=self.bucket).get("Rules", [])
            )
        except self.client.exceptions.ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "NoSuchLifecycleConfiguration":
                return []
            raise


def covering_prefixes(cameras: set[str], others: set[str]) -> list[str]:
    """The fewest key prefixes that cover every camera's folder and nothing in `others`: each
    camera's shortest prefix that starts no other name (its full folder, with the slash, when
    even that is not unique), without prefixes another one already covers."""
    found = set()
    for camera in sorted(cameras):
        for length in range(1, len(camera) + 1):
            candidate = camera[:length]
            if not any(other.startswith(candidate) for other in others):
                found.add(candidate)
                break
        else:
            found.add(camera + "/")
    return sorted(p for p in found if not any(q != p and p.startswith(q) for q in found))
