"""Shared pieces of the adversarial tests: the demo campus with real footage on disk."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from cctv_policy.cli.main import cli
from cctv_policy.demo import write_footage
from cctv_policy.enforce.job import Prepared
from testing.helpers import DEMO_LAYOUT as LAYOUT
from testing.helpers import apply_at
from tests.conftest import NOW, NOW_TEXT

CAMERAS = ["CAM-CAN-03", "CAM-LIB-01", "CAM-LIB-02", "CAM-SPT-01", "CAM-SPT-02", "CAM-GYM-01"]


@pytest.fixture
def nas(tmp_path: Path) -> Path:
    root = tmp_path / "nas-main"
    write_footage(root, LAYOUT, CAMERAS, NOW, days=40, segment_minutes=120)
    return root


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def check_json(registry: Path) -> tuple[int, list[dict]]:
    result = invoke("check", "--registry", str(registry), "--now", NOW_TEXT, "--format", "json")
    assert result.exit_code in (0, 1, 3), result.output
    return result.exit_code, json.loads(result.stdout)["violations"]


def authorize(registry: Path, audit: Path, principal: str, camera: str, at: str) -> Result:
    return invoke(
        "authorize",
        "--registry",
        str(registry),
        "--now",
        NOW_TEXT,
        "--audit-log",
        str(audit),
        "--principal",
        principal,
        "--camera",
        camera,
        "--at",
        at,
    )


def enforce(registry: Path, nas: Path, audit: Path, now=NOW) -> Prepared:
    """One enforcement run on the real directory tree at a fixed clock (library level)."""
    return apply_at(registry, {"nas-main": nas}, audit, now, target="nas-main")[0]


def grants_on_disk(nas: Path) -> set[str]:
    folder = nas / ".cctv-policy" / "grants"
    return {p.name for p in folder.iterdir()} if folder.is_dir() else set()


def grants_of(nas: Path, request: str) -> list[str]:
    """The grant exports on disk for one request (ids end in a digest of what they give)."""
    return sorted(g for g in grants_on_disk(nas) if g.startswith(f"{request}--"))
