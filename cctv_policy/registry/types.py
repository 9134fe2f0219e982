"""Constrained field types shared by the registry models: ids and RFC 3339 timestamps."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, StringConstraints
from pydantic_core import PydanticCustomError

# Document ids (requests, cameras, holds) are upper-case with digits and dashes, so they are safe
# as file names and as storage key parts: no dots, slashes or spaces can ever reach a path.
DOCUMENT_ID = r"[A-Z0-9][A-Z0-9-]{0,63}"
PERSON_ID = r"[a-z0-9][a-z0-9._-]{0,63}"
DocumentId = Annotated[str, StringConstraints(pattern=f"^{DOCUMENT_ID}$")]
# People are git-style handles ("t.wang"); storage targets are kebab-case ("nas-main").
PersonId = Annotated[str, StringConstraints(pattern=f"^{PERSON_ID}$")]
GitHubLogin = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9-]{0,38}$")]
TargetId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")]
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
NonEmptyText = Annotated[str, StringConstraints(min_length=1, strip_whitespace=True)]
Sha256Hex = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
SshPublicKey = Annotated[
    str,
    StringConstraints(
        pattern=r"^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh\.com|"
        r"sk-ecdsa-sha2-nistp256@openssh\.com) [A-Za-z0-9+/]+={0,3}( [^\n]*)?$"
    ),
]

_RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?(?P<offset>[Zz]|[+-]\d{2}:\d{2})?$"
)


# Whole seconds with Z or an offset, upper-case T: nothing to tidy before fromisoformat.
_CANONICAL = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(Z|[+-]\d{2}:\d{2})\Z")


def parse_rfc3339(value: object) -> datetime:
    """Parse an RFC 3339 timestamp that carries an offset; return it in UTC.

    The YAML loader hands timestamps over as strings, so a naive one cannot slip through as a
    datetime that some library later assumes to be local time.
    """
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise _time_error("time_no_offset", value)
        return _in_range(value.astimezone(UTC), value)
    if not isinstance(value, str):
        raise _time_error("time_format", value)
    if _CANONICAL.match(value):  # the usual case, already in the form fromisoformat reads
        try:
            moment = datetime.fromisoformat(value).astimezone(UTC)
        except (ValueError, OverflowError):
            raise _time_error("time_invalid", value) from None
        return _in_range(moment, value)
    match = _RFC3339.match(value.strip())
    if not match:
        raise _time_error("time_format", value)
    if match.group("offset") is None:
        raise _time_error("time_no_offset", value)
    text = value.strip().replace("z", "Z").replace("t", "T")
    fraction = match.group(1)
    if fraction and len(fraction) > 7:  # datetime keeps microseconds only
        text = text.replace(fraction, fraction[:7])
    try:
        moment = datetime.fromisoformat(text).astimezone(UTC)
    except (ValueError, OverflowError):
        raise _time_error("time_invalid", value) from None
    return _in_range(moment, value)


# The policies compute in nanoseconds since 1970 (int64: years 1678-2262); keep well inside.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)


def _in_range(moment: datetime, written: object) -> datetime:
    if not EARLIEST <= moment < LATEST:
        raise _time_error("time_range", written)
    return moment


_TIME_ERRORS = {
    "time_format": "{value} is not a date and time like 2026-11-20T09:30:00+08:00",
    "time_no_offset": "{value} has no UTC offset (time zone); write it like "
    "2026-11-20T09:30:00+08:00 (+08:00 or Z at the end)",
    "time_invalid": "{value} is not a real date and time",
    "time_range": "{value} is outside the years 1970 to 2199 that the rule book can compute "
    "with; write a real date (for a hold without end, a date a few years ahead)",
}


def _time_error(kind: str, value: object) -> PydanticCustomError:
    """A ValueError whose type names the problem (messages.INPUT words it for people)."""
    return PydanticCustomError(kind, _TIME_ERRORS[kind], {"value": repr(str(value))})


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


Timestamp = Annotated[datetime, BeforeValidator(parse_rfc3339), AfterValidator(_utc)]


def format_utc(value: datetime) -> str:
    """The one canonical text form of a timestamp inside the tool: UTC with a Z."""
    v = value if value.tzinfo is UTC else value.astimezone(UTC)
    return f"{v.year:04d}-{v.month:02d}-{v.day:02d}T{v.hour:02d}:{v.minute:02d}:{v.second:02d}Z"
