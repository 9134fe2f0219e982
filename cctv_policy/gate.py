"""The one enforcement gate: nothing acts on a registry that cannot be read as written.

Every command that changes storage or hands out footage (apply, extract, authorize, serve)
passes here first. Input errors are the loader's (E_YAML, E_SCHEMA, E_DUPLICATE_ID) and the
policies' (E_REFERENCE: a hold naming an unknown camera would otherwise protect nothing).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cctv_policy.violations import Violation

if TYPE_CHECKING:
    from cctv_policy.evaluation import Evaluation


class RegistryNotEnforceable(Exception):
    """The registry has input errors; the message names the first and says what to do."""

    def __init__(self, errors: list[Violation]) -> None:
        self.errors = errors
        first = errors[0]
        where = f"{first.file}:{first.line}" if first.line else first.file
        super().__init__(
            f"the registry has {len(errors)} input error(s) (first: {where} {first.code}: "
            f"{first.message}); nothing acts on a registry that cannot be read as written: run "
            "`cctv-policy check` and fix them"
        )


def require_enforceable(evaluation: Evaluation, also: tuple[str, ...] = ()) -> None:
    """Raise RegistryNotEnforceable unless the registry reads clean (loader and policies).
    `also`: entrypoints the command asks next, evaluated with the rule book (one query)."""
    evaluation.evaluate_with_check(*also)
    errors = evaluation.input_errors()
    if errors:
        raise RegistryNotEnforceable(errors)
