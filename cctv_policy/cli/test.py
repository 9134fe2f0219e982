"""`cctv-policy test`: run the Rego unit tests through the embedded OPA engine."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.console import Console

from cctv_policy.cli.common import format_option
from cctv_policy.cli.errors import EXIT_OK, EXIT_VIOLATIONS, fail
from cctv_policy.engine import EngineError, load_policies
from cctv_policy.engine.rego_tests import Outcome, run_rego_tests


@click.command("test")
@click.argument("policy_dir", type=click.Path(path_type=Path), required=False)
@click.option(
    "--run",
    "name_filter",
    default=None,
    metavar="REGEX",
    help="Only tests whose package.name matches this regular expression.",
)
@format_option()
@click.option("-v", "--verbose", is_flag=True, help="List passing tests too.")
def test(
    policy_dir: Path | None, name_filter: str | None, output_format: str, verbose: bool
) -> None:
    """Run the Rego tests (test_* rules in *_test.rego), like `opa test`.

    Every test rule is evaluated on its own by the embedded OPA engine: true passes,
    false or undefined fails. Exit 0 when all pass, 1 when any fails, 2 when the policies
    do not compile.
    """
    try:
        results = run_rego_tests(load_policies(policy_dir), name_filter)
    except (EngineError, FileNotFoundError) as exc:
        fail(str(exc))
    failed = [r for r in results if r.outcome is not Outcome.passed]
    if output_format == "json":
        click.echo(
            json.dumps(
                [
                    {
                        "package": r.package,
                        "name": r.name,
                        "file": r.file,
                        "line": r.line,
                        "outcome": r.outcome.value,
                        "seconds": round(r.seconds, 6),
                        "detail": r.detail,
                    }
                    for r in results
                ],
                indent=2,
            )
        )
    else:
        console = Console(highlight=False)
        # One line per test, like `opa test`: names are never truncated.
        for r in results if verbose else failed:
            style = "green" if r.outcome is Outcome.passed else "red"
            detail = f" - {r.detail}" if r.detail else ""
            console.print(
                f"[{style}]{r.outcome.value.upper():5}[/] data.{r.package}.{r.name} "
                f"({r.file}:{r.line}, {r.seconds * 1000:.1f} ms){detail}",
                soft_wrap=True,
            )
        passed = len(results) - len(failed)
        console.print(
            f"PASS: {passed}/{len(results)}" + (f"  FAIL: {len(failed)}" if failed else "")
        )
    raise SystemExit(EXIT_VIOLATIONS if failed or not results else EXIT_OK)
