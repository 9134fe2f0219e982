"""Where the audit log's head (seq, hash) is anchored, out of reach of a silent rewrite.

- file:PATH  the <log>.head file beside the log (always written; the weakest: same admin)
- git:DIR    appended to audit-heads.jsonl and committed to a git repository (e.g. the registry
             repo, pushed by CI): rewriting it means rewriting shared history; every head ever
             anchored stays in the file, and an anchor never goes backwards
- s3:TARGET  an Object Lock object in COMPLIANCE mode on the target's bucket: nobody, not even
             the bucket owner, can delete or overwrite it before its retention date
"""

from __future__ import annotations

import itertools
import json
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from cctv_policy.audit.log import VerifyResult, verify_log, write_file_anchor

if TYPE_CHECKING:
    from cctv_policy.registry.loader import LoadedRegistry

ANCHOR_FILE = "audit-heads.jsonl"


class AnchorError(Exception):
    """The anchor could not be written or read."""


class Anchor(Protocol):
    def write(self, seq: int, digest: str) -> None: ...

    def read(self) -> dict[str, Any] | None:
        """The newest anchored head, or None when nothing was ever anchored here."""
        ...

    def history(self) -> list[dict[str, Any]]:
        """Every head anchored here that can still be read (at least the newest)."""
        ...


def _head(document: Any, where: str) -> dict[str, Any]:
    if (
        not isinstance(document, dict)
        or not isinstance(document.get("seq"), int)
        or not isinstance(document.get("hash"), str)
    ):
        raise AnchorError(f"{where} does not hold an anchored head {{seq, hash}}")
    return document


@dataclass
class FileAnchor:
    path: Path

    def write(self, seq: int, digest: str) -> None:
        write_file_anchor(self.path, seq, digest)

    def read(self) -> dict[str, Any] | None:
        if not self.path.exists():
            return None
        try:
            return _head(json.loads(self.path.read_text()), str(self.path))
        except (OSError, ValueError) as exc:
            raise AnchorError(f"cannot read the anchor {self.path}: {exc}") from exc

    def history(self) -> list[dict[str, Any]]:
        head = self.read()
        return [head] if head else []


@dataclass
class GitAnchor:
    repo: Path

    def _git(self, *args: str) -> str:
        try:
            return subprocess.run(
                [
                    "git",
                    "-c",
                    "user.name=cctv-policy",
                    "-c",
                    "user.email=cctv-policy@localhost",
                    *args,
                ],
                cwd=self.repo,
                capture_output=True,
                text=True,
                check=True,
                timeout=60,
            ).stdout
        except (OSError, subprocess.CalledProcessError) as exc:
            detail = getattr(exc, "stderr", "") or str(exc)
            raise AnchorError(f"git anchor in {self.repo} failed: {detail.strip()}") from exc

    def write(self, seq: int, digest: str) -> None:
        anchored = self.history()
        if anchored and seq < max(h["seq"] for h in anchored):
            raise AnchorError(
                f"refusing to anchor head {seq}: {self.repo} already anchors "
                f"{max(h['seq'] for h in anchored)}; the log was cut (run "
                "`cctv-policy audit verify`)"
            )
        lines = [json.dumps({"seq": h["seq"], "hash": h["hash"]}) for h in anchored]
        lines.append(json.dumps({"seq": seq, "hash": digest}))
        (self.repo / ANCHOR_FILE).write_text("\n".join(lines) + "\n")
        self._git("add", ANCHOR_FILE)
        self._git("commit", "--quiet", "-m", f"audit head {seq} {digest[:12]}", "--", ANCHOR_FILE)

    def read(self) -> dict[str, Any] | None:
        """The newest committed head (the working-tree file is not trusted)."""
        anchored = self.history()
        return anchored[-1] if anchored else None

    def history(self) -> list[dict[str, Any]]:
        try:
            self._git("cat-file", "-e", f"HEAD:{ANCHOR_FILE}")
        except AnchorError:
            return []
        text = self._git("show", f"HEAD:{ANCHOR_FILE}")
        heads = []
        for number, line in enumerate(text.splitlines(), start=1):
            try:
                heads.append(_head(json.loads(line), f"{ANCHOR_FILE} line {number}"))
            except ValueError as exc:
                raise AnchorError(f"{self.repo}/{ANCHOR_FILE} line {number} is damaged") from exc
        if any(b["seq"] < a["seq"] for a, b in itertools.pairwise(heads)):
            raise AnchorError(f"{self.repo}/{ANCHOR_FILE}: the anchored heads go backwards")
        return heads


@dataclass
class S3Anchor:
    client: Any
    bucket: str
    prefix: str
    retain_days: int = 400

    @property
    def _folder(self) -> str:
        return f"{self.prefix}.cctv-policy/audit-heads/"

    def _keys(self) -> list[str]:
        return sorted(
            o["Key"]
            for page in self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=self._folder
            )
            for o in page.get("Contents", [])
        )

    def write(self, seq: int, digest: str) -> None:
        until = datetime.now(UTC) + timedelta(days=self.retain_days)
        newest = self.read()
        if newest is not None and seq < newest["seq"]:
            raise AnchorError(
                f"refusing to anchor head {seq}: s3://{self.bucket}/{self._folder} "
                f"already anchors {newest['seq']}; the log was cut"
            )
        try:
            self.client.put_object(
                Bucket=self.bucket,
                Key=f"{self._folder}{seq:012d}.json",
                Body=json.dumps({"seq": seq, "hash": digest}).encode(),
                ObjectLockMode="COMPLIANCE",
                ObjectLockRetainUntilDate=until,
            )
        except Exception as exc:
            raise AnchorError(
                f"S3 anchor in {self.bucket} failed (needs a bucket with Object Lock): {exc}"
            ) from exc

    def read(self) -> dict[str, Any] | None:
        try:
            keys = self._keys()
            if not keys:
                return None
            body = self.client.get_object(Bucket=self.bucket, Key=keys[-1])["Body"].read()
            return _head(json.loads(body), f"s3://{self.bucket}/{keys[-1]}")
        except AnchorError:
            raise
        except Exception as exc:
            raise AnchorError(f"cannot read the S3 anchor in {self.bucket}: {exc}") from exc

    def history(self) -> list[dict[str, Any]]:
        head = self.read()
        return [head] if head else []


def _file_anchor(value: str, registry: LoadedRegistry | None) -> Anchor:
    return FileAnchor(Path(value))


def _git_anchor(value: str, registry: LoadedRegistry | None) -> Anchor:
    if not (Path(value) / ".git").exists():
        raise AnchorError(f"--anchor git:{value}: {value} is not a git repository")
    return GitAnchor(Path(value))


def _s3_anchor(value: str, registry: LoadedRegistry | None) -> Anchor:
    target = registry.targets.get(value) if registry is not None else None
    if target is None or target.kind != "s3":
        raise AnchorError(f"--anchor s3:{value}: {value!r} is not an s3 target in storage.yaml")
    from cctv_policy.targets import s3_backend

    backend = s3_backend(target)
    return S3Anchor(backend.client, backend.bucket, backend.prefix)


# --anchor KIND:VALUE
ANCHORS: dict[str, Callable[[str, LoadedRegistry | None], Anchor]] = {
    "file": _file_anchor,
    "git": _git_anchor,
    "s3": _s3_anchor,
}


def anchor_from_spec(spec: str, registry: LoadedRegistry | None = None) -> Anchor:
    """file:PATH, git:DIR or s3:TARGET (a target of the registry, on a bucket with Object Lock)."""
    kind, _, value = spec.partition(":")
    make = ANCHORS.get(kind)
    if make is None or not value:
        raise AnchorError(f"--anchor {spec!r}: write file:PATH, git:DIR or s3:TARGET")
    return make(value, registry)


@dataclass
class AuditCheck:
    """A log checked against its anchor: intact, tampered, or not anchored (a cut tail of a
    log with no anchor cannot be seen, so such a log is never reported intact)."""

    result: VerifyResult
    anchor: str

    @property
    def state(self) -> str:
        if not self.result.ok:
            return "tampered"
        if not self.result.anchored:
            return "not_anchored"  # also an empty log: a wiped one looks the same
        return "intact"

    @property
    def ok(self) -> bool:
        return self.state == "intact"

    def describe(self) -> str:
        if self.state == "tampered":
            return "TAMPERED: " + "; ".join(self.result.problems)
        if self.state == "not_anchored":
            return (
                f"NOT ANCHORED: {self.result.entries} entries and a valid chain, but no "
                f"anchored head at {self.anchor}, so lines cut off the end cannot be seen"
            )
        return (
            f"OK: {self.result.entries} entries, chain intact, matches the anchor ({self.anchor})"
        )


def check_log(log_path: Path, anchor: Anchor | None = None) -> AuditCheck:
    """Verify the chain against every head the anchor holds (default: <log>.head).

    Raises AnchorError when an anchor that was asked for cannot be read; a damaged or missing
    default <log>.head counts as no anchor.
    """
    if anchor is None:
        default = FileAnchor(log_path.with_name(log_path.name + ".head"))
        try:
            history = default.history()
        except AnchorError:
            history = []
        return AuditCheck(verify_log(log_path, history), str(default.path))
    return AuditCheck(verify_log(log_path, anchor.history()), _describe(anchor))


def _describe(anchor: Anchor) -> str:
    if isinstance(anchor, FileAnchor):
        return str(anchor.path)
    if isinstance(anchor, GitAnchor):
        return f"git:{anchor.repo}"
    if isinstance(anchor, S3Anchor):
        return f"s3://{anchor.bucket}/{anchor._folder}"
    return type(anchor).__name__
