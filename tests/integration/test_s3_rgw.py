"""Enforcement on a real S3 server (Ceph RGW): the server itself refuses what must not happen."""

from __future__ import annotations

import itertools
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from cctv_policy.audit.log import AuditLog, verify_log
from cctv_policy.enforce.job import prepare, run_apply
from cctv_policy.enforce.models import Scope
from cctv_policy.engine import load_policies
from cctv_policy.engine.embedded import EmbeddedEngine
from cctv_policy.registry import load_registry
from cctv_policy.rulebook.evaluation import Evaluation
from cctv_policy.targets import TargetError
from storage_backends.base import GrantSpec
from storage_backends.s3 import S3Backend
from testing.ceph_rgw import OWNER_KEY, OWNER_SECRET
from testing.helpers import DEMO_LAYOUT as LAYOUT
from testing.helpers import pin_decision
from tests.integration.conftest import client

pytestmark = pytest.mark.integration
_names = itertools.count()


def new_bucket(owner, locked: bool = False) -> str:
    name = f"cctv-test-{next(_names)}-{int(time.time())}"
    owner.create_bucket(Bucket=name, **({"ObjectLockEnabledForBucket": True} if locked else {}))
    return name


def denied(call) -> bool:
    try:
        call()
        return False
    except ClientError as exc:
        return exc.response["ResponseMetadata"]["HTTPStatusCode"] in (403, 404)


def s3_registry(registry_copy: Path, bucket: str, now: datetime) -> Path:
    """The demo registry with campus-s3 pointed at `bucket`, a hold on CAM-PRK-01 footage
    that is already past retention, and an approved request on CAM-BUS-01 in use right now."""
    storage = (registry_copy / "storage.yaml").read_text()
    (registry_copy / "storage.yaml").write_text(
        storage.replace("bucket: cctv-footage", f"bucket: {bucket}\n    lifecycle_offload: true")
    )
    held_day = (now - timedelta(days=35)).replace(hour=2, minute=0, second=0, microsecond=0)
    (registry_copy / "holds" / "HOLD-2026-0090.yaml").write_text(
        f"id: HOLD-2026-0090\ncreated_by: s.zhou\ncreated_at: {held_day.isoformat()}\n"
        f"cameras: [CAM-PRK-01]\nfrom: {held_day.isoformat()}\n"
        f"to: {(held_day + timedelta(hours=2)).isoformat()}\n"
        f"until: {(now + timedelta(days=60)).isoformat()}\nreason: Car break-in, police informed\n"
    )
    footage_from = (now - timedelta(days=2)).replace(hour=8, minute=0, second=0, microsecond=0)
    (registry_copy / "requests" / "REQ-2026-0090.yaml").write_text(
        f"id: REQ-2026-0090\napplicant: y.zhang\nunit: library\n"
        f"submitted_at: {(now - timedelta(days=1)).isoformat()}\n"
        "purpose: {category: lost_property, description: Bag left at the bus stop}\n"
        f"footage: {{cameras: [CAM-BUS-01], from: {footage_from.isoformat()}, "
        f"to: {(footage_from + timedelta(hours=2)).isoformat()}}}\n"
        f"use: {{mode: view_supervised, recipients: [y.zhang], "
        f"starts: {(now - timedelta(hours=12)).isoformat()}, "
        f"ends: {(now + timedelta(days=2)).isoformat()}}}\n"
    )
    (registry_copy / "decisions" / "REQ-2026-0090.yaml").write_text(
        f"request: REQ-2026-0090\ndecision: approved\nscope: as_requested\ndecided_by: h.liu\n"
        f"decided_at: {(now - timedelta(hours=20)).isoformat()}\nreasons: [Loss reported]\n"
    )
    pin_decision(registry_copy, "REQ-2026-0090")
    return registry_copy


def upload_footage(owner, bucket: str, cameras: list[str], now: datetime, days: int) -> set[str]:
    keys = set()
    first = (now - timedelta(days=days)).replace(hour=0, minute=0, second=0, microsecond=0)
    for camera in cameras:
        moment = first
        while moment < now - timedelta(hours=2):
            key = LAYOUT.key(camera, moment, 7200)
            owner.put_object(Bucket=bucket, Key="campus/" + key, Body=b"frame")
            keys.add(key)
            moment += timedelta(hours=2)
    return keys


def current_keys(owner, bucket: str) -> set[str]:
    pages = owner.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="campus/")
    return {
        o["Key"][len("campus/") :]
        for p in pages
        for o in p.get("Contents", [])
        if "/.cctv-policy/" not in "/" + o["Key"]
    }


def test_retention_holds_and_grants_on_rgw(rgw, owner, owner_env, registry_copy, tmp_path):
    now = datetime.now(UTC)
    bucket = new_bucket(owner, locked=True)
    registry_dir = s3_registry(registry_copy, bucket, now)
    keys = upload_footage(owner, bucket, ["CAM-PRK-01", "CAM-BUS-01"], now, days=38)
    station = client(rgw.endpoint, *rgw.add_user("viewing-station"))
    recipient = client(rgw.endpoint, *rgw.add_user("y.zhang"))

    registry = load_registry(registry_dir)
    assert registry.issues == []
    engine = EmbeddedEngine(load_policies().without_tests())
    prepared = prepare(Evaluation(registry, engine, now, "test"), Scope("campus-s3"))
    audit = AuditLog(tmp_path / "audit.jsonl")
    report = run_apply(prepared, audit)
    assert verify_log(audit.path).ok

    cutoff = now - timedelta(days=30)
    remaining = current_keys(owner, bucket)
    held = {
        k
        for k in keys
        if k.startswith("CAM-PRK-01/")
        and LAYOUT.parse(k)[1]
        == (now - timedelta(days=35)).replace(hour=2, minute=0, second=0, microsecond=0)
    }
    assert held, "the scenario holds one segment"
    for key in keys:
        end = LAYOUT.parse(key)[1] + timedelta(seconds=7200)
        assert (key in remaining) == (end >= cutoff or key in held), key
    assert report.done["delete"] > 100
    rules = owner.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert rules[0]["Expiration"]["Days"] == 31 and rules[0]["Status"] == "Enabled"

    # The held object carries a legal hold: the server refuses to delete its bytes.
    (held_key,) = held
    versions = owner.list_object_versions(Bucket=bucket, Prefix="campus/" + held_key)["Versions"]
    status = owner.get_object_legal_hold(
        Bucket=bucket, Key="campus/" + held_key, VersionId=versions[0]["VersionId"]
    )
    assert status["LegalHold"]["Status"] == "ON"
    response = owner.delete_objects(
        Bucket=bucket,
        Delete={"Objects": [{"Key": "campus/" + held_key, "VersionId": versions[0]["VersionId"]}]},
    )
    assert response.get("Errors"), "a legally held version must not be deletable"

    # Deleted footage is really gone: no versions and no delete markers are left behind.
    gone = sorted(keys - remaining)[0]
    listed = owner.list_object_versions(Bucket=bucket, Prefix="campus/" + gone)
    assert not listed.get("Versions") and not listed.get("DeleteMarkers")

    # The viewing station reads exactly the granted objects, and nothing else; the recipient
    # views there under supervision and gets no readable copy of their own.
    footage_from = (now - timedelta(days=2)).replace(hour=8, minute=0, second=0, microsecond=0)
    granted = LAYOUT.key("CAM-BUS-01", footage_from, 7200)
    neighbour = LAYOUT.key("CAM-BUS-01", footage_from + timedelta(hours=2), 7200)
    other_camera = LAYOUT.key("CAM-PRK-01", footage_from, 7200)
    assert owner.head_object(Bucket=bucket, Key="campus/" + neighbour)
    body = station.get_object(Bucket=bucket, Key="campus/" + granted)["Body"].read()
    assert body == b"frame"
    assert denied(lambda: station.get_object(Bucket=bucket, Key="campus/" + neighbour))
    assert denied(lambda: station.get_object(Bucket=bucket, Key="campus/" + other_camera))
    assert denied(lambda: station.put_object(Bucket=bucket, Key="campus/" + granted, Body=b"x"))
    assert denied(lambda: recipient.get_object(Bucket=bucket, Key="campus/" + granted))

    # After the use period the next run revokes, and the server denies (cameras kept
    # recording meanwhile: the clock gate sees footage up to the later clock).
    later = now + timedelta(days=3)
    for camera in ("CAM-PRK-01", "CAM-BUS-01"):
        owner.put_object(
            Bucket=bucket,
            Key="campus/" + LAYOUT.key(camera, later - timedelta(hours=2), 7200),
            Body=b"frame",
        )
    prepared = prepare(
        Evaluation(load_registry(registry_dir), engine, later, "test"), Scope("campus-s3")
    )
    assert [a.action for a in prepared.plan.actions if a.grant] == ["revoke"]
    run_apply(prepared, audit)
    assert denied(lambda: station.get_object(Bucket=bucket, Key="campus/" + granted))
    assert verify_log(audit.path).ok


def test_grant_expires_on_the_server_by_itself(rgw, owner):
    bucket = new_bucket(owner)
    owner.put_object(
        Bucket=bucket, Key="campus/CAM-A/2026/11/20/20261120T000000Z_60s.mp4", Body=b"clip"
    )
    viewer = client(rgw.endpoint, *rgw.add_user("r.sun"))
    backend = S3Backend("t", owner, bucket, "campus/", LAYOUT)
    now = datetime.now(UTC)
    backend.create_grant(
        GrantSpec(
            "REQ-1--r.sun",
            "REQ-1",
            "r.sun",
            ("CAM-A/2026/11/20/20261120T000000Z_60s.mp4",),
            now - timedelta(minutes=1),
            now + timedelta(seconds=4),
        )
    )
    key = "campus/CAM-A/2026/11/20/20261120T000000Z_60s.mp4"
    assert viewer.get_object(Bucket=bucket, Key=key)["Body"].read() == b"clip"
    assert backend.grants() == {"REQ-1--r.sun"}
    time.sleep(6)
    assert denied(lambda: viewer.get_object(Bucket=bucket, Key=key)), (
        "aws:CurrentTime must end access without any action of ours"
    )
    backend.revoke_grant("REQ-1--r.sun")
    assert backend.grants() == set()


def test_lifecycle_offload_expires_objects_and_spares_legal_holds(lifecycle_rgw):
    rgw = lifecycle_rgw
    owner = client(rgw.endpoint, OWNER_KEY, OWNER_SECRET)
    bucket = new_bucket(owner, locked=True)
    backend = S3Backend("t", owner, bucket, "campus/", LAYOUT)
    keys = [f"CAM-A/2026/10/0{d}/2026100{d}T000000Z_60s.mp4" for d in range(1, 4)]
    for key in keys:
        owner.put_object(Bucket=bucket, Key="campus/" + key, Body=b"old")
    owner.put_object(Bucket=bucket, Key="other/keep.mp4", Body=b"not ours")
    backend.set_hold("hold:H", [keys[0]])
    backend.sync_lifecycle(1, ["CAM-A"])  # with rgw lc debug interval 4 s: a "day" is 4 s
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        time.sleep(5)
        rgw.lc_process()
        versions = owner.list_object_versions(Bucket=bucket, Prefix="campus/CAM-A/")
        live = {v["Key"] for v in versions.get("Versions", [])}
        if live == {"campus/" + keys[0]}:
            break
    assert live == {"campus/" + keys[0]}, f"bytes still stored: {sorted(live)}"
    assert owner.get_object(Bucket=bucket, Key="other/keep.mp4")["Body"].read() == b"not ours"


def test_s3_anchor_is_locked_and_catches_truncation(rgw, owner, tmp_path):
    from cctv_policy.audit.anchor import S3Anchor

    bucket = new_bucket(owner, locked=True)
    anchor = S3Anchor(owner, bucket, "campus/")
    log = AuditLog(tmp_path / "audit.jsonl", anchors=[anchor])
    for i in range(4):
        log.append("delete", keys=[f"k{i}"])
    log.write_anchor()
    assert anchor.read() == {"seq": 4, "hash": log.head()[1]}
    key = "campus/.cctv-policy/audit-heads/000000000004.json"
    version = owner.list_object_versions(Bucket=bucket, Prefix=key)["Versions"][0]["VersionId"]
    assert denied(lambda: owner.delete_object(Bucket=bucket, Key=key, VersionId=version)), (
        "a COMPLIANCE-locked anchor must not be deletable, even by the bucket owner"
    )
    lines = log.path.read_text().splitlines(keepends=True)
    log.path.write_text("".join(lines[:-1]))
    result = verify_log(log.path, anchor.history())
    assert not result.ok and "cut off" in result.problems[0]


def test_lifecycle_offload_is_refused_without_object_lock(rgw, owner, owner_env, registry_copy):
    now = datetime.now(UTC)
    bucket = new_bucket(owner, locked=False)
    registry_dir = s3_registry(registry_copy, bucket, now)
    upload_footage(owner, bucket, ["CAM-BUS-01"], now, days=1)
    engine = EmbeddedEngine(load_policies().without_tests())
    with pytest.raises(TargetError, match="Object Lock"):
        prepare(Evaluation(load_registry(registry_dir), engine, now, "test"), Scope("campus-s3"))
    with pytest.raises(ClientError):  # nothing was installed
        owner.get_bucket_lifecycle_configuration(Bucket=bucket)


def test_held_young_footage_survives_the_buckets_own_lifecycle(
    lifecycle_rgw, registry_copy, tmp_path, monkeypatch
):
    """A pending request protects footage recorded two hours ago. With lifecycle offload the
    bucket expires objects by itself (here after 2 'days' of 4 s each, retention_days: 1); the
    legal hold placed at once, on young footage, keeps the protected object."""
    rgw = lifecycle_rgw
    owner = client(rgw.endpoint, OWNER_KEY, OWNER_SECRET)
    monkeypatch.setenv("CCTV_S3_ENDPOINT", rgw.endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", OWNER_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", OWNER_SECRET)
    now = datetime.now(UTC)
    bucket = new_bucket(owner, locked=True)
    registry_dir = s3_registry(registry_copy, bucket, now)
    config = registry_dir / "config.yaml"
    config.write_text(config.read_text().replace("retention_days: 30 ", "retention_days: 1 "))
    start = (now - timedelta(hours=4)).replace(minute=0, second=0, microsecond=0)
    (registry_dir / "requests" / "REQ-2026-0091.yaml").write_text(
        f"id: REQ-2026-0091\napplicant: y.zhang\nunit: library\n"
        f"submitted_at: {now.isoformat()}\n"
        "purpose: {category: lost_property, description: Phone left in the car park}\n"
        f"footage: {{cameras: [CAM-PRK-02], from: {start.isoformat()}, "
        f"to: {(start + timedelta(hours=1)).isoformat()}}}\n"
        f"use: {{mode: view_supervised, recipients: [y.zhang], "
        f"starts: {(now + timedelta(days=1)).isoformat()}, "
        f"ends: {(now + timedelta(days=2)).isoformat()}}}\n"
    )
    keys = [LAYOUT.key("CAM-PRK-02", start + timedelta(hours=h), 3600) for h in range(3)]
    for key in keys:
        owner.put_object(Bucket=bucket, Key="campus/" + key, Body=b"frame")
    registry = load_registry(registry_dir)
    assert registry.issues == []
    engine = EmbeddedEngine(load_policies().without_tests())
    prepared = prepare(Evaluation(registry, engine, now, "test"), Scope("campus-s3"))
    assert [a.key for a in prepared.plan.actions if a.action == "hold"] == [keys[0]]
    assert not [a for a in prepared.plan.actions if a.action == "delete"]
    run_apply(prepared, AuditLog(tmp_path / "audit.jsonl"))
    rules = owner.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    prefixes = {r["Filter"]["Prefix"] for r in rules}
    assert any("campus/CAM-PRK-02/".startswith(p) for p in prefixes)
    assert not any(".cctv-policy/".startswith(p[len("campus/") :]) for p in prefixes)
    nas_cameras = [c.id for c in registry.cameras.values() if c.storage == "nas-main"]
    assert not any(f"campus/{c}/".startswith(p) for p in prefixes for c in nas_cameras)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        time.sleep(5)
        rgw.lc_process()
        versions = owner.list_object_versions(Bucket=bucket, Prefix="campus/CAM-PRK-02/")
        live = {v["Key"][len("campus/") :] for v in versions.get("Versions", [])}
        if live == {keys[0]}:
            break
    assert live == {keys[0]}, f"expected only the held object to remain: {sorted(live)}"
    held = owner.list_objects_v2(Bucket=bucket, Prefix="campus/.cctv-policy/holds/")
    assert held.get("KeyCount", 0) >= 1, "the lifecycle rule must not touch the state prefix"


def test_held_objects_hidden_by_the_lifecycle_are_made_readable_and_released_whole(lifecycle_rgw):
    """The bucket's lifecycle puts a delete marker over a legally held object once it is old
    enough (its bytes stay). The next apply removes such markers; releasing the hold takes
    the legal hold off every version, so the lifecycle can then free the bytes."""
    rgw = lifecycle_rgw
    owner = client(rgw.endpoint, OWNER_KEY, OWNER_SECRET)
    bucket = new_bucket(owner, locked=True)
    backend = S3Backend("t", owner, bucket, "campus/", LAYOUT)
    held, free = (f"CAM-A/2026/10/0{d}/2026100{d}T000000Z_60s.mp4" for d in (1, 2))
    for key in (held, free):
        owner.put_object(Bucket=bucket, Key="campus/" + key, Body=b"old")
    backend.set_hold("hold:H", [held])
    backend.sync_lifecycle(1, ["CAM-A"])
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        time.sleep(5)
        rgw.lc_process()
        listed = owner.list_object_versions(Bucket=bucket, Prefix="campus/" + held)
        if listed.get("DeleteMarkers"):
            break
    assert listed.get("DeleteMarkers"), "the lifecycle put a marker over the held object"
    assert denied(lambda: owner.get_object(Bucket=bucket, Key="campus/" + held))
    assert backend.refresh_holds() == 1
    assert owner.get_object(Bucket=bucket, Key="campus/" + held)["Body"].read() == b"old"
    assert backend.suspend_lifecycle() == 1
    rules = owner.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert {r["Status"] for r in rules} == {"Disabled"}
    backend.clear_hold("hold:H")
    versions = owner.list_object_versions(Bucket=bucket, Prefix="campus/" + held)["Versions"]
    for version in versions:
        status = owner.get_object_legal_hold(
            Bucket=bucket, Key="campus/" + held, VersionId=version["VersionId"]
        )
        assert status["LegalHold"]["Status"] == "OFF"
