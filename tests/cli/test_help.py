"""Every command's --help shows its exit codes and examples."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from cctv_policy.cli.main import COMMANDS, cli


def command_paths() -> list[tuple[str, ...]]:
    ctx = click.Context(cli)
    paths: list[tuple[str, ...]] = []

    def walk(command: click.Command, path: tuple[str, ...]) -> None:
        paths.append(path)
        if isinstance(command, click.Group):
            for name in command.list_commands(ctx):
                sub = command.get_command(ctx, name)
                assert sub is not None
                walk(sub, (*path, name))

    for name in COMMANDS:
        command = cli.get_command(ctx, name)
        assert command is not None
        walk(command, (name,))
    return paths


@pytest.mark.parametrize("path", command_paths(), ids=" ".join)
def test_help_has_exit_codes_and_examples(path: tuple[str, ...]):
    result = CliRunner().invoke(cli, [*path, "--help"])
    assert result.exit_code == 0
    assert "Exit codes:" in result.output, path
    assert "Examples:" in result.output, path
    assert "cctv-policy " in result.output.split("Examples:")[1]
