"""Benchmark the retention sweep.

Filesystem: 50 cameras x 40 days of 3-minute segments (960,000 files), swept in hard-linked
copies: `cctv-policy apply` (plan + apply, one process, embedded OPA), two `apply --shard I/2`
at once, and `find <the expired day directories> -type f -delete` over the same expired set
(and `find ... -delete`, which also removes the emptied day folders: the same work as apply's).
The clock is set 1 s past midnight so that exactly the 10 oldest days are expired, which makes
the expired sets identical (checked). Prints medians of --runs runs and the ratios (goals:
apply <= 1.5x find, two shards <= 1.0x), apply's peak RSS and the size of its plan JSON.

S3 (--rgw): starts the test suite's single-node Ceph RGW, uploads a few thousand segments,
runs the same sweep and counts every HTTP request botocore sends, per 1,000 deletions (goal:
<= 1.1 DeleteObjects calls per 1,000 plus listing pages).

    .venv/bin/python bench/sweep_bench.py [--cameras 50 --days 40 --per-day 480] [--rgw]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
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
        # a generated registry has no git history to verify approvals' writers by
        "provenance: {required: false}\n"
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


def timed(argv: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one process, measured by a fresh wrapper."""
    wrapper = (
        "import resource, subprocess, sys, time\n"
        "t = time.perf_counter()\n"
        "p = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)\n"
        "w = time.perf_counter() - t\n"
        "if p.returncode: sys.exit(p.stderr.decode()[-3000:])\n"
        "print(w, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)\n"
    )
    out = subprocess.run([sys.executable, "-c", wrapper, *argv], capture_output=True, text=True)
    if out.returncode:
        sys.exit(out.stderr)
    wall, rss = out.stdout.split()
    return float(wall), float(rss)


def filesystem(args: argparse.Namespace, work: Path) -> None:
    cameras = [f"CAM-{i:03d}" for i in range(args.cameras)]
    first = datetime(2026, 10, 1, tzinfo=UTC)
    now = first + timedelta(days=args.days, seconds=1)  # 1 s past the midnight after the last day
    expired_days = args.days - RETENTION
    master = work / "master"
    t = time.perf_counter()
    for key in keys_for(cameras, first, args.days, args.per_day):
        path = master / key
        if not path.parent.is_dir():
            path.parent.mkdir(parents=True)
        path.touch()
    made = time.perf_counter() - t
    total = sum(1 for _ in master.rglob("*.mp4"))
    print(
        f"tree: {total} files ({made:.0f} s to write; each run sweeps hard-linked copies); "
        f"{expired_days} of {args.days} days expired; {args.runs} runs, medians"
    )
    registry = work / "registry"
    write_registry(registry, cameras, "filesystem")
    if not shutil.which("faketime"):
        sys.exit("the filesystem sweep needs faketime (apt-get install faketime)")
    clock = ["faketime", "-f", f"@{now.strftime('%Y-%m-%d %H:%M:%S')}"]
    cli = str(REPO / ".venv/bin/cctv-policy")
    # Measure the tool as installed (scripts/install.sh byte-compiles it, as pip does a wheel),
    # also after an edit since then.
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", "cctv_policy", "storage_backends"],
        cwd=REPO,
        check=True,
        stdout=subprocess.DEVNULL,
    )

    def ours(root: Path, audit: str, *extra: str) -> list[str]:
        # apply runs on the system clock (it has no --now): faketime sets that clock, as an
        # operator's machine would have it, 1 s past the midnight after the last day.
        return [
            *clock,
            cli,
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

    plan_file = work / "plan.json"
    subprocess.run(
        [
            *clock,
            cli,
            "plan",
            "--registry",
            str(registry),
            "--storage-root",
            f"bench={master}",
            "--out",
            str(plan_file),
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    plan = json.loads(plan_file.read_text())
    counts = Counter(a["action"] for a in plan["actions"])
    finds, find_dirs, applies, shards, rss = [], [], [], [], []
    for run in range(args.runs):
        names = ("find", "find-dirs", "ours", "sharded")
        trees = {name: work / f"{name}-{run}" for name in names}
        for tree in trees.values():
            subprocess.run(["cp", "-al", str(master), str(tree)], check=True)
        subprocess.run(["sync"], check=False)
        expired = [
            f"{c}/{(first + timedelta(days=d)).strftime('%Y/%m/%d')}"
            for c in cameras
            for d in range(expired_days)
        ]
        t = time.perf_counter()
        subprocess.run(
            ["find", *(str(trees["find"] / e) for e in expired), "-type", "f", "-delete"],
            check=True,
        )
        finds.append(time.perf_counter() - t)
        # The same work as apply's: the emptied day folders are removed too.
        t = time.perf_counter()
        subprocess.run(
            ["find", *(str(trees["find-dirs"] / e) for e in expired), "-delete"], check=True
        )
        find_dirs.append(time.perf_counter() - t)
        wall, peak = timed(ours(trees["ours"], f"audit-{run}.jsonl"))
        applies.append(wall)
        rss.append(peak)
        t = time.perf_counter()
        procs = [
            subprocess.Popen(
                ours(trees["sharded"], f"audit-{run}-{i}.jsonl", "--shard", f"{i}/2"),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for i in range(2)
        ]
        assert all(p.wait() == 0 for p in procs)
        shards.append(time.perf_counter() - t)
        left = [
            {p.relative_to(tree).as_posix() for p in tree.rglob("*.mp4")} for tree in trees.values()
        ]
        assert left[0] == left[1] == left[2] == left[3], "the sweeps removed different sets"
        folders = [
            {p.relative_to(trees[name]).as_posix() for p in trees[name].rglob("*") if p.is_dir()}
            for name in ("find-dirs", "ours", "sharded")
        ]
        assert folders[0] == folders[1] == folders[2], "the sweeps left different folders"
        deleted = total - len(left[0])
        print(
            f"run {run + 1}: find {finds[-1]:.2f} s, find -delete {find_dirs[-1]:.2f} s, "
            f"apply {applies[-1]:.2f} s ({applies[-1] / finds[-1]:.2f}x), 2 shards "
            f"{shards[-1]:.2f} s ({shards[-1] / finds[-1]:.2f}x)"
        )
        for tree in trees.values():
            shutil.rmtree(tree)
    find_wall, ours_wall = statistics.median(finds), statistics.median(applies)
    sharded_wall = statistics.median(shards)
    print(f"{'':28}{'median wall':>12}{'files/s':>11}")
    print(f"{'find ... -type f -delete':28}{find_wall:>11.2f}s{deleted / find_wall:>11.0f}")
    dirs_wall = statistics.median(find_dirs)
    print(f"{'find ... -delete (+ folders)':28}{dirs_wall:>11.2f}s{deleted / dirs_wall:>11.0f}")
    print(f"{'cctv-policy apply':28}{ours_wall:>11.2f}s{deleted / ours_wall:>11.0f}")
    print(f"{'2 x apply --shard I/2':28}{sharded_wall:>11.2f}s{deleted / sharded_wall:>11.0f}")
    print(
        f"deleted {deleted} files in each tree; cctv-policy / find = {ours_wall / find_wall:.2f}x "
        f"(goal <= 1.5x); 2 shards in parallel = {sharded_wall / find_wall:.2f}x (goal <= 1.0x)"
    )
    print(
        f"against find -delete (it also removes the emptied day folders, as apply does): "
        f"apply {ours_wall / dirs_wall:.2f}x, 2 shards {sharded_wall / dirs_wall:.2f}x"
    )
    print(
        f"apply peak RSS {max(rss):.0f} MiB (goal <= 200 MiB); plan JSON {plan_file.stat().st_size}"
        f" bytes: {counts.get('delete-day', 0)} delete-day actions, "
        f"{counts.get('delete', 0)} single deletes, {len(plan['actions'])} actions in all"
    )


def rgw(args: argparse.Namespace, work: Path) -> None:
    from cctv_policy.audit.log import AuditLog
    from cctv_policy.enforce.job import prepare, run_apply
    from cctv_policy.enforce.models import Scope
    from cctv_policy.engine import load_policies
    from cctv_policy.engine.embedded import EmbeddedEngine
    from cctv_policy.registry import load_registry
    from cctv_policy.rulebook.evaluation import Evaluation
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
            Scope("bench"),
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
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory(prefix="cctv-sweep-") as tmp:
        if not args.no_fs:
            filesystem(args, Path(tmp))
        if args.rgw:
            rgw(args, Path(tmp))


if __name__ == "__main__":
    main()
