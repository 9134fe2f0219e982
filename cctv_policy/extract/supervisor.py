"""The supervisor's own confirmation of an extraction: a countersignature of the manifest.

`--supervisor PERSON` alone is a name anyone running the command can type. With
`--supervisor-key KEY` the supervisor signs the manifest with their own Ed25519 key (OpenSSH,
the key they sign commits with, or PEM from `extract keygen`), whose public key people.yaml lists
under their `signing_keys`; the package carries that public key and MANIFEST.supervisor.sig.
With config `require_supervisor_signature: true` an extraction without it is refused.
"""

from __future__ import annotations

from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from cctv_policy.registry.loader import LoadedRegistry

SUPERVISOR_SIGNATURE = "MANIFEST.supervisor.sig"


class SupervisorKeyRefused(Exception):
    """The supervisor's key is missing, unreadable or not theirs; the message says why."""


def load_supervisor_key(path: Path) -> Ed25519PrivateKey:
    """An Ed25519 private key, OpenSSH or PEM (unencrypted). Raises SupervisorKeyRefused."""
    try:
        data = path.read_bytes()
        key = (
            serialization.load_ssh_private_key(data, password=None)
            if b"OPENSSH PRIVATE KEY" in data
            else serialization.load_pem_private_key(data, password=None)
        )
    except (OSError, ValueError, TypeError) as exc:
        raise SupervisorKeyRefused(f"--supervisor-key {path}: {exc}") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise SupervisorKeyRefused(f"--supervisor-key {path} is not an Ed25519 private key")
    return key


def openssh_public(key: Ed25519PrivateKey) -> str:
    """`ssh-ed25519 AAAA...`: the form people.yaml lists under signing_keys."""
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
        .decode()
    )


def check_supervisor_key(
    registry: LoadedRegistry, supervisor: str, key: Ed25519PrivateKey | None
) -> None:
    """The key is one the supervisor lists in people.yaml; without a key, the registry must
    not require one. Raises SupervisorKeyRefused."""
    assert registry.config is not None
    if key is None:
        if registry.config.require_supervisor_signature:
            raise SupervisorKeyRefused(
                f"the supervisor {supervisor} confirms an extraction by signing it: pass "
                "--supervisor-key with their own key (config require_supervisor_signature)"
            )
        return
    person = registry.people.get(supervisor)
    listed = {" ".join(k.split()[:2]) for k in (person.signing_keys if person else [])}
    if openssh_public(key) not in listed:
        raise SupervisorKeyRefused(
            f"--supervisor-key is not one of {supervisor}'s signing_keys in people.yaml: "
            "only the supervisor's own key confirms their presence"
        )


def verify_countersignature(body: bytes, supervisor_key: str, signature: bytes) -> str | None:
    """None when `signature` is the supervisor key's signature of the manifest body, else
    the problem."""
    try:
        public = serialization.load_ssh_public_key(supervisor_key.encode())
    except (ValueError, TypeError):
        return "the manifest's supervisor_key is not an OpenSSH public key"
    if not isinstance(public, Ed25519PublicKey):
        return "the manifest's supervisor_key is not an Ed25519 key"
    from cryptography.exceptions import InvalidSignature

    try:
        public.verify(signature, body)
    except InvalidSignature:
        return "the supervisor's signature does not match the manifest"
    return None
