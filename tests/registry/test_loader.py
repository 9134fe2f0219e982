"""Loading: the demo registry is clean; bad input is reported with positions, never raised."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cctv_policy.registry import load_registry
from cctv_policy.registry.loader import RegistryNotFound
from cctv_policy.registry.types import parse_rfc3339
from tests.conftest import DEMO_REGISTRY


def test_demo_registry_loads_without_input_errors():
    reg = load_registry(DEMO_REGISTRY)
    assert reg.issues == []
    assert len(reg.cameras) == 30 and len(reg.people) == 15 and len(reg.requests) >= 12
    assert reg.core_readable


def test_timestamps_are_normalised_to_utc():
    reg = load_registry(DEMO_REGISTRY)
    submitted = reg.requests["REQ-2026-0042"].submitted_at
    assert submitted == datetime(2026, 11, 20, 1, 30, tzinfo=UTC)


def test_missing_registry_is_a_tool_error(tmp_path: Path):
    with pytest.raises(RegistryNotFound, match="no config.yaml"):
        load_registry(tmp_path)


def test_symlinked_document_is_refused(registry_copy: Path, tmp_path: Path):
    secret = tmp_path / "outside.yaml"
    secret.write_text((registry_copy / "holds" / "HOLD-2026-0004.yaml").read_text()
                      .replace("HOLD-2026-0004", "HOLD-2026-0090"))
    os.symlink(secret, registry_copy / "holds" / "HOLD-2026-0090.yaml")
    reg = load_registry(registry_copy)
    assert "HOLD-2026-0090" not in reg.holds
    (issue,) = reg.issues
    assert issue.code == "E_SCHEMA" and "symbolic link" in issue.message


def test_broken_core_file_skips_policies_but_reports_position(registry_copy: Path):
    (registry_copy / "people.yaml").write_text("people:\n  - id: a.b\n    name: [unclosed\n")
    reg = load_registry(registry_copy)
    assert not reg.core_readable
    assert any(i.code == "E_YAML" and i.file == "people.yaml" and i.line == 4 for i in reg.issues)


@pytest.mark.parametrize("text", [
    "2026-11-20T09:30:00", "2026-11-20", "20 Nov 2026", "2026-11-20T09:30:00+0800", "",
    "2026-11-20T25:30:00+08:00",
])
def test_bad_timestamps_are_rejected(text: str):
    with pytest.raises(ValueError):
        parse_rfc3339(text)


@given(st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2999, 1, 1),
                    timezones=st.timezones()))
def test_any_aware_timestamp_round_trips_to_the_same_instant(moment: datetime):
    if moment.utcoffset() is None:
        return
    moment = moment.replace(microsecond=0)
    offset = moment.utcoffset()
    assert offset is not None
    total = int(offset.total_seconds())
    if total % 60:
        return  # RFC 3339 offsets have minute precision
    sign = "+" if total >= 0 else "-"
    hours, minutes = divmod(abs(total) // 60, 60)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S") + f"{sign}{hours:02d}:{minutes:02d}"
    assert parse_rfc3339(text) == moment
