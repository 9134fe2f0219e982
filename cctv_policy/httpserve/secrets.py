"""Bearer tokens and private keys read from files only their owner can read.

A token file or TLS key that the group or others may read (or write) is refused: anyone else on
the machine could then act as the fleet or read its traffic. `chmod 600 FILE` fixes it."""

from __future__ import annotations

import os
import stat
from pathlib import Path

MIN_TOKEN_LENGTH = 16


class SecretFileError(ValueError):
    """A token or key file that cannot be used (the message says why and what to do)."""


def check_private(path: Path, what: str) -> None:
    """Refuse a file the group or others may read or write."""
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        raise SecretFileError(f"cannot read the {what} {path}: {exc.strerror}") from exc
    _refuse_open_mode(path, what, mode)


def _refuse_open_mode(path: Path, what: str, mode: int) -> None:
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise SecretFileError(
            f"the {what} {path} is open to its group or others (mode {stat.filemode(mode)}): "
            f"anyone who reads it can act with it, anyone who writes it can change it. "
            f"Run: chmod 600 {path}"
        )


def read_tokens(path: Path) -> tuple[bytes, ...]:
    """Bearer tokens, one a line (blank lines and # comments skipped), from a private file.
    The mode checked is the opened file's, not the name's (no swap in between)."""
    try:
        with open(path, "rb") as handle:
            mode = os.fstat(handle.fileno()).st_mode
            lines = handle.read().decode("utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise SecretFileError(f"cannot read the token file {path}: {exc}") from exc
    _refuse_open_mode(path, "token file", mode)
    tokens = tuple(
        line.strip().encode() for line in lines if line.strip() and not line.strip().startswith("#")
    )
    if not tokens:
        raise SecretFileError(f"the token file {path} holds no token (one a line)")
    if any(
        len(token) < MIN_TOKEN_LENGTH or not token.isascii() or b" " in token for token in tokens
    ):
        raise SecretFileError(
            f"every token in {path} must be at least {MIN_TOKEN_LENGTH} printable ASCII "
            "characters without spaces (e.g. the output of `openssl rand -hex 32`)"
        )
    return tokens
