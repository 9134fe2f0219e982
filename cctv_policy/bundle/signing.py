"""OPA's bundle signature format, as OPA v1.20.2 writes and checks it (v1/bundle/sign.go,
verify.go, hash.go, bundle.go of github.com/open-policy-agent/opa):

- `.signatures.json` is `{"signatures": [JWT]}` with exactly one compact JWS. Its header names
  the algorithm and the key id (`kid`); its payload is `{"files": [{"name", "hash",
  "algorithm"}], "keyid"}`, one entry for every file of the bundle except .signatures.json.
- A file's hash is SHA-256 in hex. Structured files (data.json, data.yaml, .manifest) are
  hashed as their parsed JSON value, walked like hash.go's `walk`: an object is `{`, then each
  key (sorted) as a JSON string, `:`, the value's walk, separated by `,`, then `}`; an array
  is `[`, the walks separated by `,`, `]`; a number is its literal text (OPA parses with
  UseNumber); other scalars are Go's JSON encoding without HTML escaping. Any other file
  (a .rego module) is hashed as its raw bytes.
- OPA checks every file in the tarball against the payload and refuses a bundle with a file
  that is missing from it, a digest that differs, or a file listed but absent.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

SIGNATURES_FILE = ".signatures.json"
HASH_ALGORITHM = "SHA-256"
DEFAULT_KEY_ID = "default"  # the key id `opa run --verification-key` looks for by default
# bundle.IsStructuredDoc: these base names are hashed as JSON values, all others as bytes.
STRUCTURED_FILES = frozenset({"data.json", "data.yaml", "data.yml", ".manifest", SIGNATURES_FILE})


class SigningKeyError(Exception):
    """The signing key cannot be read or is of a kind OPA does not verify."""


class JsonNumber(str):
    """A JSON number kept as the text it was written with (Go's json.Number)."""


def _go_json_string(text: str) -> bytes:
    """encoding/json with SetEscapeHTML(false): Python's escaping, plus U+2028 and U+2029,
    which Go always escapes."""
    encoded = json.dumps(text, ensure_ascii=False)
    return encoded.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029").encode()


def _walk(value: Any, out: Callable[[bytes], None]) -> None:
    if isinstance(value, dict):
        out(b"{")
        for index, key in enumerate(sorted(value)):
            if index:
                out(b",")
            out(_go_json_string(key))
            out(b":")
            _walk(value[key], out)
        out(b"}")
    elif isinstance(value, list):
        out(b"[")
        for index, item in enumerate(value):
            if index:
                out(b",")
            _walk(item, out)
        out(b"]")
    elif isinstance(value, JsonNumber):
        out(value.encode())
    elif isinstance(value, str):
        out(_go_json_string(value))
    elif value is None or isinstance(value, bool):
        out(json.dumps(value).encode())
    else:
        raise TypeError(f"not a parsed JSON value: {value!r}")


def parse_json_keeping_numbers(content: bytes) -> Any:
    return json.loads(
        content.removeprefix(b"\xef\xbb\xbf"), parse_int=JsonNumber, parse_float=JsonNumber
    )


def file_digest(name: str, content: bytes) -> str:
    """The hex SHA-256 OPA expects for this file of a bundle."""
    digest = hashlib.sha256()
    if PurePosixPath(name).name in STRUCTURED_FILES:
        _walk(parse_json_keeping_numbers(content), digest.update)
    else:
        digest.update(content)
    return digest.hexdigest()


@dataclass(frozen=True)
class SigningKey:
    """A PEM private key: RSA signs RS256, an EC key ES256/ES384/ES512 by its curve."""

    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
    key_id: str = DEFAULT_KEY_ID

    @classmethod
    def from_pem_file(cls, path: Path, key_id: str = DEFAULT_KEY_ID) -> SigningKey:
        try:
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        except (OSError, ValueError, TypeError) as exc:
            raise SigningKeyError(
                f"--signing-key {path}: not an unencrypted PEM private key ({exc})"
            ) from exc
        if not isinstance(key, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey)):
            raise SigningKeyError(f"--signing-key {path}: use an RSA or EC private key")
        if isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name not in _EC_ALGORITHMS:
            raise SigningKeyError(
                f"--signing-key {path}: EC curve {key.curve.name} is not P-256/384/521"
            )
        return cls(key, key_id)

    @property
    def algorithm(self) -> str:
        if isinstance(self.key, rsa.RSAPrivateKey):
            return "RS256"
        return _EC_ALGORITHMS[self.key.curve.name][0]

    def public_pem(self) -> str:
        """The verification key for `opa run --verification-key` / keys.<id>.key in config."""
        return (
            self.key.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode()
        )

    def sign(self, message: bytes) -> bytes:
        if isinstance(self.key, rsa.RSAPrivateKey):
            return self.key.sign(message, padding.PKCS1v15(), hashes.SHA256())
        _, digest, size = _EC_ALGORITHMS[self.key.curve.name]
        r, s = decode_dss_signature(self.key.sign(message, ec.ECDSA(digest)))
        return r.to_bytes(size, "big") + s.to_bytes(size, "big")  # JWS: R || S, fixed width


# curve -> (JWS algorithm, hash, bytes per coordinate)
_EC_ALGORITHMS: dict[str, tuple[str, hashes.HashAlgorithm, int]] = {
    "secp256r1": ("ES256", hashes.SHA256(), 32),
    "secp384r1": ("ES384", hashes.SHA384(), 48),
    "secp521r1": ("ES512", hashes.SHA512(), 66),
}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _compact_json(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), sort_keys=True).encode()


def signatures_document(files: Mapping[str, bytes], key: SigningKey) -> bytes:
    """The .signatures.json for a bundle of these files (name -> content, names without a
    leading slash, .signatures.json itself not among them)."""
    payload = {
        "files": [
            {"name": name, "hash": file_digest(name, content), "algorithm": HASH_ALGORITHM}
            for name, content in sorted(files.items())
        ],
        "keyid": key.key_id,  # deprecated by OPA in favour of the header's kid; both are set
    }
    header = {"alg": key.algorithm, "kid": key.key_id, "typ": "JWT"}
    signing_input = f"{_b64(_compact_json(header))}.{_b64(_compact_json(payload))}"
    token = f"{signing_input}.{_b64(key.sign(signing_input.encode()))}"
    return json.dumps({"signatures": [token]}, indent=1).encode()
