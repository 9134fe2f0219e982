"""Benchmark the retention sweep.

Filesystem: 50 cameras x 40 days of 3-minute segments (960,000 files) in two identical trees;
`cctv-policy apply` (plan + apply, one process, embedded OPA) sweeps one tree while
`find <the expired day directories> -type f -delete` sweeps the same expired set in the other.
The clock is set 1 s past midnight so that exactly the 10 oldest days are expired, which makes
the two expired sets identical (checked). Prints both wall times and the ratio (goal <= 1.5x).

S3 (--rgw): starts the test suite's single-node Ceph RGW, uploads a few thousand segments,
runs the same sweep and counts every HTTP request botocore sends, per 1,000 deletions (goal:
<= 1.1 DeleteObjects calls per 1,000 plus listing pages).

    .venv/bin/python bench/sweep_bench.py [--cameras 50 --days 40 --per-day 480] [--rgw]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from storage_backends.layout import Layout  # noqa: E402 - after the sys.path insert above

LAYOUT = Layout("{camera}/{start:%Y/%m/%d}/{start:%Y%m%dT%H%M%SZ}_{seconds}s.mp4")
RETENTION = 30


def write_registry(root: Path, cameras: list[str], target_kind: str, bucket: str = "") -> None:
    root.mkdir(parents=True)
    (root / "config.yaml").write_text(
        f"retention_days: {RETENTION}\nallowed_purposes: [incident]\n"
    )
    (root / "people.yaml").write_text(
        "people:\n  - {id: tech, name: Tech, unit: facilities, roles: [technician]}\n"
    )
    (root / "cameras.yaml").write_text(
        "cameras:\n"
        + "".join(
            f"  - {{id: {c}, name: {c}, location: bench, zone: corridor, installed_by: tech, "
            f"installed_on: 2025-01-01T00:00:00Z, storage: bench}}\n"
            for c in cameras
        )
    )
    if target_kind == "filesystem":
        target = "  - {id: bench, kind: filesystem, root: /nonexistent}\n"
    else:
        target = f"  - {{id: bench, kind: s3, bucket: {bucket}, prefix: f/}}\n"
    (root / "storage.yaml").write_text("targets:\n" + target)


def keys_for(cameras: list[str], first: datetime, days: int, per_day: int) -> list[str]:
    step = 86400 // per_day
    return [
        LAYOUT.key(c, first + timedelta(days=d, seconds=i * step), step)
        for c in cameras
        for d in range(days)
        for i in range(per_day)
    ]


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        "unknown cpu",
    )
    python = platform.python_version()
    return f"{cpu}, {os.cpu_count()} cores, Linux {platform.release()}, Python {python}"


def filesystem(args: argparse.Namespace, work: Path) -> None:
    cameras = [f"CAM-{i:03d}" for i in range(args.cameras)]
    first = datetime(2026, 10, 1, tzinfo=UTC)
    now = first + timedelta(days=args.days, seconds=1)  # 1 s past the midnight after the last day
    expired_days = args.days - RETENTION
    ours, theirs = work / "ours", work / "find"
    t = time.perf_counter()
    for key in keys_for(cameras, first, args.days, args.per_day):
        path = ours / key
        if not path.parent.is_dir():
            path.parent.mkdir(parents=True)
        path.touch()
    made = time.perf_counter() - t
    sharded = work / "sharded"
    subprocess.run(["cp", "-al", str(ours), str(theirs)], check=True)
    subprocess.run(["cp", "-al", str(ours), str(sharded)], check=True)
    total = sum(1 for _ in ours.rglob("*.mp4"))
    print(
        f"trees: 3 x {total} files ({made:.0f} s to write one); {expired_days} of "
        f"{args.days} days expired"
    )
    registry = work / "registry"
    write_registry(registry, cameras, "filesystem")
    subprocess.run(["sync"], check=False)

    expired_dirs = [
        str(theirs / c / (first + timedelta(days=d)).strftime("%Y/%m/%d"))
        for c in cameras
        for d in range(expired_days)
    ]
    t = time.perf_counter()
    subprocess.run(["find", *expired_dirs, "-type", "f", "-delete"], check=True)
    find_wall = time.perf_counter() - t

    def apply_argv(root: Path, audit: str, *extra: str) -> list[str]:
        # apply runs on the system clock (it has no --now): faketime sets that clock, as an
        # operator's machine would have it, 1 s past the midnight after the last day.
        return [
            "faketime",
            "-f",
            f"@{now.strftime('%Y-%m-%d %H:%M:%S')}",
            str(REPO / ".venv/bin/cctv-policy"),
            "apply",
            "--yes",
            "--registry",
            str(registry),
            "--storage-root",
            f"bench={root}",
            "--audit-log",
            str(work / audit),
            *extra,
        ]

    if not shutil.which("faketime"):
        sys.exit("the filesystem sweep needs faketime (apt-get install faketime)")
    t = time.perf_counter()
    done = subprocess.run(apply_argv(ours, "audit.jsonl"), capture_output=True, text=True)
    ours_wall = time.perf_counter() - t
    if done.returncode != 0:
        sys.exit(done.stderr + done.stdout)
    t = time.perf_counter()
    shards = [
        subprocess.Popen(
            apply_argv(sharded, f"audit-{i}.jsonl", "--shard", f"{i}/2"),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for i in range(2)
    ]
    assert all(p.wait() == 0 for p in shards)
    sharded_wall = time.perf_counter() - t
    left_ours = {p.relative_to(ours).as_posix() for p in ours.rglob("*.mp4")}
    left_theirs = {p.relative_to(theirs).as_posix() for p in theirs.rglob("*.mp4")}
    left_sharded = {p.relative_to(sharded).as_posix() for p in sharded.rglob("*.mp4")}
    assert left_ours == left_theirs == left_sharded, "the sweeps removed different sets"
    deleted = total - len(left_ours)
    print(f"{'':28}{'wall':>8}{'files/s':>11}")
    print(f"{'find ... -type f -delete':28}{find_wall:>7.2f}s{deleted / find_wall:>11.0f}")
    print(f"{'cctv-policy apply':28}{ours_wall:>7.2f}s{deleted / ours_wall:>11.0f}")
    print(f"{'2 x apply --shard I/2':28}{sharded_wall:>7.2f}s{deleted / sharded_wall:>11.0f}")
    print(
        f"deleted {deleted} files in each tree; cctv-policy / find = {ours_wall / find_wall:.2f}x "
        f"(goal <= 1.5x); 2 shards in parallel = {sharded_wall / find_wall:.2f}x. Ours "
        "includes start-up (~0.6 s), the OPA decision, listing, two safety checks per file "
        "and the audit log"
    )


def rgw(args: argparse.Namespace, work: Path) -> None:
    from cctv_policy.audit.log import AuditLog
    from cctv_policy.enforce.job import prepare, run_apply
    from cctv_policy.engine import load_policies
    from cctv_policy.engine.embedded import EmbeddedEngine
    from cctv_policy.evaluation import Evaluation
    from cctv_policy.registry import load_registry
    from testing.ceph_rgw import OWNER_KEY, OWNER_SECRET, CephRgw

    server = CephRgw(work / "rgw").start()
    try:
        os.environ.update(
            CCTV_S3_ENDPOINT=server.endpoint,
            AWS_ACCESS_KEY_ID=OWNER_KEY,
            AWS_SECRET_ACCESS_KEY=OWNER_SECRET,
        )
        import boto3

        s3 = boto3.client("s3", endpoint_url=server.endpoint, region_name="us-east-1")
        s3.create_bucket(Bucket="bench-sweep")
        cameras = [f"CAM-{i:03d}" for i in range(args.rgw_cameras)]
        first = datetime(2026, 10, 1, tzinfo=UTC)
        days = RETENTION + args.rgw_expired_days
        keys = keys_for(cameras, first, days, args.rgw_per_day)
        t = time.perf_counter()
        with ThreadPoolExecutor(32) as pool:
            list(
                pool.map(
                    lambda k: s3.put_object(Bucket="bench-sweep", Key="f/" + k, Body=b"x"), keys
                )
            )
        print(f"rgw: uploaded {len(keys)} objects in {time.perf_counter() - t:.0f} s")
        registry = work / "s3-registry"
        write_registry(registry, cameras, "s3", "bench-sweep")
        now = first + timedelta(days=days, seconds=1)
        prep = prepare(
            Evaluation(
                load_registry(registry),
                EmbeddedEngine(load_policies().without_tests()),
                now,
                "bench",
            ),
            target="bench",
        )
        calls: Counter[str] = Counter()
        backend = prep.backends["bench"]
        backend.client.meta.events.register(  # type: ignore[attr-defined] - boto3 has no types
            "before-send.s3.*",
            lambda request, **kw: calls.update(
                [
                    request.method
                    + " "
                    + (
                        "DeleteObjects"
                        if "delete" in request.url.split("?")[-1]
                        else "ListObjectsV2"
                        if "list-type=2" in request.url
                        else "other"
                    )
                ]
            ),
        )
        t = time.perf_counter()
        report = run_apply(prep, AuditLog(work / "s3-audit.jsonl"))
        wall = time.perf_counter() - t
        deleted = report.done["delete"]
        per_k = {k: v * 1000 / deleted for k, v in calls.items()}
        print(
            f"rgw: apply deleted {deleted} objects in {wall:.1f} s; HTTP requests during apply "
            f"per 1,000 deletions: " + ", ".join(f"{k} {v:.2f}" for k, v in sorted(per_k.items()))
        )
        print(
            f"rgw: (planning listed with {backend.requests - sum(calls.values())} requests "
            f"for {len(keys)} objects: one page per camera-day plus the camera/year/month/day "
            "prefixes)"
        )
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cameras", type=int, default=50)
    parser.add_argument("--days", type=int, default=40)
    parser.add_argument("--per-day", type=int, default=480)
    parser.add_argument("--rgw", action="store_true", help="also measure on a local Ceph RGW")
    parser.add_argument("--rgw-cameras", type=int, default=5)
    parser.add_argument("--rgw-per-day", type=int, default=96)
    parser.add_argument("--rgw-expired-days", type=int, default=8)
    parser.add_argument("--no-fs", action="store_true")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory(prefix="cctv-sweep-") as tmp:
        if not args.no_fs:
            filesystem(args, Path(tmp))
        if args.rgw:
            rgw(args, Path(tmp))


if __name__ == "__main__":
    main()
