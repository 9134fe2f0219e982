"""The extraction package's manifest, signed with Ed25519, and its verification."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from cctv_policy.extract.supervisor import SUPERVISOR_SIGNATURE, verify_countersignature

MANIFEST = "MANIFEST.json"
SIGNATURE = "MANIFEST.sig"


def canonical(document: dict[str, Any]) -> bytes:
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()


def generate_key(path: Path) -> Path:
    """Write a new Ed25519 private key (PEM, 0600) and its public key beside it (.pub)."""
    key = Ed25519PrivateKey.generate()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600, exist_ok=False)
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    public = path.with_name(path.name + ".pub")
    public.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return public


def load_private_key(path: Path) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} is not an Ed25519 private key")
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    key = serialization.load_pem_public_key(path.read_bytes())
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError(f"{path} is not an Ed25519 public key")
    return key


def public_pem(key: Ed25519PrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def write_signed(directory: Path, document: dict[str, Any], key: Ed25519PrivateKey) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    try:
        write_signed_at(fd, document, key)
    finally:
        os.close(fd)


def write_signed_at(
    dir_fd: int,
    document: dict[str, Any],
    key: Ed25519PrivateKey,
    countersign: Ed25519PrivateKey | None = None,
) -> None:
    """MANIFEST.json and MANIFEST.sig in the folder, replacing any (never through a link);
    with `countersign` (the supervisor's key) also MANIFEST.supervisor.sig."""
    body = canonical(document)
    files = [(MANIFEST, body), (SIGNATURE, _signature(key, body))]
    if countersign is not None:
        files.append((SUPERVISOR_SIGNATURE, _signature(countersign, body)))
    for name, content in files:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name, dir_fd=dir_fd)
        fd = os.open(
            name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644, dir_fd=dir_fd
        )
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)


def _signature(key: Ed25519PrivateKey, body: bytes) -> bytes:
    return (base64.b64encode(key.sign(body)).decode() + "\n").encode()


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass
class PackageCheck:
    ok: bool
    problems: list[str] = field(default_factory=list)
    files: int = 0
    key_pinned: bool = False


class ManifestFile(BaseModel):
    model_config = ConfigDict(extra="allow")

    path: str = Field(min_length=1, max_length=1024)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    size: int = Field(ge=0)


class Manifest(BaseModel):
    model_config = ConfigDict(extra="allow")

    request: str
    supervisor: str
    public_key: str
    # The supervisor's own key (OpenSSH) when they countersigned (MANIFEST.supervisor.sig).
    supervisor_key: str | None = None
    files: list[ManifestFile]


def _countersignature_problems(directory: Path, body: bytes, supervisor_key: str) -> list[str]:
    try:
        text = (directory / SUPERVISOR_SIGNATURE).read_text()
        signature = base64.b64decode(text.strip(), validate=True)
    except (OSError, ValueError):
        return [f"{SUPERVISOR_SIGNATURE} is missing or unreadable (the supervisor's signature)"]
    problem = verify_countersignature(body, supervisor_key, signature)
    return [problem] if problem else []


def _confined(directory: Path, relative: str) -> Path | None:
    """The file a manifest path names, or None if the path leaves the package: absolute, with
    '..' or empty parts, or crossing a symbolic link."""
    parts = relative.split("/")
    if relative.startswith("/") or any(p in ("", ".", "..") for p in parts) or "\0" in relative:
        return None
    current = directory
    for part in parts:
        current = current / part
        if current.is_symlink():
            return None
    return current


def verify_package(directory: Path, public_key: Ed25519PublicKey | None = None) -> PackageCheck:
    """Signature, then every file's size and SHA-256, then that nothing was added.

    Without `public_key` the key inside the manifest is used: that proves the files match what
    was signed, not who signed, so the result says the signer is not pinned."""
    try:
        body = (directory / MANIFEST).read_bytes()
        signature = base64.b64decode((directory / SIGNATURE).read_text().strip(), validate=True)
        manifest = Manifest.model_validate_json(body)
        embedded = serialization.load_pem_public_key(manifest.public_key.encode())
    except (OSError, ValueError, ValidationError, UnsupportedAlgorithm) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return PackageCheck(False, [f"manifest or signature missing or unreadable: {first}"])
    key = public_key or embedded
    check = PackageCheck(True, key_pinned=public_key is not None)
    if not isinstance(key, Ed25519PublicKey):
        return PackageCheck(False, ["the manifest's key is not an Ed25519 public key"])
    try:
        key.verify(signature, body)
    except InvalidSignature:
        check.problems.append(
            "the manifest's signature does not match (manifest edited, or signed by another key)"
        )
    if manifest.supervisor_key is not None:
        check.problems += _countersignature_problems(directory, body, manifest.supervisor_key)
    listed = set()
    for entry in manifest.files:
        path = _confined(directory, entry.path)
        if path is None:
            check.problems.append(f"{entry.path!r} points outside the package")
            continue
        listed.add(entry.path)
        if not path.is_file():
            check.problems.append(f"{entry.path} is missing")
        elif path.stat().st_size != entry.size or sha256_file(path) != entry.sha256:
            check.problems.append(f"{entry.path} differs from the manifest (changed)")
    folders = {
        "/".join(path.split("/")[:i]) for path in listed for i in range(1, path.count("/") + 1)
    }
    for found in sorted(directory.rglob("*")):
        name = found.relative_to(directory).as_posix()
        if found.is_symlink():
            check.problems.append(f"{name} is a symbolic link (added)")
        elif found.is_dir():
            if name not in folders:
                check.problems.append(f"folder {name} is not in the manifest (added)")
        elif not found.is_file():
            check.problems.append(f"{name} is not a regular file (added)")
        elif name not in (MANIFEST, SIGNATURE, SUPERVISOR_SIGNATURE) and name not in listed:
            check.problems.append(f"{name} is not in the manifest (added)")
    check.files = len(listed)
    check.ok = not check.problems
    return check
