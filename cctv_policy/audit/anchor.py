"""Where the audit log's head (seq, hash) is anchored, out of reach of a silent rewrite.

- file:PATH  the <log>.head file beside the log (always written; the weakest: same admin)
- git:DIR    committed to a git repository (e.g. the registry repo, pushed by CI): rewriting
             it means rewriting shared history
- s3:TARGET  an Object Lock object in COMPLIANCE mode on the target's bucket: nobody, not even
             the bucket owner, can delete or overwrite it before its retention date
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

ANCHOR_FILE = "audit-head.json"


class AnchorError(Exception):
    """The anchor could not be written or read."""


class Anchor(Protocol):
    def write(self, seq: int, digest: str) -> None: ...

    def read(self) -> dict[str, Any] | None: ...


@dataclass
class FileAnchor:
    path: Path

    def write(self, seq: int, digest: str) -> None:
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"seq": seq, "hash": digest}) + "\n")
        tmp.replace(self.path)

    def read(self) -> dict[str, Any] | None:
        return json.loads(self.path.read_text()) if self.path.exists() else None


@dataclass
class GitAnchor:
    repo: Path

    def _git(self, *args: str) -> str:
        try:
            return subprocess.run(["git", "-c", "user.name=cctv-policy",
                                   "-c", "user.email=cctv-policy@localhost", *args],
                                  cwd=self.repo, capture_output=True, text=True, check=True,
                                  timeout=60).stdout
        except (OSError, subprocess.CalledProcessError) as exc:
            detail = getattr(exc, "stderr", "") or str(exc)
            raise AnchorError(f"git anchor in {self.repo} failed: {detail.strip()}") from exc

    def write(self, seq: int, digest: str) -> None:
        (self.repo / ANCHOR_FILE).write_text(json.dumps({"seq": seq, "hash": digest}) + "\n")
        self._git("add", ANCHOR_FILE)
        self._git("commit", "--quiet", "-m", f"audit head {seq} {digest[:12]}", "--", ANCHOR_FILE)

    def read(self) -> dict[str, Any] | None:
        """The committed head (the working-tree file is not trusted)."""
        try:
            return json.loads(self._git("show", f"HEAD:{ANCHOR_FILE}"))
        except AnchorError:
            return None


@dataclass
class S3Anchor:
    client: Any
    bucket: str
    prefix: str
    retain_days: int = 400

    @property
    def _folder(self) -> str:
        return f"{self.prefix}.cctv-policy/audit-heads/"

    def write(self, seq: int, digest: str) -> None:
        until = datetime.now(UTC) + timedelta(days=self.retain_days)
        try:
            self.client.put_object(
                Bucket=self.bucket, Key=f"{self._folder}{seq:012d}.json",
                Body=json.dumps({"seq": seq, "hash": digest}).encode(),
                ObjectLockMode="COMPLIANCE", ObjectLockRetainUntilDate=until)
        except Exception as exc:  # noqa: BLE001 - botocore raises many types
            raise AnchorError(f"S3 anchor in {self.bucket} failed (needs a bucket with "
                              f"Object Lock): {exc}") from exc

    def read(self) -> dict[str, Any] | None:
        keys = [o["Key"] for page in self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self._folder) for o in page.get("Contents", [])]
        if not keys:
            return None
        return json.loads(self.client.get_object(Bucket=self.bucket, Key=max(keys))["Body"].read())


def anchor_from_spec(spec: str, registry: Any = None, log_path: Path | None = None) -> Anchor:
    """file:PATH, git:DIR or s3:TARGET (a target of the registry, on a bucket with Object Lock)."""
    kind, _, value = spec.partition(":")
    if kind == "file" and value:
        return FileAnchor(Path(value))
    if kind == "git" and value:
        if not (Path(value) / ".git").exists():
            raise AnchorError(f"--anchor {spec}: {value} is not a git repository")
        return GitAnchor(Path(value))
    if kind == "s3" and value:
        if registry is None or value not in registry.targets or registry.targets[value].kind != "s3":
            raise AnchorError(f"--anchor {spec}: {value!r} is not an s3 target in storage.yaml")
        from storage_backends.layout import Layout
        from storage_backends.s3 import S3Backend

        backend = S3Backend.from_target(registry.targets[value], Layout(registry.targets[value].layout))
        return S3Anchor(backend.client, backend.bucket, backend.prefix)
    raise AnchorError(f"--anchor {spec!r}: write file:PATH, git:DIR or s3:TARGET")
