"""Decision ids: the audit entry of each answer of serve (the data API, forward-auth)."""

from __future__ import annotations

import os

_VARIANT = {digit: "89ab"[int(digit, 16) & 3] for digit in "0123456789abcdef"}


def new_decision_id() -> str:
    """A random (version 4) UUID, as OPA's decision ids are; uuid.uuid4() costs four times as
    much, on every decision."""
    h = os.urandom(16).hex()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:]}"
