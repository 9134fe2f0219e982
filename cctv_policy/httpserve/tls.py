"""TLS for our servers: TLS 1.3, and TLS 1.2 with forward-secret AEAD suites only (ECDHE with
AES-GCM or ChaCha20-Poly1305; no CBC, no RSA key exchange), from a private key file."""

from __future__ import annotations

import ipaddress
import ssl
from dataclasses import dataclass
from pathlib import Path

from cctv_policy.httpserve.secrets import check_private

TLS12_CIPHERS = "ECDHE+AESGCM:ECDHE+CHACHA20"


@dataclass(frozen=True)
class TlsFiles:
    cert: Path
    key: Path

    def context(self) -> ssl.SSLContext:
        """The server's context; raises ssl.SSLError or OSError for unusable files."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.set_ciphers(TLS12_CIPHERS)
        context.options |= ssl.OP_NO_COMPRESSION | ssl.OP_CIPHER_SERVER_PREFERENCE
        context.load_cert_chain(self.cert, self.key)
        return context

    def check(self) -> None:
        """Raise now, not when the first client connects: ssl.SSLError or OSError for files
        that do not work, SecretFileError for a key others may read."""
        self.context()
        check_private(self.key, "TLS key")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
