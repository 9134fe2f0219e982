"""Loading: the demo registry is clean; bad input is reported with positions, never raised."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta, timezone
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
    with pytest.raises(RegistryNotFound, match=r"no config\.yaml"):
        load_registry(tmp_path)


def test_symlinked_document_is_refused(registry_copy: Path, tmp_path: Path):
    secret = tmp_path / "outside.yaml"
    secret.write_text(
        (registry_copy / "holds" / "HOLD-2026-0004.yaml")
        .read_text()
        .replace("HOLD-2026-0004", "HOLD-2026-0090")
    )
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


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-20T09:30:00",
        "2026-11-20",
        "20 Nov 2026",
        "2026-11-20T09:30:00+0800",
        "",
        "2026-11-20T25:30:00+08:00",
    ],
)
def test_bad_timestamps_are_rejected(text: str):
    with pytest.raises(ValueError):
        parse_rfc3339(text)


@given(
    st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2199, 1, 1)),
    st.integers(min_value=-14 * 60, max_value=14 * 60),
)
def test_any_offset_timestamp_parses_to_the_same_instant(naive: datetime, offset_minutes: int):
    moment = naive.replace(microsecond=0, tzinfo=timezone(timedelta(minutes=offset_minutes)))
    sign = "+" if offset_minutes >= 0 else "-"
    hours, minutes = divmod(abs(offset_minutes), 60)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S") + f"{sign}{hours:02d}:{minutes:02d}"
    parsed = parse_rfc3339(text)
    assert parsed == moment and parsed.tzinfo is UTC


def test_parallel_parse_gives_the_same_registry_as_serial(registry_copy: Path, monkeypatch):
    from cctv_policy.registry import parsing

    (registry_copy / "requests" / "REQ-2026-0090.yaml").write_bytes(b"id: [unclosed\n")
    (registry_copy / "holds" / "HOLD-2026-0090.yaml").write_bytes(b"id: HOLD-2026-0090\n\xff\n")
    serial = load_registry(registry_copy)
    monkeypatch.setattr(parsing, "PARALLEL_THRESHOLD", 1)
    parallel = load_registry(registry_copy)
    assert parallel.requests == serial.requests and parallel.holds == serial.holds
    assert parallel.issues == serial.issues and len(serial.issues) == 2
    assert parallel.unreadable == serial.unreadable


def test_unknown_top_level_folder_is_named_with_a_suggestion(registry_copy: Path):
    (registry_copy / "Requests").mkdir()
    (registry_copy / "notes.txt").write_text("todo\n")
    reg = load_registry(registry_copy)
    by_file = {i.file: i for i in reg.issues}
    assert "did you mean requests?" in by_file["Requests/"].message
    assert by_file["notes.txt"].code == "E_SCHEMA"


def test_one_id_two_files_is_a_duplicate(registry_copy: Path):
    text = (registry_copy / "requests/REQ-2026-0042.yaml").read_text()
    (registry_copy / "requests/REQ-2026-0042.yml").write_text(text)
    reg = load_registry(registry_copy)
    (issue,) = reg.issues
    assert issue.code == "E_DUPLICATE_ID" and issue.file == "requests/REQ-2026-0042.yml"
    assert "REQ-2026-0042" in reg.requests  # the .yaml is still read


def test_request_digest_ignores_formatting_but_not_content(registry_copy: Path):
    path = registry_copy / "requests/REQ-2026-0042.yaml"
    before = load_registry(registry_copy).request_sha256["REQ-2026-0042"]
    path.write_text(
        "# a comment\n"
        + path.read_text().replace("cameras: [CAM-LIB-01]", "cameras:\n    - CAM-LIB-01")
    )
    assert load_registry(registry_copy).request_sha256["REQ-2026-0042"] == before
    path.write_text(path.read_text().replace("t.wang]", "t.wang, r.sun]"))
    assert load_registry(registry_copy).request_sha256["REQ-2026-0042"] != before
