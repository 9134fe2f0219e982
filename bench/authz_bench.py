"""Benchmark the decision API: `cctv-policy serve` with 10,000 approved requests in the
registry, under a bounded load from this process on loopback, next to the server it replaced.

Both servers get the same registry, the same calls (a mix of allowed and denied questions, each
with an input.now the servers must ignore) over C keep-alive connections, and both answer only
after the decision is fsync'd to the audit log. Prints decisions/s, p50/p99 latency, wrong answers
and the audit entries written, for each of --rounds loads on one server, then the median
round (by p99) and the server's peak memory. The new server runs twice: as it runs (GOGC=400
for its embedded OPA) and with Go's default (GOGC=100).

The old server is the http.server one this branch replaced, read from git at LEGACY_COMMIT
(`git show`, nothing copied into the tree) and run in a child process by `--legacy-serve`;
without git history it is skipped.

A real OPA (`opa run --server`, the pinned binary) is measured the same way: loaded with
`cctv-policy bundle` of the same registry, its decision logging on, shipped to
`cctv-policy decision-log-ingest`, which appends them to a hash-chained audit log; it answers
data.cctv.fleet on its own clock, ignoring input.now as serve does. Skipped when the opa binary
cannot be built.

The load generator is tools/loadgen, a small Go client built by scripts/build_tools.sh (Go's
net/http, one goroutine per keep-alive connection): on a 2-core machine it shares the CPU with
the server, so it must cost little. (The raw-socket Python client it replaced used about as much
CPU as the server it measured.)

    .venv/bin/python bench/authz_bench.py [--requests 10000] [--calls 5000] [--connections 8]
        [--rounds 3] [--only old|new|opa]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import types
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))
sys.path.insert(0, str(REPO))
from check_bench import machine  # noqa: E402

from cctv_policy.registry import yaml_source  # noqa: E402
from cctv_policy.registry.canonical import document_sha256  # noqa: E402

LEGACY_COMMIT = "5949347605a0c8b56fcece1be2db4be453a9ab67"  # the last http.server-based serve
LEGACY_SERVER = "cctv_policy/authz/server.py"
# The new server as it runs (it sets GOGC=400 for its embedded OPA: cctv_policy/cli/entry.py),
# and with Go's default collector setting.
NEW_SERVER_SETTINGS: list[tuple[str, dict[str, str]]] = [
    ("new", {}),
    ("new (GOGC=100)", {"GOGC": "100"}),
]
NOW = datetime.now(UTC).replace(microsecond=0)


def _role(index: int) -> str:
    return "security_office" if index < 10 else "technician" if index < 20 else "applicant"


def ts(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def generate(root: Path, n_requests: int, n_cameras: int, n_people: int, seed: int = 3):
    rng = random.Random(seed)
    for sub in ("requests", "decisions"):
        (root / sub).mkdir(parents=True)
    # No git history here: approvals are taken as written (README: provenance).
    (root / "config.yaml").write_text(
        "retention_days: 30\nallowed_purposes: [incident]\nprovenance: {required: false}\n"
    )
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
        request_text = (
            f"id: {rid}\napplicant: {applicant}\nunit: u\nsubmitted_at: {ts(submitted)}\n"
            "purpose: {category: incident, description: d}\n"
            f"footage: {{cameras: [{camera}], from: {ts(footage_from)}, to: {ts(footage_to)}}}\n"
            f"use: {{mode: view_supervised, recipients: [{applicant}], starts: {ts(starts)}, "
            f"ends: {ts(ends)}}}\n"
        )
        (root / "requests" / f"{rid}.yaml").write_text(request_text)
        pinned = document_sha256(yaml_source.parse(request_text))
        (root / "decisions" / f"{rid}.yaml").write_text(
            f"request: {rid}\ndecision: approved\nscope: as_requested\n"
            f"decided_by: {people[i % 10]}\n"
            f"decided_at: {ts(submitted + timedelta(minutes=30))}\nreasons: [ok]\n"
            f"request_sha256: {pinned}\n"
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


def wait_for_decision(
    port: int, seconds: float, process: subprocess.Popen[bytes], path: str, question: dict[str, str]
) -> None:
    """Until the server answers a decision (not merely accepts connections)."""
    body = json.dumps({"input": question}).encode()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server exited with {process.returncode}")
        ask = urllib.request.Request(
            f"http://127.0.0.1:{port}/v1/data/{path}",
            data=body,
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(ask, timeout=5) as answer:
                if answer.status == 200 and "result" in json.loads(answer.read()):
                    return
        except (OSError, ValueError):
            pass
        time.sleep(0.05)
    raise SystemExit("the server did not start")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def loadgen_binary() -> Path:
    """The Go load generator (tools/loadgen), built by scripts/build_tools.sh."""
    binary = REPO / ".tools" / "bin" / "loadgen"
    if not binary.exists():
        subprocess.run(["bash", str(REPO / "scripts" / "build_tools.sh")], check=True)
    return binary


def load(
    port: int,
    work: list[tuple[dict[str, str], bool]],
    connections: int,
    max_seconds: float,
    now_text: str = "2099-01-01T00:00:00Z",
    path: str = "cctv/authz/allow",
) -> tuple[list[float], int, float]:
    """(latencies in seconds, wrong answers, wall seconds) for `work` over `connections`
    keep-alive connections, driven by tools/loadgen (connection i sends calls i, i+C, ...)."""
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as handle:
        for q, expected in work:
            handle.write(json.dumps({"body": {"input": {**q, "now": now_text}}, "allow": expected}))
            handle.write("\n")
    try:
        done = subprocess.run(
            [
                str(loadgen_binary()),
                "-url",
                f"http://127.0.0.1:{port}/v1/data/{path}",
                "-work",
                handle.name,
                "-c",
                str(connections),
                "-max-seconds",
                str(max_seconds),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
    finally:
        Path(handle.name).unlink()
    report = json.loads(done.stdout)
    latencies = [ns / 1e9 for ns in report["latencies_ns"]]
    return latencies, int(report["wrong"]), report["wall_ns"] / 1e9


def legacy_source() -> str | None:
    done = subprocess.run(
        ["git", "-C", str(REPO), "show", f"{LEGACY_COMMIT}:{LEGACY_SERVER}"],
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout if done.returncode == 0 else None


def legacy_serve(registry: Path, port: int, audit_log: Path) -> None:
    """Run the replaced http.server decision server as `cctv-policy serve` did."""
    from cctv_policy.audit.log import AuditLog
    from cctv_policy.authz.decide import Authorizer
    from cctv_policy.engine import load_policies, make_engine
    from cctv_policy.registry.loader import load_registry
    from cctv_policy.rulebook.evaluation import Evaluation

    source = legacy_source()
    if source is None:
        raise SystemExit("the old server is not in this clone's git history")
    module = types.ModuleType("legacy_server")
    exec(compile(source, f"{LEGACY_COMMIT[:12]}:{LEGACY_SERVER}", "exec"), module.__dict__)
    policies = load_policies()
    now = datetime.now(UTC).replace(microsecond=0)
    evaluation = Evaluation(
        load_registry(registry), make_engine("embedded", policies), now, policies.version
    )
    authorizer = Authorizer(evaluation, policies, AuditLog(audit_log))
    module.make_server(authorizer, "127.0.0.1", port).serve_forever()


@dataclass
class Outcome:
    """One server's figures: its rounds, start-up and peak memory, and those of the process
    that checked its registry (serve's child; `cctv-policy bundle` for OPA)."""

    label: str
    rounds: list[Figures]
    ready: float  # seconds from launch to the first decision answered
    peak: int | None  # MiB, the server process
    check_peak: int | None = None  # MiB
    check_seconds: float | None = None

    @property
    def median(self) -> Figures:
        return sorted(self.rounds, key=lambda figures: figures.p99)[len(self.rounds) // 2]


def measure(
    label: str,
    command: list[str],
    port: int,
    audit_log: Path,
    work: list[tuple[dict[str, str], bool]],
    args: argparse.Namespace,
    now_text: str = "2099-01-01T00:00:00Z",
    event: str = "authorize",
    settle: float = 0.0,
    env: dict[str, str] | None = None,
    path: str = "cctv/authz/allow",
) -> Outcome:
    """args.rounds loads of the same calls on one server; each round's figures, then the
    median round's (by p99), with the server's peak memory and its start-up: from launch to
    its first decision."""
    started = time.perf_counter()
    environment = {name: value for name, value in os.environ.items() if name != "GOGC"}
    server = subprocess.Popen(
        command, stderr=subprocess.DEVNULL, env={**environment, **(env or {})}
    )
    rounds = []
    try:
        wait_for_decision(port, 600, server, path, {**work[0][0], "now": now_text})
        ready = time.perf_counter() - started
        load(port, work[:200], args.connections, args.max_seconds, now_text, path)  # warm up
        for _ in range(args.rounds):
            time.sleep(settle)
            before = _entries(audit_log, event)
            latencies, wrong, wall = load(
                port, work, args.connections, args.max_seconds, now_text, path
            )
            time.sleep(settle)  # OPA ships decision logs in the background
            rounds.append(_figures(latencies, wrong, wall, _entries(audit_log, event) - before))
        peak = _peak_rss_mib(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)
    outcome = Outcome(label, rounds, ready, peak, _check_peak_mib(audit_log))
    for figures in rounds:
        print(f"  {label:<13} {figures.line(args.connections)}", flush=True)
    checked = (
        f"; its registry check (a child process) peaked at {outcome.check_peak} MiB"
        if outcome.check_peak is not None
        else ""
    )
    print(
        f"{label:<15} median of {len(rounds)}: {outcome.median.line(args.connections)}; "
        f"peak memory {_mib(peak)} MiB{checked}; first decision {ready:.1f} s after launch",
        flush=True,
    )
    return outcome


def _mib(value: int | None) -> str:
    return "?" if value is None else f"{value:,}"


def _check_peak_mib(audit_log: Path) -> int | None:
    """serve's serve_started entry: the peak memory of the child that checked the registry."""
    if not audit_log.exists():
        return None
    for line in audit_log.read_text().splitlines():
        if '"event":"serve_started"' in line:
            value = json.loads(line).get("registry_check_peak_mib")
            return int(value) if isinstance(value, int) else None
    return None


@dataclass(frozen=True)
class Figures:
    calls: int
    wall: float
    p50: float  # ms
    p99: float  # ms
    wrong: int
    logged: int

    def line(self, connections: int) -> str:
        return (
            f"{self.calls} calls / {connections} keep-alive connections in {self.wall:4.1f} s: "
            f"{self.calls / self.wall:6.0f} decisions/s, p50 {self.p50:5.2f} ms, p99 "
            f"{self.p99:5.2f} ms; wrong answers: {self.wrong}; audit entries fsync'd: "
            f"{self.logged}"
        )


def _figures(latencies: list[float], wrong: int, wall: float, logged: int) -> Figures:
    latencies = sorted(latencies)
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000
    return Figures(len(latencies), wall, p50, p99, wrong, logged)


def _peak_rss_mib(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) // 1024
    except OSError:
        pass
    return None


def _entries(audit_log: Path, event: str = "authorize") -> int:
    if not audit_log.exists():
        return 0
    marker = f'"event":"{event}"'.encode()
    with audit_log.open("rb") as handle:
        return sum(1 for line in handle if marker in line)


def build_bundle(registry: Path, bundle: Path) -> tuple[float, int]:
    """`cctv-policy bundle` of the registry: (seconds, its peak memory in MiB)."""
    cli = str(REPO / ".venv/bin/cctv-policy")
    started = time.perf_counter()
    builder = subprocess.Popen(
        [cli, "bundle", "--registry", str(registry), "--out", str(bundle)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    assert builder.stderr is not None
    errors = builder.stderr.read()
    _, status, usage = os.wait4(builder.pid, 0)
    builder.returncode = os.waitstatus_to_exitcode(status)
    if builder.returncode != 0:
        raise SystemExit(f"cctv-policy bundle failed: {errors.decode()[-1500:]}")
    return time.perf_counter() - started, usage.ru_maxrss // 1024


def measure_opa(
    registry: Path, tmp: Path, work: list[tuple[dict[str, str], bool]], args: argparse.Namespace
) -> Outcome | None:
    """The same questions on a real `opa run --server` loaded with `cctv-policy bundle`, its
    decision logs shipped to `cctv-policy decision-log-ingest` and from there into the
    hash-chained audit log. The fleet's decision (data.cctv.fleet) is on OPA's own clock."""
    from testing.opa_fleet import IngestProcess, decision_log_config, write_config
    from testing.real_opa import OpaUnavailable, opa_binary

    try:
        opa = opa_binary()
    except OpaUnavailable as exc:
        print(f"opa: skipped ({exc})")
        return None
    bundle = tmp / "bundle.tar.gz"
    seconds, bundle_peak = build_bundle(registry, bundle)
    print(f"the bundle (cctv-policy bundle): built in {seconds:.1f} s, peak {bundle_peak} MiB")
    audit_log = tmp / "opa-audit.jsonl"
    token = "bench-ingest-token-0123456789"
    ingest = IngestProcess(audit_log, token).start()
    try:
        config = write_config(tmp / "opa.json", decision_log_config(ingest.url, token))
        port = free_port()
        command = [
            str(opa),
            "run",
            "--server",
            "--addr",
            f"127.0.0.1:{port}",
            "--bundle",
            str(bundle),
            "--config-file",
            str(config),
            "--log-level",
            "error",
        ]
        outcome = measure(
            "opa",
            command,
            port,
            audit_log,
            work,
            args,
            event="opa_decision",
            settle=3.0,
            path="cctv/fleet/allow",
        )
    finally:
        ingest.stop()
    outcome.check_peak, outcome.check_seconds = bundle_peak, seconds
    return outcome


def closing_note(outcomes: list[Outcome]) -> None:
    """serve (as it runs) against OPA, measured in this same run: the issue's targets."""
    new = next((o for o in outcomes if o.label == "new"), None)
    opa = next((o for o in outcomes if o.label == "opa"), None)
    if new is None:
        return
    print("\nserve as it runs, this run:")
    print(f"  p99 of each round: {', '.join(f'{r.p99:.2f}' for r in new.rounds)} ms")
    print(f"  first decision {new.ready:.1f} s after launch")
    if opa is None or new.peak is None or opa.peak is None:
        return
    throughput = _rate(new.median) / _rate(opa.median)
    print(
        f"  peak memory {new.peak} MiB against OPA's {opa.peak} MiB: "
        f"{new.peak / opa.peak:.2f}x (registry checks apart: serve's child {_mib(new.check_peak)} "
        f"MiB, OPA's bundle build {_mib(opa.check_peak)} MiB)"
    )
    print(
        f"  decisions/s (median rounds) {_rate(new.median):,.0f} against OPA's "
        f"{_rate(opa.median):,.0f}: {throughput:.2f}x; OPA's first decision "
        f"{opa.ready:.1f} s after launch (its bundle took {opa.check_seconds or 0:.1f} s to build)"
    )


def _rate(figures: Figures) -> float:
    return figures.calls / figures.wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--calls", type=int, default=5_000)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3, help="loads per server (median shown)")
    parser.add_argument("--max-seconds", type=float, default=120)
    parser.add_argument("--only", choices=["old", "new", "opa"], default=None)
    parser.add_argument(
        "--legacy-serve", nargs=3, metavar=("REGISTRY", "PORT", "AUDIT_LOG"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.legacy_serve:
        registry, port, audit_log = args.legacy_serve
        legacy_serve(Path(registry), int(port), Path(audit_log))
        return
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory(prefix="cctv-authz-") as tmp:
        registry = Path(tmp) / "registry"
        questions = generate(registry, args.requests, 2000, 500)
        rng = random.Random(9)
        work = [rng.choice(questions) for _ in range(args.calls)]
        allowed = sum(expected for _, expected in work)
        print(
            f"registry: {args.requests} approved requests; {len(work)} calls, {allowed} of "
            "them allowed, each with an input.now the server must ignore"
        )
        outcomes: list[Outcome] = []
        if args.only in (None, "old"):
            if legacy_source() is None:
                print("old: skipped (no git history with the old server)")
            else:
                port, log = free_port(), Path(tmp) / "old-audit.jsonl"
                measure(
                    "old",
                    [
                        sys.executable,
                        __file__,
                        "--legacy-serve",
                        str(registry),
                        str(port),
                        str(log),
                    ],
                    port,
                    log,
                    work,
                    args,
                )
        if args.only in (None, "new"):
            for label, go_env in NEW_SERVER_SETTINGS:
                port, log = free_port(), Path(tmp) / f"new-audit-{len(go_env)}.jsonl"
                outcome = measure(
                    label,
                    [
                        str(REPO / ".venv/bin/cctv-policy"),
                        "serve",
                        "--registry",
                        str(registry),
                        "--port",
                        str(port),
                        "--audit-log",
                        str(log),
                    ],
                    port,
                    log,
                    work,
                    args,
                    env=go_env,
                )
                outcomes.append(outcome)
        if args.only in (None, "opa"):
            opa = measure_opa(registry, Path(tmp), work, args)
            outcomes += [opa] if opa else []
        closing_note(outcomes)


if __name__ == "__main__":
    main()
