"""Text that is safe to print: what comes from files, the network or the audit log never
reaches a terminal or a CI log as control characters (a newline followed by `::error` would
forge a GitHub workflow command; an escape sequence would rewrite the screen)."""

from __future__ import annotations

import unicodedata


def printable(value: object) -> str:
    """`value` as one line: control and format characters shown as escapes (\\n, \\x1b, \\u202e)."""
    text = str(value)
    if text.isprintable():
        return text
    out = []
    for char in text:
        if char.isprintable() or char == " ":
            out.append(char)
        elif char == "\n":
            out.append("\\n")
        elif char == "\r":
            out.append("\\r")
        elif char == "\t":
            out.append("\\t")
        elif ord(char) < 0x100:
            out.append(f"\\x{ord(char):02x}")
        elif unicodedata.category(char) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"):
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return "".join(out)
