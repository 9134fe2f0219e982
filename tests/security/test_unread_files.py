"""Every entry of the registry is read or named (issue 8, hole 3): a hold the loader skips
would let the enforcer delete the footage it was written to keep."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from cctv_policy.rulebook.gate import RegistryNotEnforceable
from testing.helpers import apply_at
from tests.conftest import NOW, NOW_TEXT
from tests.security.conftest import LAYOUT, check_json, invoke

HELD_START = (NOW - timedelta(days=35)).replace(hour=2, minute=0, second=0, microsecond=0)
HOLD = f"""id: HOLD-2026-0090
created_by: s.zhou
created_at: {NOW_TEXT}
cameras: [CAM-LIB-01]
from: {HELD_START.isoformat()}
to: {(HELD_START + timedelta(hours=2)).isoformat()}
until: 2027-06-01T00:00:00+08:00
reason: Fight reported at the library entrance
"""

MISNAMED = [
    "holds/HOLD-2026-0090.YAML",
    "holds/HOLD-2026-0090.yaml.txt",
    "holds/HOLD-2026-0090",
    "holds/2026/HOLD-2026-0090.yaml",
    "hold/HOLD-2026-0090.yaml",
    "Holds/HOLD-2026-0090.yaml",
    "holds/.HOLD-2026-0090.yaml.swp",
    "holds/HOLD-2026-0090.yaml~",
]


@pytest.mark.parametrize("where", MISNAMED)
def test_misplaced_hold_is_named_and_nothing_is_deleted(where: str, registry_copy: Path, nas):
    path = registry_copy / where
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HOLD)
    held = nas / LAYOUT.key("CAM-LIB-01", HELD_START, 7200)
    assert held.exists()

    code, violations = check_json(registry_copy)
    named = (
        where.split("/")[0] + "/"
        if where.split("/")[0] in ("hold", "Holds")
        else "/".join(where.split("/")[:2]) + ("/" if where.count("/") == 2 else "")
    )
    assert code == 3
    assert any(v["code"] == "E_SCHEMA" and v["file"].endswith(named) for v in violations), (
        named,
        violations,
    )

    plan = invoke(
        "plan",
        "--registry",
        str(registry_copy),
        "--now",
        NOW_TEXT,
        "--storage-root",
        f"nas-main={nas}",
        "--format",
        "json",
    )
    assert plan.exit_code == 3, plan.output
    with pytest.raises(RegistryNotEnforceable):
        apply_at(registry_copy, {"nas-main": nas}, nas.parent / "audit.jsonl", NOW)
    assert held.exists(), "the footage the hold was written to keep is gone"


def test_correctly_named_hold_protects(registry_copy: Path, nas):
    (registry_copy / "holds/HOLD-2026-0090.yaml").write_text(HOLD)
    held = nas / LAYOUT.key("CAM-LIB-01", HELD_START, 7200)
    apply_at(registry_copy, {"nas-main": nas}, nas.parent / "audit.jsonl", NOW)
    assert held.exists()
    assert not (nas / LAYOUT.key("CAM-LIB-01", HELD_START - timedelta(hours=2), 7200)).exists()


def test_allowed_non_documents_are_not_reported(registry_copy: Path):
    (registry_copy / "README.md").write_text("# Our campus registry\n")
    (registry_copy / "CODEOWNERS").write_text("* @school/security-office\n")
    (registry_copy / "requests/.gitkeep").write_text("")
    code, _ = check_json(registry_copy)
    assert code == 0
