"""A decision request's body and input, read as OPA reads them (gzip, JSON, a missing input),
and the errors every part of the app answers with."""

from __future__ import annotations

import json
import zlib
from datetime import datetime
from typing import Any

from cctv_policy.authz.decide import InvalidQuestion, question
from cctv_policy.output import printable
from cctv_policy.registry.types import parse_rfc3339


class HttpError(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        close: bool = False,
        headers: tuple[tuple[bytes, bytes], ...] = (),
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.close, self.headers = close, headers


def decoded(body: bytes, encoding: bytes | None, limit: int) -> bytes:
    name = (encoding or b"identity").strip().lower()
    if name == b"identity":
        return body
    if name != b"gzip":
        raise HttpError(
            400,
            "invalid_parameter",
            f"Content-Encoding "
            f"{printable(name.decode('latin-1'))[:40]} is not supported; send the "
            "body as is or gzip",
        )
    unpack = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        plain = unpack.decompress(body, limit + 1)
    except zlib.error:
        raise HttpError(400, "invalid_parameter", "could not decompress the body") from None
    if len(plain) > limit or unpack.unconsumed_tail:
        raise HttpError(
            413,
            "invalid_parameter",
            f"compressed request body too large (limit {limit} bytes unpacked)",
        )
    if not unpack.eof or unpack.unused_data:
        raise HttpError(400, "invalid_parameter", "could not decompress the body")
    return plain


def given_input(method: str, query: dict[str, list[str]], body: bytes) -> tuple[Any, bool]:
    """The caller's input and whether it is missing (OPA: a missing input is not an error)."""
    if method == "POST":
        if not body.strip():
            return None, True
        document = _json(body, "the request body")
        if not isinstance(document, dict):
            raise HttpError(
                400,
                "invalid_parameter",
                'the body must be a JSON object like {"input": {"principal", "camera", "at"}}',
            )
        given = document.get("input")
    else:
        values = query.get("input")
        given = _json(values[-1].encode(), "the input parameter") if values else None
    return given, given is None


def _json(text: bytes, what: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        raise HttpError(400, "invalid_parameter", f"{what} is not JSON") from None


def question_of(given: Any, now: datetime) -> dict[str, str]:
    if not isinstance(given, dict):
        raise HttpError(
            400, "invalid_parameter", 'input must be an object like {"principal", "camera", "at"}'
        )
    for key in ("principal", "camera", "at"):
        if not isinstance(given.get(key), str):
            raise HttpError(400, "invalid_parameter", f"input.{key} is missing or not a string")
    try:
        return question(given["principal"], given["camera"], parse_rfc3339(given["at"]), now)
    except (InvalidQuestion, ValueError) as exc:
        raise HttpError(400, "invalid_parameter", f"bad input: {exc}") from None
