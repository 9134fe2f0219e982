"""The viewing point's reading of an original request URI: one meaning, or a refusal.

The proxy in front of the recorder and this service must read a URI the same way, or a request
decided for one camera and time plays another. So the URI is read strictly, and whatever two
readers could read differently is refused rather than guessed:

- the path holds only letters, digits and `. _ ~ , -` between single slashes: no percent-encoding
  at all (an encoded slash, dot, NUL or percent sign is how paths are smuggled past a check), no
  `.` or `..` segment, no empty segment (`//`), no backslash, no `;` parameters, no control or
  non-ASCII character;
- the query is `key=value` pairs joined by `&`, each key once; values are percent-decoded once,
  and a `+` (a space to some readers, a plus to others), a `;`, an encoded `%`, a control
  character or a backslash in them is refused.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

_PATH = re.compile(r"(?:/[A-Za-z0-9._~,-]+)+/?")
_KEY = re.compile(r"[a-z][a-z_]{0,31}")
_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
MAX_URI = 2048


class AmbiguousUri(ValueError):
    """The URI could be read in more than one way, or is not a URI at all."""


def split_uri(uri: str) -> tuple[str, str]:
    """(path, raw query) of an origin-form request target; a fragment or an absolute URI is
    refused (a proxy sends neither)."""
    if len(uri) > MAX_URI:
        raise AmbiguousUri(f"the URI is longer than {MAX_URI} characters")
    if not (uri.isascii() and uri.isprintable()) or " " in uri:
        raise AmbiguousUri("the URI holds a space, a control or a non-ASCII character")
    if not uri.startswith("/") or "#" in uri:
        raise AmbiguousUri("the URI is not a path (it must start with / and carry no #)")
    path, _, query = uri.partition("?")
    return strict_path(path), query


def strict_path(path: str) -> str:
    """The path, unchanged, when it can be read only one way."""
    if "%" in path:
        raise AmbiguousUri("a percent-encoded path is refused (encoded slashes, dots, NUL)")
    if "\\" in path or "\0" in path or ";" in path:
        raise AmbiguousUri("a backslash, NUL or ; in the path is refused")
    if "//" in path:
        raise AmbiguousUri("an empty path segment (//) is refused")
    segments = path.split("/")
    if any(segment in (".", "..") for segment in segments):
        raise AmbiguousUri("a . or .. path segment is refused")
    if not _PATH.fullmatch(path):
        raise AmbiguousUri("the path holds characters a recorder URL never has")
    return path


def strict_query(query: str, allowed: frozenset[str]) -> Mapping[str, str]:
    """The query's parameters (each decoded once), all of them among `allowed`."""
    if not query:
        return {}
    found: dict[str, str] = {}
    for pair in query.split("&"):
        key, equals, raw = pair.partition("=")
        if not equals or not _KEY.fullmatch(key):
            raise AmbiguousUri("the query is not key=value pairs joined by &")
        if key in found:
            raise AmbiguousUri(f"the query names {key} twice (readers differ on which counts)")
        if key not in allowed:
            raise AmbiguousUri(f"the query parameter {key} is not one this URL takes")
        found[key] = _decoded_value(raw)
    return found


def _decoded_value(raw: str) -> str:
    if "+" in raw or ";" in raw:
        raise AmbiguousUri("a + or ; in the query is refused (encode a plus as %2B)")
    if re.search(r"%(?![0-9A-Fa-f]{2})", raw):
        raise AmbiguousUri("a malformed percent-escape in the query")
    if any(m.group(1) == "25" for m in _ESCAPE.finditer(raw)):
        raise AmbiguousUri("an encoded percent sign (double encoding) is refused")
    try:
        value = bytes(_unescaped_bytes(raw)).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise AmbiguousUri("the query is not UTF-8") from exc
    if not value.isprintable() or "\\" in value or not value.isascii():
        raise AmbiguousUri("a control, non-ASCII or backslash character in the query")
    return value


def _unescaped_bytes(raw: str) -> bytearray:
    out = bytearray()
    position = 0
    for match in _ESCAPE.finditer(raw):
        out += raw[position : match.start()].encode("latin-1", "strict")
        out.append(int(match.group(1), 16))
        position = match.end()
    out += raw[position:].encode("latin-1", "strict")
    return out
