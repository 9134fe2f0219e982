"""An S3-compatible bucket (Ceph RGW, MinIO, AWS) under one prefix, through boto3.

- Keys are always <prefix><layout key>; a key that does not match the layout is never touched.
- Listing goes by prefix with '/' delimiters (camera -> year -> month -> day), so only the days
  that can hold expired footage are listed object by object.
- Deletion uses DeleteObjects, 1000 keys per call. On a versioned bucket every version and
  delete marker of the key is deleted, so the bytes are really gone.
- Holds: a manifest object per hold under <prefix>.cctv-policy/holds/, and, on a bucket with
  Object Lock, an S3 legal hold on every held object, which the server enforces (even against
  its own lifecycle engine and against an admin's DeleteObject).
- Grants: one bucket-policy statement per grant (s3_grants.py); lifecycle offload to the
  bucket's own engine (s3_lifecycle.py).
- Credentials and endpoint come from the environment / boto3's chain (CCTV_S3_ENDPOINT overrides
  the registry's endpoint), never from the registry.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterable, Iterator, Sequence
from datetime import date
from typing import Any

from storage_backends.base import (
    DayListing,
    DeleteResult,
    Segment,
    StateProblem,
    TopEntry,
    UnparsableKey,
    day_listing,
    segment_of,
)
from storage_backends.layout import Layout
from storage_backends.s3_grants import BucketPolicyGrants, compact_json
from storage_backends.s3_lifecycle import LifecycleOffload

STATE = ".cctv-policy/"


class S3Backend(BucketPolicyGrants, LifecycleOffload):
    def __init__(
        self,
        target_id: str,
        client: Any,
        bucket: str,
        prefix: str,
        layout: Layout,
        principal_template: str = "arn:aws:iam:::user/{person}",
    ) -> None:
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        self.target_id = target_id
        self.client = client
        self.bucket = bucket
        self.prefix = prefix
        self.layout = layout
        self.principal_template = principal_template
        self.requests = 0  # API calls, for benchmarks
        self.state_problems: list[StateProblem] = []
        self._versioned: bool | None = None
        self._locked: bool | None = None

    @classmethod
    def from_target(cls, target: Any, layout: Layout) -> S3Backend:
        import boto3
        from botocore.config import Config

        endpoint = os.environ.get("CCTV_S3_ENDPOINT") or target.endpoint
        client = boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name=target.region or "us-east-1",
            config=Config(
                s3={"addressing_style": target.addressing_style},
                retries={"max_attempts": 5, "mode": "standard"},
            ),
        )
        return cls(
            target.id, client, target.bucket, target.prefix, layout, target.principal_template
        )

    # -- bucket facts -----------------------------------------------------------------------

    @property
    def versioned(self) -> bool:
        if self._versioned is None:
            self.requests += 1
            status = self.client.get_bucket_versioning(Bucket=self.bucket).get("Status")
            self._versioned = status in ("Enabled", "Suspended")
        return self._versioned

    @property
    def object_lock(self) -> bool:
        if self._locked is None:
            self.requests += 1
            try:
                config = self.client.get_object_lock_configuration(Bucket=self.bucket)
                enabled = config["ObjectLockConfiguration"].get("ObjectLockEnabled")
                self._locked = enabled == "Enabled"
            except self.client.exceptions.ClientError:
                self._locked = False
        return self._locked

    # -- listing ----------------------------------------------------------------------------

    def _common_prefixes(self, prefix: str) -> list[str]:
        out = []
        for page in self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=prefix, Delimiter="/"
        ):
            self.requests += 1
            out += [p["Prefix"] for p in page.get("CommonPrefixes", [])]
        return out

    def top_level(self) -> list[TopEntry]:
        entries = []
        for page in self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self.prefix, Delimiter="/"
        ):
            self.requests += 1
            for item in page.get("CommonPrefixes", []):
                name = item["Prefix"][len(self.prefix) :].rstrip("/")
                if name + "/" != STATE:
                    entries.append(TopEntry(name, "dir"))
            for obj in page.get("Contents", []):
                entries.append(TopEntry(obj["Key"][len(self.prefix) :], "file"))
        return sorted(entries, key=lambda e: e.name)

    def list_days(self, camera: str) -> list[date] | None:
        depth = self.layout.day_depth(camera)
        if depth is None:
            return None
        level = [self.prefix + f"{camera}/"]
        for _ in range(depth - 1):
            level = [child for parent in level for child in self._common_prefixes(parent)]
        days = []
        for full in level:
            day = self.layout.parse_day_prefix(camera, full[len(self.prefix) :])
            if day is not None:
                days.append(day)
        return sorted(days)

    def list_segments(
        self, camera: str, day: date | None = None
    ) -> Iterator[Segment | UnparsableKey]:
        relative = (self.layout.day_prefix(camera, day) if day else None) or f"{camera}/"
        for page in self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self.prefix + relative
        ):
            self.requests += 1
            for obj in page.get("Contents", []):
                key = obj["Key"][len(self.prefix) :]
                segment = segment_of(self.layout, key, camera, obj.get("Size", 0))
                yield segment or UnparsableKey(key, "does not match the layout")

    def list_day(self, camera: str, day: date) -> DayListing | None:
        prefix = self.layout.day_prefix(camera, day)
        if prefix is None:
            return None
        entries = []
        for page in self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self.prefix + prefix
        ):
            self.requests += 1
            for obj in page.get("Contents", []):
                name = obj["Key"][len(self.prefix) + len(prefix) :]
                entries.append((name, "/" not in name))
        return day_listing(self.layout, camera, prefix, entries)

    works_beside = True  # listing and deleting wait on the network

    def list_many(self, wanted: Sequence[tuple[str, date]]) -> list[DayListing | None]:
        return [self.list_day(camera, day) for camera, day in wanted]

    def open(self, key: str) -> Any:
        """Read one segment as a stream (a key that does not match the layout is refused)."""
        if self.layout.parse(key) is None:
            raise ValueError(f"{key!r} does not match the layout")
        self.requests += 1
        return self.client.get_object(Bucket=self.bucket, Key=self.prefix + key)["Body"]

    # -- deleting ---------------------------------------------------------------------------

    def delete_days(self, days: Sequence[DayListing]) -> DeleteResult:
        """One DeleteObjects per 1,000 files, across the days."""
        return self.delete([key for day in days for key in day.keys])

    def delete(self, keys: Iterable[str]) -> DeleteResult:
        result = DeleteResult()
        wanted = []
        for key in keys:
            if self.layout.parse(key) is None:
                result.refused[key] = "does not match the layout"
            else:
                wanted.append(key)
        before = self.requests
        for i in range(0, len(wanted), 1000):
            self._delete_chunk(wanted[i : i + 1000], result)
        result.requests = self.requests - before
        return result

    def _delete_chunk(self, keys: list[str], result: DeleteResult) -> None:
        if self.versioned:
            objects = self._all_versions(keys)
        else:
            objects = [{"Key": self.prefix + k} for k in keys]
        failed: dict[str, str] = {}
        for i in range(0, len(objects), 1000):
            self.requests += 1
            response = self.client.delete_objects(
                Bucket=self.bucket, Delete={"Objects": objects[i : i + 1000], "Quiet": True}
            )
            for error in response.get("Errors", []):
                failed[error["Key"][len(self.prefix) :]] = (
                    f"{error.get('Code')}: {error.get('Message')}"
                )
        result.refused.update(failed)
        present = {o["Key"][len(self.prefix) :] for o in objects}
        for key in keys:
            if key in failed:
                continue
            (
                result.deleted if key in present or not self.versioned else result.already_gone
            ).append(key)

    def _all_versions(self, keys: list[str]) -> list[dict[str, str]]:
        """Every version and delete marker of these keys, listed by their shared day prefixes."""
        return [
            {"Key": self.prefix + key, "VersionId": v["VersionId"]}
            for key, found in self._versions(keys).items()
            for v in found
        ]

    def _versions(self, keys: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
        """key -> its versions and delete markers (each with IsLatest and "marker"), newest
        first, listed once per shared day prefix."""
        wanted = {self.prefix + k for k in keys}
        found: dict[str, list[dict[str, Any]]] = {}
        for prefix in sorted({k.rsplit("/", 1)[0] + "/" for k in wanted}):
            for page in self.client.get_paginator("list_object_versions").paginate(
                Bucket=self.bucket, Prefix=prefix
            ):
                self.requests += 1
                items = [{**v, "marker": False} for v in page.get("Versions", [])]
                items += [{**m, "marker": True} for m in page.get("DeleteMarkers", [])]
                for item in items:
                    if item["Key"] in wanted:
                        found.setdefault(item["Key"][len(self.prefix) :], []).append(item)
        for versions in found.values():
            versions.sort(key=lambda v: (not v.get("IsLatest"), str(v.get("LastModified"))))
        return found

    # -- holds ------------------------------------------------------------------------------

    def _hold_key(self, hold_id: str) -> str:
        return f"{self.prefix}{STATE}holds/{hold_id}.json"

    def check_state(self) -> None:
        """Report objects under the state prefix that are neither hold manifests nor audit
        heads."""
        for page in self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=f"{self.prefix}{STATE}"
        ):
            self.requests += 1
            for obj in page.get("Contents", []):
                rest = obj["Key"][len(self.prefix) + len(STATE) :]
                if not rest.startswith(("holds/", "audit-heads/")):
                    self.state_problems.append(
                        StateProblem(
                            obj["Key"][len(self.prefix) :], "not part of the state prefix: skipped"
                        )
                    )

    def held_keys(self) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        for page in self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=f"{self.prefix}{STATE}holds/"
        ):
            self.requests += 1
            for obj in page.get("Contents", []):
                document = self._read_manifest(obj["Key"])
                hold_id = document.get("hold") if isinstance(document, dict) else None
                keys = document.get("keys") if isinstance(document, dict) else None
                if not (
                    isinstance(hold_id, str)
                    and self._hold_key(hold_id) == obj["Key"]
                    and isinstance(keys, list)
                    and all(isinstance(k, str) for k in keys)
                ):
                    self.state_problems.append(
                        StateProblem(
                            obj["Key"][len(self.prefix) :],
                            "not a hold manifest written by us: what "
                            "it held cannot be known, so nothing is deleted on this target until "
                            "an admin looks at it",
                            blocks_deletes=True,
                        )
                    )
                    continue
                out.setdefault(hold_id, set()).update(keys)
        return out

    def _read_manifest(self, key: str) -> Any:
        self.requests += 1
        try:
            return json.loads(self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read())
        except (ValueError, self.client.exceptions.ClientError):
            return None

    def set_hold(self, hold_id: str, keys: Iterable[str]) -> None:
        keys = set(keys)
        current = self.held_keys().get(hold_id, set())
        # Record first, then lock: a crash in between leaves a manifest to retry, never an
        # object that is locked with no record of why.
        self.client.put_object(
            Bucket=self.bucket,
            Key=self._hold_key(hold_id),
            Body=compact_json({"hold": hold_id, "keys": sorted(current | keys)}),
        )
        if self.object_lock:
            self._legal_holds(keys, "ON")

    def clear_hold(self, hold_id: str) -> None:
        holds = self.held_keys()
        released = holds.pop(hold_id, set())
        still_held = set().union(*holds.values()) if holds else set()
        if self.object_lock:
            self._legal_holds(released - still_held, "OFF")
        self.client.delete_object(Bucket=self.bucket, Key=self._hold_key(hold_id))

    def refresh_holds(self) -> int:
        """Keep every held object held and visible. The bucket's own lifecycle may have put a
        delete marker over a legally held object (its bytes stay, but nobody can read it any
        more): such markers are removed, and every version of a held object carries the legal
        hold. Returns the number of objects made visible again."""
        if not self.object_lock:
            return 0
        held = set().union(*self.held_keys().values())
        if not held:
            return 0
        versions = self._versions(held)
        markers = [
            {"Key": self.prefix + key, "VersionId": v["VersionId"]}
            for key, found in versions.items()
            if found and found[0]["marker"]
            for v in found
            if v["marker"]
        ]
        for i in range(0, len(markers), 1000):
            self.requests += 1
            self.client.delete_objects(
                Bucket=self.bucket, Delete={"Objects": markers[i : i + 1000], "Quiet": True}
            )
        # A key with more than one version (or a marker) changed since it was held: every
        # version must carry the hold. Others were held when the hold was placed.
        changed = {key for key, found in versions.items() if len(found) > 1}
        self._legal_holds(changed, "ON", versions)
        return len({m["Key"] for m in markers})

    def _legal_holds(
        self,
        keys: Iterable[str],
        status: str,
        versions: dict[str, list[dict[str, Any]]] | None = None,
    ) -> None:
        """Set or clear the legal hold on every version of each key (a delete marker has no
        hold of its own; the versions under it do)."""
        keys = sorted(keys)
        found = versions if versions is not None else self._versions(keys)
        for key in keys:
            for version in found.get(key, []):
                if version["marker"]:
                    continue
                self.requests += 1
                with contextlib.suppress(self.client.exceptions.NoSuchKey):
                    self.client.put_object_legal_hold(
                        Bucket=self.bucket,
                        Key=self.prefix + key,
                        VersionId=version["VersionId"],
                        LegalHold={"Status": status},
                    )
