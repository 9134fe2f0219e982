"""Safety properties of the planner, for random registries, segment sets and clocks:
it never deletes a protected or young segment and always deletes every expired one that is
protected by nothing (neither the policy nor the independent safety floor)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from cctv_policy.audit.log import AuditLog, verify_log
from cctv_policy.enforce.apply import apply_plan
from cctv_policy.enforce.models import Plan
from cctv_policy.enforce.planner import PlanContext, make_plan
from cctv_policy.enforce.safety import SafetyFloor
from cctv_policy.registry.loader import LoadedRegistry
from cctv_policy.registry.models import (
    Camera,
    Config,
    Decision,
    DecisionScope,
    Hold,
    Person,
    Report,
    Request,
    StorageTarget,
)
from cctv_policy.rulebook.enforcement import enforcement_decision
from cctv_policy.rulebook.evaluation import Evaluation
from storage_backends.base import Segment
from storage_backends.layout import Layout
from storage_backends.memory import MemoryBackend
from testing.helpers import DEMO_LAYOUT as LAYOUT

# Day folders of local days, 8 hours ahead of UTC: the day after the cutoff's UTC date starts
# before the cutoff, so it can hold expired footage.
LOCAL_LAYOUT = Layout(
    "{camera}/{start:%Y/%m/%d}/{start:%Y%m%dT%H%M%S}_{seconds}s.mp4", "Asia/Shanghai"
)
EPOCH = datetime(2026, 9, 1, tzinfo=UTC)
CAMERAS = ["CAM-A", "CAM-B", "CAM-C"]
HOUR = timedelta(hours=1)
TEN_MINUTES = timedelta(minutes=10)


def ts(hours: int) -> datetime:
    return EPOCH + hours * HOUR


@st.composite
def scenarios(draw):
    config = Config(
        retention_days=draw(st.integers(1, 10)),
        report_due_days=draw(st.integers(0, 7)),
        report_grace_days=draw(st.integers(0, 7)),
        allowed_purposes=["incident"],
    )
    people = {
        "app": Person(id="app", name="A", unit="u", roles=["applicant"]),
        "sec": Person(id="sec", name="S", unit="u", roles=["security_office"]),
        "tech": Person(id="tech", name="T", unit="u", roles=["technician"]),
    }
    cameras = {
        c: Camera(
            id=c,
            name=c,
            location="x",
            zone="z",
            installed_by="tech",
            installed_on=EPOCH,
            storage="nas",
        )
        for c in CAMERAS
    }
    requests, decisions, reports, holds, digests = {}, {}, {}, {}, {}
    for i in range(draw(st.integers(0, 4))):
        rid = f"REQ-{i}"
        submitted = draw(st.integers(24, 600))
        f = draw(st.integers(0, submitted - 1))
        to = draw(st.integers(f + 1, submitted))
        starts = draw(st.integers(submitted + 1, submitted + 200))
        ends = draw(st.integers(starts + 1, starts + 400))
        requests[rid] = Request(
            id=rid,
            applicant="app",
            unit="u",
            submitted_at=ts(submitted),
            purpose={"category": "incident", "description": "d"},
            footage={
                "cameras": draw(
                    st.lists(st.sampled_from(CAMERAS), min_size=1, max_size=3, unique=True)
                ),
                "from": ts(f),
                "to": ts(to),
            },
            use={
                "mode": "view_supervised",
                "recipients": ["app"],
                "starts": ts(starts),
                "ends": ts(ends),
            },
        )
        digests[rid] = f"{i:064x}"
        state = draw(st.sampled_from(["pending", "approved", "rejected"]))
        if state != "pending":
            # A stale decision pins another version of the request.
            pinned = digests[rid] if draw(st.booleans()) else "f" * 64
            decisions[rid] = Decision(
                request=rid,
                decision=state,
                decided_by="sec",
                decided_at=ts(submitted + draw(st.integers(0, 48))),
                reasons=["r"],
                request_sha256=pinned,
                scope=DecisionScope(),
            )
        if state == "approved" and draw(st.booleans()):
            reports[rid] = Report(
                request=rid,
                submitted_by="app",
                submitted_at=ts(ends + draw(st.integers(0, 300))),
                summary="s",
                copies="destroyed",
            )
    for i in range(draw(st.integers(0, 2))):
        f = draw(st.integers(0, 600))
        holds[f"HOLD-{i}"] = Hold(
            id=f"HOLD-{i}",
            created_by=draw(st.sampled_from(["sec", "app"])),
            created_at=ts(f),
            cameras=draw(st.lists(st.sampled_from(CAMERAS), min_size=1, max_size=2, unique=True)),
            **{"from": ts(f)},
            to=ts(f + draw(st.integers(1, 100))),
            until=ts(f + draw(st.integers(1, 1000))),
            reason="r",
        )
    registry = LoadedRegistry(
        root=Path("."),
        config=config,
        people=people,
        cameras=cameras,
        targets={"nas": StorageTarget(id="nas", kind="filesystem", root="/x")},
        requests=requests,
        decisions=decisions,
        reports=reports,
        holds=holds,
        request_sha256=digests,
    )
    layout = draw(st.sampled_from([LAYOUT, LOCAL_LAYOUT]))
    segments = set()
    for camera in CAMERAS:
        # Starts every 10 minutes, so that segments run past midnight and cutoffs fall inside
        # a segment: a whole day's bounds must include its longest segment.
        for start in draw(st.lists(st.integers(0, 700 * 6), max_size=40)):
            seconds = draw(st.sampled_from([600, 3600, 7200]))
            segments.add(layout.key(camera, EPOCH + start * TEN_MINUTES, seconds))
    now = EPOCH + draw(st.integers(100 * 6, 900 * 6)) * TEN_MINUTES
    return registry, segments, now, layout


def spec_protected(
    reg: LoadedRegistry, camera: str, start: datetime, end: datetime, now: datetime
) -> bool:
    """The spec's protection, written out independently of Rego and of the safety floor."""
    cfg = reg.config
    for rid, r in reg.requests.items():
        d = reg.decisions.get(rid)
        window = (r.footage.cameras, r.footage.from_, r.footage.to)
        stale = d is not None and d.request_sha256 != reg.request_sha256[rid]
        if d is None or (d.decision == "rejected" and stale):  # waiting for a decision
            active = now < r.use.ends
        elif d.decision == "approved":  # valid or not: keeping more is the safe side
            due = r.use.ends + timedelta(days=cfg.report_due_days + cfg.report_grace_days)
            until = reg.reports[rid].submitted_at if rid in reg.reports else due
            active = d.decided_at <= now < until
        else:
            active = False
        if active and camera in window[0] and start < window[2] and window[1] < end:
            return True
    for h in reg.holds.values():
        if (
            h.created_by == "sec"
            and now < h.until
            and camera in h.cameras
            and start < h.to
            and h.from_ < end
        ):
            return True
    return False


def planned_deletions(plan: Plan, backend: MemoryBackend) -> set[str]:
    """Every key a plan deletes: its delete actions and the files of its delete-day actions."""
    deleted = {a.key or "" for a in plan.actions if a.action == "delete"}
    for action in plan.actions:
        if action.action == "delete-day":
            assert action.camera and action.day
            listing = backend.list_day(action.camera, action.day)
            assert listing is not None and listing.digest == action.digest
            deleted |= set(listing.keys)
    return deleted


def plans(embedded_engine, scenario) -> tuple[Plan, Plan, MemoryBackend, SafetyFloor]:
    """The plan with whole expired days, and the plan segment by segment."""
    registry, keys, now, layout = scenario
    backend = MemoryBackend("nas", layout, keys)
    evaluation = Evaluation(registry, embedded_engine, now, "v")
    decision = enforcement_decision(evaluation)
    floor = SafetyFloor(registry, now)
    made = [
        make_plan(
            PlanContext(registry, decision, floor, now, whole_days=whole),
            {"nas": backend},
            "v",
            evaluation.input_hash,
        )
        for whole in (True, False)
    ]
    return made[0], made[1], backend, floor


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_whole_days_delete_exactly_what_the_segment_path_deletes(embedded_engine, scenario):
    fast, slow, backend, _ = plans(embedded_engine, scenario)
    assert not any(a.action == "delete-day" for a in slow.actions)
    event(f"whole days planned: {any(a.action == 'delete-day' for a in fast.actions)}")
    assert planned_deletions(fast, backend) == planned_deletions(slow, backend)
    assert fast.newest_footage == slow.newest_footage  # the clock gate's evidence
    assert fast.listed_segments == slow.listed_segments
    others = sorted(
        (a.action, a.key or "", a.hold or "") for a in fast.actions if "delete" not in a.action
    )
    assert others == sorted(
        (a.action, a.key or "", a.hold or "") for a in slow.actions if "delete" not in a.action
    )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_applying_either_plan_leaves_the_same_footage(embedded_engine, tmp_path_factory, scenario):
    fast, slow, backend, floor = plans(embedded_engine, scenario)
    left = []
    for plan in (fast, slow):
        storage = MemoryBackend("nas", backend.layout, backend.objects)
        audit = AuditLog(tmp_path_factory.mktemp("audit") / "audit.jsonl")
        apply_plan(plan, {"nas": storage}, audit, floor)
        left.append(set(storage.objects))
        assert verify_log(audit.path).ok
    assert left[0] == left[1]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_plan_deletes_exactly_the_expired_unprotected_segments(embedded_engine, scenario):
    registry, keys, now, layout = scenario
    backend = MemoryBackend("nas", layout, keys)
    evaluation = Evaluation(registry, embedded_engine, now, "v")
    decision = enforcement_decision(evaluation)
    floor = SafetyFloor(registry, now)
    plan = make_plan(
        PlanContext(registry, decision, floor, now), {"nas": backend}, "v", evaluation.input_hash
    )
    deleted = planned_deletions(plan, backend)
    cutoff = now - timedelta(days=registry.config.retention_days)
    for key in keys:
        camera, start, seconds = layout.parse(key)
        end = start + timedelta(seconds=seconds)
        expired = end < cutoff
        protected = spec_protected(registry, camera, start, end, now)
        if key in deleted:
            assert expired, f"deleted a young segment {key}"
            assert not protected, f"deleted a protected segment {key}"
        elif expired and not protected:
            # Only the deliberately more conservative floor may keep it.
            assert floor.blocks_delete(Segment(camera, start, seconds, key)), (
                f"expired, unprotected {key} was not deleted"
            )
