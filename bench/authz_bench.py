"""Benchmark the decision API: `cctv-policy serve` with 10,000 approved requests in the
registry, under a bounded load from a second process on loopback.

The load generator (this process) runs C keep-alive connections in threads and sends N POST
/v1/data/cctv/authz/allow calls (a mix of allowed and denied questions), each answered only
after it is written to the audit log. Prints p50/p99 latency and throughput, and checks every
answer against the expected one.

    .venv/bin/python bench/authz_bench.py [--requests 10000] [--calls 4000] [--connections 8]
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))
from check_bench import machine  # noqa: E402 - after the sys.path insert above

NOW = datetime.now(UTC).replace(microsecond=0)


def _role(index: int) -> str:
    return "security_office" if index < 10 else "technician" if index < 20 else "applicant"


def ts(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def generate(root: Path, n_requests: int, n_cameras: int, n_people: int, seed: int = 3):
    rng = random.Random(seed)
    for sub in ("requests", "decisions"):
        (root / sub).mkdir(parents=True)
    (root / "config.yaml").write_text("retention_days: 30\nallowed_purposes: [incident]\n")
    people = [f"p{i:04d}.user" for i in range(n_people)]
    (root / "people.yaml").write_text(
        "people:\n"
        + "".join(
            f"  - {{id: {p}, name: P, unit: u, roles: [{_role(i)}]}}\n"
            for i, p in enumerate(people)
        )
    )
    cameras = [f"CAM-{i:05d}" for i in range(n_cameras)]
    (root / "cameras.yaml").write_text(
        "cameras:\n"
        + "".join(
            f"  - {{id: {c}, name: c, location: l, zone: z, installed_by: {people[10]}, "
            f"installed_on: 2025-01-01T00:00:00Z, storage: nas}}\n"
            for c in cameras
        )
    )
    (root / "storage.yaml").write_text("targets:\n  - {id: nas, kind: filesystem, root: /x}\n")
    questions = []
    for i in range(n_requests):
        rid, applicant = f"REQ-{i:06d}", rng.choice(people[20:])
        camera = rng.choice(cameras)
        footage_to = NOW - timedelta(days=rng.uniform(1, 20))
        footage_from = footage_to - timedelta(hours=2)
        submitted = footage_to + timedelta(hours=1)
        starts = (
            NOW - timedelta(days=rng.uniform(0, 3))
            if rng.random() < 0.7
            else NOW + timedelta(days=1)
        )
        ends = max(starts, NOW) + timedelta(days=2)
        if submitted >= starts:
            submitted = starts - timedelta(hours=1)
            footage_to = min(footage_to, submitted - timedelta(hours=1))
            footage_from = footage_to - timedelta(hours=2)
        (root / "requests" / f"{rid}.yaml").write_text(
            f"id: {rid}\napplicant: {applicant}\nunit: u\nsubmitted_at: {ts(submitted)}\n"
            "purpose: {category: incident, description: d}\n"
            f"footage: {{cameras: [{camera}], from: {ts(footage_from)}, to: {ts(footage_to)}}}\n"
            f"use: {{mode: view_supervised, recipients: [{applicant}], starts: {ts(starts)}, "
            f"ends: {ts(ends)}}}\n"
        )
        (root / "decisions" / f"{rid}.yaml").write_text(
            f"request: {rid}\ndecision: approved\ndecided_by: {people[i % 10]}\n"
            f"decided_at: {ts(submitted + timedelta(minutes=30))}\nreasons: [ok]\n"
        )
        active = starts <= NOW
        questions.append(
            (
                {
                    "principal": applicant,
                    "camera": camera,
                    "at": ts(footage_from + timedelta(minutes=30)),
                },
                active,
            )
        )
        questions.append(
            (
                {
                    "principal": applicant,
                    "camera": camera,
                    "at": ts(footage_to + timedelta(minutes=30)),
                },
                False,
            )
        )
    return questions


def wait_for(port: int, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("serve did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--calls", type=int, default=4_000)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--max-seconds", type=float, default=120)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory(prefix="cctv-authz-") as tmp:
        registry = Path(tmp) / "registry"
        questions = generate(registry, args.requests, 2000, 500)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        started = time.perf_counter()
        server = subprocess.Popen(
            [
                str(REPO / ".venv/bin/cctv-policy"),
                "serve",
                "--registry",
                str(registry),
                "--port",
                str(port),
                "--audit-log",
                str(Path(tmp) / "audit.jsonl"),
            ],
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_for(port, 120)
            print(
                f"serve: {args.requests} approved requests loaded in "
                f"{time.perf_counter() - started:.1f} s"
            )
            rng = random.Random(9)
            work = [rng.choice(questions) for _ in range(args.calls)]
            latencies: list[float] = []
            wrong = [0]
            lock = threading.Lock()
            deadline = time.monotonic() + args.max_seconds

            def worker(chunk):
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                mine = []
                for q, expected in chunk:
                    if time.monotonic() > deadline:
                        break
                    body = json.dumps({"input": {**q, "now": ts(NOW)}})
                    t = time.perf_counter()
                    conn.request(
                        "POST",
                        "/v1/data/cctv/authz/allow",
                        body,
                        {"Content-Type": "application/json"},
                    )
                    answer = json.loads(conn.getresponse().read())
                    mine.append(time.perf_counter() - t)
                    if answer.get("result") is not expected:
                        with lock:
                            wrong[0] += 1
                conn.close()
                with lock:
                    latencies.extend(mine)

            chunks = [work[i :: args.connections] for i in range(args.connections)]
            threads = [threading.Thread(target=worker, args=(c,)) for c in chunks]
            t0 = time.perf_counter()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            wall = time.perf_counter() - t0
        finally:
            server.terminate()
            server.wait(timeout=10)
        latencies.sort()
        p50 = statistics.median(latencies) * 1000
        p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000
        print(
            f"{len(latencies)} calls over {args.connections} keep-alive connections in "
            f"{wall:.1f} s: {len(latencies) / wall:.0f} decisions/s, p50 {p50:.2f} ms, "
            f"p99 {p99:.2f} ms; wrong answers: {wrong[0]} (each call audit-logged, fsync)"
        )


if __name__ == "__main__":
    main()
