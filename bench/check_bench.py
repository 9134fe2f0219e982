"""Benchmark `cctv-policy check` on a large registry against a plain YAML load of it.

Generates a registry of 10,000 requests (with decisions, reports and holds), 2,000 cameras and
500 people, then times, in fresh processes and interleaved rounds:

  load   every YAML file of the registry parsed by the fastest loader here (libyaml through
         PyYAML's CSafeLoader), nothing else: the floor for any tool that reads the registry
  check  `cctv-policy check --format json` end to end (load, validate, one OPA evaluation,
         placing violations), embedded OPA engine

and prints wall time and peak RSS of each, and check/load. Goal: check <= 2x load, <= 10 s.

    .venv/bin/python bench/check_bench.py [--requests 10000] [--rounds 3] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from cctv_policy.registry import yaml_source
from cctv_policy.registry.canonical import document_sha256

REPO = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 11, 25, 4, 0, tzinfo=UTC)
ZONES = [
    "entrance",
    "perimeter",
    "library",
    "teaching_building",
    "corridor",
    "canteen",
    "sports_field",
    "gymnasium",
    "parking",
    "dormitory_exterior",
    "lab",
]
PURPOSES = [
    "incident_investigation",
    "safety_emergency",
    "lost_property",
    "disciplinary_hearing",
    "law_enforcement_request",
    "insurance_claim",
]


def ts(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def generate(root: Path, n_requests: int, n_cameras: int, n_people: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    for sub in ("requests", "decisions", "reports", "holds"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    (root / "config.yaml").write_text(
        "retention_days: 30\nreport_due_days: 7\nmax_use_days: 30\n"
        f"allowed_purposes: [{', '.join(PURPOSES)}]\n"
        "private_zones: [restroom, dormitory_interior, staff_office]\ntimezone: Asia/Shanghai\n"
    )
    people = [f"p{i:04d}.user" for i in range(n_people)]
    officers, technicians = people[:20], people[20:40]
    lines = ["people:"]
    for i, pid in enumerate(people):
        role = "security_office" if i < 20 else "technician" if i < 40 else "applicant"
        lines += [
            f"  - id: {pid}",
            f"    name: Person {i}",
            f"    unit: unit-{i % 40}",
            f"    roles: [{role}]",
        ]
    (root / "people.yaml").write_text("\n".join(lines) + "\n")
    cameras = [f"CAM-{i:05d}" for i in range(n_cameras)]
    lines = ["cameras:"]
    for i, cid in enumerate(cameras):
        lines += [
            f"  - id: {cid}",
            f"    name: Camera {i}",
            f"    location: Building {i // 20}",
            f"    zone: {ZONES[i % len(ZONES)]}",
            f"    installed_by: {rng.choice(technicians)}",
            # serviced within maintenance_interval_days (180): no CAMERA_MAINTENANCE_OVERDUE
            "    installed_on: 2026-08-01T10:00:00+08:00",
            f"    storage: nas-{i % 4}",
        ]
    (root / "cameras.yaml").write_text("\n".join(lines) + "\n")
    (root / "storage.yaml").write_text(
        "targets:\n"
        + "".join(
            f"  - id: nas-{i}\n    kind: filesystem\n    root: /srv/cctv/nas-{i}\n"
            for i in range(4)
        )
    )
    applicants = people[40:]
    for i in range(n_requests):
        rid = f"REQ-{i:06d}"
        submitted = NOW - timedelta(days=rng.uniform(0, 200))
        footage_to = submitted - timedelta(hours=rng.uniform(2, 200))
        footage_from = footage_to - timedelta(hours=rng.uniform(1, 6))
        starts = submitted + timedelta(days=rng.uniform(0.5, 3))
        ends = starts + timedelta(days=rng.uniform(1, 20))
        applicant = rng.choice(applicants)
        cams = rng.sample(cameras, rng.randint(1, 3))
        request_text = (
            f"id: {rid}\napplicant: {applicant}\nunit: unit-{people.index(applicant) % 40}\n"
            f"submitted_at: {ts(submitted)}\n"
            f"purpose:\n  category: {rng.choice(PURPOSES)}\n"
            f'  description: "Generated request {i}"\n'
            f"footage:\n  cameras: [{', '.join(cams)}]\n"
            f"  from: {ts(footage_from)}\n  to: {ts(footage_to)}\n"
            f"use:\n  mode: view_supervised\n  recipients: [{applicant}]\n  starts: {ts(starts)}\n"
            f"  ends: {ts(ends)}\n  third_party: null\n"
        )
        (root / "requests" / f"{rid}.yaml").write_text(request_text)
        if rng.random() < 0.8:
            decided = submitted + timedelta(hours=rng.uniform(1, 10))
            approved = rng.random() < 0.85
            (root / "decisions" / f"{rid}.yaml").write_text(
                f"request: {rid}\ndecision: {'approved' if approved else 'rejected'}\n"
                "scope: as_requested\n"
                f"decided_by: {rng.choice(officers)}\ndecided_at: {ts(decided)}\n"
                f'reasons: ["Generated decision"]\n'
                f"request_sha256: {document_sha256(yaml_source.parse(request_text))}\n"
            )
            due = ends + timedelta(days=7)
            # Most reports come in on time; a few are late and about 1 in 200 never arrive.
            if approved and due < NOW and rng.random() < 0.995:
                late = rng.random() < 0.05
                days_after = rng.uniform(7, 12) if late else rng.uniform(0, 6.9)
                (root / "reports" / f"{rid}.yaml").write_text(
                    f"request: {rid}\nsubmitted_by: {applicant}\n"
                    f"submitted_at: {ts(ends + timedelta(days=days_after))}\n"
                    "summary: Viewed under supervision, nothing copied\ncopies: destroyed\n"
                )
    for i in range(50):
        hid = f"HOLD-{i:04d}"
        start = NOW - timedelta(days=rng.uniform(1, 25))
        (root / "holds" / f"{hid}.yaml").write_text(
            f"id: {hid}\ncreated_by: {rng.choice(officers)}\n"
            f"created_at: {ts(start + timedelta(days=1))}\n"
            f"cameras: [{', '.join(rng.sample(cameras, 2))}]\nfrom: {ts(start)}\n"
            f"to: {ts(start + timedelta(hours=6))}\nuntil: {ts(NOW + timedelta(days=60))}\n"
            "reason: Generated incident\n"
        )


LOAD_ONLY = """
import os, sys, yaml
root = sys.argv[1]
count = 0
for dirpath, _, names in os.walk(root):
    for name in names:
        if name.endswith('.yaml'):
            with open(os.path.join(dirpath, name), encoding='utf-8') as handle:
                yaml.load(handle.read(), Loader=yaml.CSafeLoader)
            count += 1
print(count)
"""


def timed(argv: list[str]) -> tuple[float, float, str]:
    """Wall seconds and peak RSS (MiB) of one fresh process."""
    wrapper = (
        "import resource, subprocess, sys, time\n"
        "t = time.perf_counter()\n"
        "p = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "w = time.perf_counter() - t\n"
        "rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024\n"
        "print(f'{w} {rss} {p.returncode}')\n"
        "sys.stderr.write(p.stderr[-2000:])\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", wrapper, *argv], capture_output=True, text=True, check=True
    )
    wall, rss, code = out.stdout.split()
    return float(wall), float(rss), code


def machine() -> str:
    cpu = "unknown cpu"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--cameras", type=int, default=2_000)
    parser.add_argument("--people", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--keep", type=Path, default=None, help="generate into DIR and keep it")
    args = parser.parse_args()

    workdir = args.keep or Path(tempfile.mkdtemp(prefix="cctv-bench-"))
    registry = workdir / "registry"
    if not (registry / "config.yaml").exists():
        started = time.perf_counter()
        generate(registry, args.requests, args.cameras, args.people)
        print(f"generated {registry} in {time.perf_counter() - started:.1f} s")
    files = sum(1 for _ in registry.rglob("*.yaml"))
    size = sum(p.stat().st_size for p in registry.rglob("*.yaml")) / 2**20
    print(f"machine: {machine()}")
    print(
        f"registry: {args.requests} requests, {args.cameras} cameras, {args.people} people; "
        f"{files} files, {size:.1f} MiB"
    )

    cli = str(REPO / ".venv" / "bin" / "cctv-policy")
    check_argv = [
        cli,
        "check",
        "--registry",
        str(registry),
        "--now",
        "2026-11-25T12:00:00+08:00",
        "--format",
        "json",
        "--out",
        str(workdir / "result.json"),
    ]
    load_argv = [sys.executable, "-c", LOAD_ONLY, str(registry)]
    timed(load_argv)  # warm the page cache once
    loads, checks = [], []
    for _ in range(args.rounds):
        loads.append(timed(load_argv))
        checks.append(timed(check_argv))
    load_wall = statistics.median(w for w, _, _ in loads)
    check_wall = statistics.median(w for w, _, _ in checks)
    print(f"{'':8}{'median wall':>12}{'min wall':>10}{'peak RSS':>11}")
    print(
        f"{'load':8}{load_wall:>11.2f}s{min(w for w, _, _ in loads):>9.2f}s"
        f"{max(r for _, r, _ in loads):>8.0f} MiB"
    )
    print(
        f"{'check':8}{check_wall:>11.2f}s{min(w for w, _, _ in checks):>9.2f}s"
        f"{max(r for _, r, _ in checks):>8.0f} MiB   exit {checks[-1][2]}"
    )
    print(f"check / load = {check_wall / load_wall:.2f}x  (goal <= 2x; check goal <= 10 s)")
    if not args.keep:
        import shutil

        shutil.rmtree(workdir)


if __name__ == "__main__":
    main()
