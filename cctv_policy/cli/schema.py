"""`cctv-policy schema`: write the JSON Schemas of the registry files."""

from __future__ import annotations

from pathlib import Path

import click

from cctv_policy.cli.errors import refusing
from cctv_policy.registry.schemas import rendered_schemas


@click.command()
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("registry/schemas"),
    show_default=True,
    help="Folder to write the schemas to (created if missing).",
)
def schema(out: Path) -> None:
    """Write a JSON Schema for every registry file kind (config, people, cameras, storage,
    request, decision, report, hold), generated from the tool's own models. Editors use them
    through the `# yaml-language-server: $schema=...` line in each file; `check` remains the
    judge of a registry (it also knows which people, cameras and purposes exist).

    \b
    Exit codes:
      0  written
      2  the folder cannot be written

    \b
    Examples:
      cctv-policy schema                      # registry/schemas/*.schema.json
      cctv-policy schema --out /tmp/schemas
      check-jsonschema --schemafile registry/schemas/request.schema.json registry/requests/*.yaml
    """
    with refusing("No schema was written."):
        out.mkdir(parents=True, exist_ok=True)
        for name, text in rendered_schemas().items():
            (out / name).write_text(text, encoding="utf-8")
            click.echo(out / name)
