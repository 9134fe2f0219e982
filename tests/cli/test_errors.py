"""The one table of which error ends a command with which exit code."""

from __future__ import annotations

import importlib

import pytest

from cctv_policy.cli.errors import (
    EXIT_BAD_INPUT,
    EXIT_CODES,
    EXIT_TOOL_ERROR,
    EXIT_VIOLATIONS,
    exit_code_for,
    refusing,
)


@pytest.mark.parametrize("qualified", sorted(EXIT_CODES))
def test_every_name_in_the_table_is_an_error_class(qualified: str) -> None:
    module, _, name = qualified.rpartition(".")
    kind = getattr(importlib.import_module(module), name)
    assert isinstance(kind, type) and issubclass(kind, BaseException)


def test_codes_follow_the_class_and_its_ancestry() -> None:
    from cctv_policy.authz.decide import InvalidQuestion
    from cctv_policy.rulebook.gate import RegistryNotEnforceable
    from cctv_policy.violations import Severity, Violation

    error = Violation(
        code="E_YAML",
        severity=Severity.error,
        subject="file:x",
        message="m",
        file="x.yaml",
        line=1,
    )
    assert exit_code_for(RegistryNotEnforceable([error])) == EXIT_BAD_INPUT
    assert exit_code_for(InvalidQuestion("x")) == EXIT_BAD_INPUT  # not ValueError's (none)
    assert exit_code_for(FileNotFoundError("x")) == EXIT_TOOL_ERROR  # an OSError
    assert exit_code_for(ValueError("x")) is None


def test_refusing_turns_a_known_error_into_its_code_and_lets_a_bug_through(capsys) -> None:
    from cctv_policy.office.decide import DecideRefused

    with pytest.raises(SystemExit) as stopped, refusing("Nothing was written."):
        raise DecideRefused("a decider outside the office")
    assert stopped.value.code == EXIT_VIOLATIONS
    assert "a decider outside the office\nNothing was written." in capsys.readouterr().err
    with pytest.raises(KeyError), refusing("Nothing was written."):
        raise KeyError("a bug")
