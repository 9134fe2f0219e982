"""Who may talk to a server: a bearer token (compared in constant time, and named in the audit
log by a digest, never by itself), never a browser (a request with Origin or Sec-Fetch-* is one),
and only under a Host name the server answers to (a DNS-rebound name is not)."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping

BROWSER_HEADERS = (b"origin", b"sec-fetch-site", b"sec-fetch-mode")


def token_id(token: bytes) -> str:
    """How the audit log names a token: a digest that does not give it away."""
    return "token:" + hashlib.sha256(token).hexdigest()[:12]


def bearer_token(headers: Mapping[bytes, bytes], tokens: Iterable[bytes]) -> bytes | None:
    """The configured token the request carries as `Authorization: Bearer`, or None."""
    scheme, _, given = headers.get(b"authorization", b"").partition(b" ")
    found = None
    for token in tokens:  # every token compared, in constant time
        if hmac.compare_digest(given.strip(), token):
            found = token
    return found if scheme.lower() == b"bearer" else None


def from_a_browser(headers: Mapping[bytes, bytes]) -> bool:
    return any(name in headers for name in BROWSER_HEADERS)


def host_name(headers: Mapping[bytes, bytes]) -> str:
    """The Host header's name, lower case, without the port."""
    host = headers.get(b"host", b"").decode("latin-1").strip().lower()
    if host.startswith("["):
        return host[: host.find("]") + 1]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def allowed_hosts(bind_host: str, names: Iterable[str], loopback: bool) -> frozenset[str]:
    """The Host names a server answers to: the address it listens on (unless a wildcard), the
    loopback names when it listens on loopback, and the names it was given."""
    hosts = {name.strip().lower() for name in names if name.strip()}
    if bind_host not in ("0.0.0.0", "::", "[::]", ""):
        hosts.add(f"[{bind_host}]" if ":" in bind_host and "[" not in bind_host else bind_host)
    if loopback:
        hosts |= {"localhost", "127.0.0.1", "[::1]"}
    return frozenset(hosts)
