"""Whole expired camera-days (delete-day): what an insider or a race could try against them.

The fast path must never delete more than the segment-by-segment path would: not a day a
protection appeared on after the plan was reviewed, not a file added after the listing, not
a folder swapped for a link, not an odd entry."""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path

from cctv_policy.audit.log import AuditLog, verify_log
from cctv_policy.enforce.job import Prepared, prepare, restrict_to_reviewed, run_apply
from cctv_policy.enforce.models import Action, Scope
from cctv_policy.engine import load_policies
from cctv_policy.engine.embedded import EmbeddedEngine
from cctv_policy.registry.loader import load_registry
from cctv_policy.rulebook.evaluation import Evaluation
from tests.conftest import NOW


def plan_at(registry: Path, nas: Path) -> Prepared:
    engine = EmbeddedEngine(load_policies().without_tests())
    evaluation = Evaluation(load_registry(registry), engine, NOW, "test")
    return prepare(evaluation, Scope("nas-main", {"nas-main": nas}))


def a_whole_day(prepared: Prepared, camera: str) -> Action:
    days = [a for a in prepared.plan.actions if a.action == "delete-day" and a.camera == camera]
    assert days, "the demo footage has whole expired days"
    return days[0]


def files_of(nas: Path, action: Action) -> set[str]:
    return {p.name for p in (nas / (action.key or "")).iterdir()}


def test_a_reviewed_plan_cannot_delete_a_day_a_new_hold_covers(registry_copy, nas, tmp_path):
    reviewed = plan_at(registry_copy, nas).plan
    day = a_whole_day(plan_at(registry_copy, nas), "CAM-LIB-01")
    assert day.day is not None
    before = files_of(nas, day)
    start = f"{day.day.isoformat()}T00:00:00Z"
    end = f"{(day.day + timedelta(days=1)).isoformat()}T00:00:00Z"
    (registry_copy / "holds" / "HOLD-2026-0099.yaml").write_text(
        "id: HOLD-2026-0099\ncreated_by: h.liu\ncreated_at: 2026-11-25T09:00:00+08:00\n"
        f"cameras: [CAM-LIB-01]\nfrom: {start}\nto: {end}\nuntil: 2027-03-01T00:00:00+08:00\n"
        'reason: "A complaint about that day came in after the plan was reviewed"\n'
    )
    fresh = plan_at(registry_copy, nas)
    fresh.plan = restrict_to_reviewed(fresh.plan, reviewed)
    run_apply(fresh, AuditLog(tmp_path / "audit.jsonl"))
    assert files_of(nas, day) == before, "the newly held day was deleted"
    held = {a.key for a in fresh.plan.actions if a.action == "hold"}
    assert {f"{day.key}{name}" for name in before} <= held


def test_a_file_added_after_the_listing_is_not_deleted_unseen(registry_copy, nas, tmp_path):
    prepared = plan_at(registry_copy, nas)
    day = a_whole_day(prepared, "CAM-SPT-01")
    listed = files_of(nas, day)
    late = nas / (day.key or "") / "late-arrival.mp4"
    late.write_bytes(b"written between plan and apply")
    audit = tmp_path / "audit.jsonl"
    run_apply(prepared, AuditLog(audit))
    assert late.exists() and files_of(nas, day) == {"late-arrival.mp4"}
    records = [json.loads(line) for line in audit.read_text().splitlines()]
    logged = next(r for r in records if r["event"] == "delete_day" and r["key"] == day.key)
    assert set(logged["keys"]) == listed and logged["count"] == len(listed) == day.count
    assert verify_log(audit).ok


def test_a_day_folder_swapped_for_a_link_is_not_followed(registry_copy, nas, tmp_path):
    prepared = plan_at(registry_copy, nas)
    day = a_whole_day(prepared, "CAM-GYM-01")
    folder = nas / (day.key or "").rstrip("/")
    victim = tmp_path / "victim"
    victim.mkdir()
    for name in files_of(nas, day):
        (victim / name).write_bytes(b"not footage of this target")
        (folder / name).unlink()
    folder.rmdir()
    os.symlink(victim, folder)
    report = run_apply(prepared, AuditLog(tmp_path / "audit.jsonl"))
    assert len(list(victim.iterdir())) == day.count, "files behind the link were deleted"
    assert any(key.startswith(day.key or "") for key in report.refused)


def test_an_odd_entry_sends_its_day_down_the_segment_path(registry_copy, nas, tmp_path):
    first = plan_at(registry_copy, nas)
    day = a_whole_day(first, "CAM-CAN-03")
    odd = nas / (day.key or "") / "notes.txt"
    odd.write_text("an operator's note, not footage")
    prepared = plan_at(registry_copy, nas)
    assert not any(a.action == "delete-day" and a.key == day.key for a in prepared.plan.actions)
    assert any(u.key == f"{day.key}notes.txt" for u in prepared.plan.unparsable)
    run_apply(prepared, AuditLog(tmp_path / "audit.jsonl"))
    assert files_of(nas, day) == {"notes.txt"}, "the segments go, the odd entry stays"


def test_a_name_with_other_digits_cannot_make_an_unexpired_day_look_expired(
    registry_copy, nas, tmp_path
):
    """A digit outside ASCII (here U+0660, ARABIC-INDIC ZERO) is a digit to `\\d` and int(),
    but sorts after every ASCII one: a file named ...T0<U+0660>0000Z... beside the 00:00-04:00
    segments made the day's latest segment look like it started at midnight, and the whole
    day was deleted, 04:00's unexpired segment with it. Such a name is not footage: it is
    reported and never touched, and the day is read segment by segment."""
    folder = nas / "CAM-LIB-01/2026/10/26"
    for path in folder.iterdir():
        if path.name[9:11] not in ("00", "02", "04"):
            path.unlink()
    forged = folder / "20261026T0\u06600000Z_7200s.mp4"
    forged.write_bytes(b"not footage")
    unexpired = folder / "20261026T040000Z_7200s.mp4"  # ends 06:00Z; the cutoff is 04:00Z
    prepared = plan_at(registry_copy, nas)
    assert not any(
        a.action == "delete-day" and a.key == "CAM-LIB-01/2026/10/26/"
        for a in prepared.plan.actions
    )
    assert any(u.key.endswith(forged.name) for u in prepared.plan.unparsable)
    run_apply(prepared, AuditLog(tmp_path / "audit.jsonl"))
    assert unexpired.exists(), "footage that has not expired was deleted"
    assert forged.exists() and not (folder / "20261026T000000Z_7200s.mp4").exists()
