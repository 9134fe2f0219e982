"""The extraction package's manifest, signed with Ed25519, and its verification."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

MANIFEST = "MANIFEST.json"
SIGNATURE = "MANIFEST.sig"


def canonical(document: dict[str, Any]) -> bytes:
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()


def generate_key(path: Path) -> Path:
    """Write a new Ed25519 private key (PEM, 0600) and its public key beside it (.pub)."""
    key = Ed25519PrivateKey.generate()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600, exist_ok=False)
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                       serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    public = path.with_name(path.name + ".pub")
    public.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                     serialization.PublicFormat.SubjectPublicKeyInfo))
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
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def write_signed(directory: Path, document: dict[str, Any], key: Ed25519PrivateKey) -> None:
    body = canonical(document)
    (directory / MANIFEST).write_bytes(body)
    (directory / SIGNATURE).write_text(base64.b64encode(key.sign(body)).decode() + "\n")


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


def verify_package(directory: Path, public_key: Ed25519PublicKey | None = None) -> PackageCheck:
    """Signature, then every file's size and SHA-256, then that nothing was added."""
    try:
        body = (directory / MANIFEST).read_bytes()
        signature = base64.b64decode((directory / SIGNATURE).read_text())
        document = json.loads(body)
    except (OSError, ValueError) as exc:
        return PackageCheck(False, [f"manifest or signature missing or unreadable: {exc}"])
    key = public_key or serialization.load_pem_public_key(document["public_key"].encode())
    check = PackageCheck(True, key_pinned=public_key is not None)
    try:
        key.verify(signature, body)  # type: ignore[union-attr]
    except InvalidSignature:
        check.problems.append("the manifest's signature does not match (manifest edited, or "
                              "signed by another key)")
    listed = set()
    for entry in document.get("files", []):
        path = directory / entry["path"]
        listed.add(entry["path"])
        if not path.is_file():
            check.problems.append(f"{entry['path']} is missing")
        elif path.stat().st_size != entry["size"] or sha256_file(path) != entry["sha256"]:
            check.problems.append(f"{entry['path']} differs from the manifest (changed)")
    extra = sorted(p.relative_to(directory).as_posix() for p in directory.rglob("*")
                   if p.is_file() and p.name not in (MANIFEST, SIGNATURE))
    for name in extra:
        if name not in listed:
            check.problems.append(f"{name} is not in the manifest (added)")
    check.files = len(listed)
    check.ok = not check.problems
    return check
