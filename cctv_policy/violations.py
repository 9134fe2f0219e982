"""The one result type every check produces: a violation with a stable code and a place."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class Severity(StrEnum):
    error = "error"
    warning = "warning"


# Codes that mean "the registry itself could not be read as written" (bad input), as opposed to
# a well-formed registry that breaks the rule book. They get their own exit code.
INPUT_CODES = frozenset({"E_YAML", "E_SCHEMA", "E_DUPLICATE_ID", "E_REFERENCE"})


class Violation(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: str
    severity: Severity
    subject: str
    message: str
    file: str
    line: int | None = None
    column: int | None = None
    field: str | None = None
    # What to do about it, in the reader's language (messages.localize fills it in).
    fix: str | None = None
    # A messages.INPUT key and its values, for input errors worded in either language.
    message_id: str | None = None
    params: tuple[tuple[str, str], ...] = ()

    @property
    def is_input_error(self) -> bool:
        return self.code in INPUT_CODES

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.file, self.line or 0, self.column or 0, self.code)
