"""The JSON Schemas: generated from the models, committed, named by every demo file, and
checked by an independent validator (check-jsonschema) on the demo registry and the bad corpus."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from cctv_policy.cli.main import cli
from cctv_policy.registry.schemas import SCHEMAS, modeline, rendered_schemas
from tests.conftest import DATA, DEMO_REGISTRY
from tests.workflows.test_workflows import tool

SCHEMA_DIR = DEMO_REGISTRY / "schemas"
# Bad inputs that only `check` can see: they are valid by shape (unknown ids, duplicates
# across files, file names, a rule between two fields).
ONLY_CHECK_SEES = {
    "bad_file_name",
    "duplicate_camera",
    "duplicate_person",
    "file_name_mismatch",
    "kept_copies_without_hold",
    "unknown_camera_reference",
    "unknown_hold_reference",
    "unknown_person_reference",
    "unknown_target_reference",
    "not_utf8",
    "maintenance_unknown_camera",
}


def schema_for(relative: str) -> Path:
    for name, (_, files) in SCHEMAS.items():
        if Path(relative).match(files):
            return SCHEMA_DIR / name
    raise AssertionError(f"no schema for {relative}")


def validate(schema: Path, *files: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [tool("check-jsonschema"), "--schemafile", str(schema), *map(str, files)],
        capture_output=True,
        text=True,
    )


def test_committed_schemas_are_up_to_date(tmp_path: Path):
    assert {p.name for p in SCHEMA_DIR.glob("*.json")} == set(SCHEMAS)
    for name, text in rendered_schemas().items():
        assert (SCHEMA_DIR / name).read_text() == text, f"run `cctv-policy schema` ({name})"
    result = CliRunner().invoke(cli, ["schema", "--out", str(tmp_path / "s")])
    assert result.exit_code == 0 and len(list((tmp_path / "s").iterdir())) == len(SCHEMAS)


def test_every_demo_file_names_its_schema():
    for name, (_, files) in SCHEMAS.items():
        for path in DEMO_REGISTRY.glob(files):
            assert modeline(name, "/" in files) in path.read_text().splitlines(), path


@pytest.mark.parametrize("schema", sorted(SCHEMAS))
def test_demo_registry_is_valid_by_check_jsonschema(schema: str):
    files = sorted(DEMO_REGISTRY.glob(SCHEMAS[schema][1]))
    result = validate(SCHEMA_DIR / schema, *files)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(p.name for p in (DATA / "bad").iterdir()))
def test_bad_corpus_by_check_jsonschema(case: str):
    overlay = DATA / "bad" / case / "registry"
    files = sorted(overlay.rglob("*.yaml")) if overlay.exists() else []
    verdicts = [
        validate(schema_for(f.relative_to(overlay).as_posix()), f).returncode for f in files
    ]
    if case in ONLY_CHECK_SEES:
        return  # valid by shape: `check` reports them (tests/checks/test_corpus.py)
    assert verdicts and any(v != 0 for v in verdicts), case
