"""A campus whose NAS holds real video, for extraction tests: the example registry with
REQ-2026-0038's approved window moved to a chosen 20 minutes, and segments rendered once."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import datetime, timedelta
from pathlib import Path

from click.testing import CliRunner

from cctv_policy.cli.main import cli
from cctv_policy.registry.types import parse_rfc3339
from testing.helpers import DEMO_REGISTRY, extract_at, point_export_target
from testing.video import record_segments, tools

REQUEST = "REQ-2026-0038"  # export_copy of CAM-SPT-01/02, supervised by m.guo
DURING_USE = parse_rfc3339("2026-11-20T10:00:00+08:00")
APPROVED_SCOPE = "  from: 2026-11-16T15:30:00+08:00\n  to: 2026-11-16T17:00:00+08:00\n"


def window(start: str, minutes: int = 20) -> tuple[datetime, datetime]:
    begin = parse_rfc3339(start)
    return begin, begin + timedelta(minutes=minutes)


def make_site(
    root: Path, footage: Path, start: datetime, end: datetime, watermark: bool = False
) -> Path:
    """root/registry (the approval's window is [start, end)), root/nas (a copy of `footage`),
    root/exports, root/key."""
    registry = root / "registry"
    shutil.copytree(DEMO_REGISTRY, registry)
    point_export_target(registry, root / "exports")
    decision = registry / "decisions" / f"{REQUEST}.yaml"
    text = decision.read_text()
    assert APPROVED_SCOPE in text
    scope = f"  from: {start.isoformat()}\n  to: {end.isoformat()}\n"
    text = text.replace(APPROVED_SCOPE, scope)
    if watermark:
        condition = "  supervised_by: m.guo\n"
        text = text.replace(condition, condition + "  watermark: true\n")
    decision.write_text(text)
    shutil.copytree(footage, root / "nas")
    (root / "exports").mkdir()
    keygen = CliRunner().invoke(cli, ["extract", "keygen", "--out", str(root / "key")])
    assert keygen.exit_code == 0, keygen.output
    return root


def render(root: Path, camera: str, start: str, minutes: float, segment_seconds: int) -> Path:
    record_segments(root, camera, parse_rfc3339(start), minutes, segment_seconds)
    return root


def extract(
    site: Path, now: datetime = DURING_USE, watermark: bool = False, skip: bool = True
) -> tuple[int, str]:
    return extract_at(
        site / "registry",
        REQUEST,
        "m.guo",
        "nas-export",
        site / "nas",
        site / "key",
        site / "audit.jsonl",
        now,
        watermark=watermark,
        skip_without_ffmpeg=skip,
    )


def package(site: Path) -> Path:
    (found,) = [p for p in (site / "exports").iterdir() if not p.name.startswith(".")]
    return found


def manifest(site: Path) -> dict:
    return json.loads((package(site) / "MANIFEST.json").read_text())


def duration(path: Path) -> float:
    command = [tools().ffprobe, "-v", "error", "-show_entries", "format=duration"]
    out = subprocess.run(
        [*command, "-of", "csv=p=0", str(path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return float(out)
