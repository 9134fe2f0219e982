"""What a request must show before a server of ours looks at it (serve and the decision-log
ingest alike).

- A bearer token, compared in constant time and named in the audit log by a digest, never by
  itself.
- DNS rebinding: a page on evil.example whose name is made to resolve to 127.0.0.1 reaches a
  loopback server with `Host: evil.example`. Only the server's names are answered: bound to
  loopback, loopback addresses, `localhost` and the allowed names; bound elsewhere, any IP
  address (a rebinding page always sends its own name), the bound name and the allowed names.
- A browser sends a "simple request" (a GET, a text/plain POST) to another origin without
  asking first, and marks it with `Origin` and `Sec-Fetch-Site`. These APIs are for servers: a
  request from any other origin's page is refused, and a decision POST must be
  `application/json`, which no page can send cross-origin without a CORS preflight (never
  granted here). The ingest refuses every browser request.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from cctv_policy.output import printable

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


LOOPBACK_NAMES = frozenset({"localhost"})
# A browser page of another site (or of this host on another port) sends these.
FOREIGN_FETCH_SITES = frozenset({b"cross-site", b"same-site"})
JSON_MEDIA_TYPE = b"application/json"


@dataclass(frozen=True)
class Refusal:
    status: int
    code: str
    message: str


def _address(name: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        return None


def host_name(header: str) -> str | None:
    """The name or address of a Host header (port and a final dot left out), lowercase; None
    when it is not one."""
    header = header.strip().lower()
    if header.startswith("["):
        name, bracket, rest = header.partition("]")
        if not bracket or (rest and not (rest[0] == ":" and rest[1:].isdigit())):
            return None
        return name + "]" if _address(name + "]") else None
    name, colon, port = header.partition(":")
    if colon and not port.isdigit():
        return None
    name = name.removesuffix(".")
    return name if name and all(c.isalnum() or c in "-." for c in name) else None


@dataclass(frozen=True)
class HostRule:
    loopback: bool  # the server listens on loopback only
    names: frozenset[str]  # the names answered besides addresses

    @classmethod
    def for_binding(cls, bind_host: str, allowed: tuple[str, ...]) -> HostRule:
        bound = host_name(bind_host)
        address = _address(bound) if bound else None
        loopback = bind_host == "localhost" or (address is not None and address.is_loopback)
        names = {name for name in map(host_name, allowed) if name}
        if bound and address is None:
            names.add(bound)
        return cls(loopback, frozenset(names | LOOPBACK_NAMES))

    def refusal(self, header: str) -> Refusal | None:
        name = host_name(header)
        if name is None:
            shown = printable(header)[:100]
            return Refusal(400, "invalid_parameter", f"a valid Host header is required ({shown!r})")
        address = _address(name)
        if name in self.names or (
            address is not None and (address.is_loopback or not self.loopback)
        ):
            return None
        return Refusal(
            421,
            "misdirected_request",
            f"Host {printable(header)[:100]!r} is not a name of this server (a page of another "
            "site whose name points here?); add it with --allowed-host if it is",
        )


def origin_refusal(
    origin: bytes | None, fetch_site: bytes | None, scheme: str, host: str
) -> Refusal | None:
    """A browser page of another origin is behind this request (the Host is already checked)."""
    if fetch_site is not None and fetch_site.strip().lower() in FOREIGN_FETCH_SITES:
        return Refusal(
            403,
            "forbidden",
            f"a page of another site sent this request (Sec-Fetch-Site: "
            f"{printable(fetch_site.decode('latin-1'))[:20]}); browser pages are not served",
        )
    if origin is None:
        return None
    given = origin.decode("latin-1").strip()
    if _same_origin(given, scheme, host):
        return None
    return Refusal(
        403,
        "forbidden",
        f"Origin {printable(given)[:100]!r} is not this server: requests from other sites' "
        "pages are refused",
    )


def _same_origin(origin: str, scheme: str, host: str) -> bool:
    try:
        parts = urlsplit(origin)
        port = parts.port
    except ValueError:
        return False
    if parts.scheme != scheme or parts.path or parts.query or not parts.hostname:
        return False
    default = 443 if scheme == "https" else 80
    want = urlsplit(f"{scheme}://{host}")
    try:
        want_port = want.port
    except ValueError:
        return False
    return (parts.hostname, port or default) == (want.hostname, want_port or default)


def content_type_refusal(content_type: bytes | None) -> Refusal | None:
    media_type = (content_type or b"").split(b";", 1)[0].strip().lower()
    if media_type == JSON_MEDIA_TYPE:
        return None
    shown = printable((content_type or b"none").decode("latin-1"))[:60]
    return Refusal(
        415,
        "unsupported_media_type",
        f"a decision POST must be Content-Type: application/json (this one: {shown})",
    )
